"""Bar charts: one value per label as horizontal bars, and several series per label stacked,
as columns over periods or as horizontal bars over categories."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from partners.charts import axes
from partners.charts.base import (
    WIDTH,
    Chart,
    Number,
    Series,
    check_lengths,
    colour,
    coordinate,
    document,
    empty_drawing,
    figure,
    joined,
    legend,
    nothing_to_draw,
    shortened,
    text,
    tooltip,
    values_table,
)

LABEL_WIDTH = 150  # the labels' column, left of the bars
VALUE_WIDTH = 48  # room for the value right of the longest bar
ROW = 26
BAR = 16
BAR_TOP = 8


def _label(label: str, y: float) -> SafeString:
    """A bar's label, right-aligned against the bars and cut short to fit its column."""
    return text(LABEL_WIDTH - 8, y + BAR - 4, shortened(label, LABEL_WIDTH - 12), anchor="end")


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    label_header: str = "",
    value_header: str = "",
) -> Chart:
    """Horizontal bars, one per label, their lengths proportional to ``values`` (the longest
    bar is the largest value), each value written after its bar.

    ``label_header`` and ``value_header`` name the table's columns (the value column is
    named by ``title`` when not given). Raises ValueError when the lengths differ."""
    series = [Series(value_header or title, values)]
    check_lengths(labels, series)
    table = values_table(label_header, labels, series)
    if nothing_to_draw(series):
        return Chart(title=title, svg=empty_drawing(title=title), table=table, empty=True)
    top = max(values)
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / top
    rows = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = BAR_TOP + index * ROW
        length = max(value, 0) * scale
        rows.append(
            format_html(
                "<g class='bar'>{}{}<rect x='{}' y='{}' width='{}' height='{}' fill='{}'/>{}</g>",
                tooltip(f"{label}: {figure(value)}"),
                _label(label, y),
                LABEL_WIDTH,
                y,
                coordinate(length),
                BAR,
                colour(0),
                text(LABEL_WIDTH + length + 6, y + BAR - 4, figure(value)),
            )
        )
    height = BAR_TOP * 2 + len(labels) * ROW
    svg = document(title=title, height=height, body=joined(rows))
    return Chart(title=title, svg=svg, table=table, empty=False)


def stacked_bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    label_header: str = "",
    horizontal: bool = False,
) -> Chart:
    """For each label, the values of every series stacked in one bar: columns over an axis
    of periods (labels left to right), or with ``horizontal`` bars over categories (labels
    top to bottom). Each segment's height (length) is proportional to its value; the legend
    names the series by colour, and the table holds every value.

    Raises ValueError when a series has not one value per label."""
    check_lengths(labels, series)
    table = values_table(label_header, labels, series)
    if nothing_to_draw(series):
        return Chart(title=title, svg=empty_drawing(title=title), table=table, empty=True)
    totals = [sum(max(one.values[i], 0) for one in series) for i in range(len(labels))]
    if horizontal:
        body, height = _stacked_rows(labels, series, totals)
    else:
        body, height = _stacked_columns(labels, series, totals)
    svg = document(title=title, height=height, body=body)
    return Chart(title=title, svg=svg, table=table, empty=False)


def _segment(
    label: str, one: Series, index: int, value: Number, box: tuple[float, ...]
) -> SafeString:
    x, y, width, height = box
    return format_html(
        "<rect class='segment' x='{}' y='{}' width='{}' height='{}' fill='{}'>{}</rect>",
        coordinate(x),
        coordinate(y),
        coordinate(width),
        coordinate(height),
        colour(index),
        tooltip(
            gettext("%(label)s, %(series)s: %(value)s")
            % {"label": label, "series": one.name, "value": figure(value)}
        ),
    )


def _stacked_columns(
    labels: Sequence[str], series: Sequence[Series], totals: list[Number]
) -> tuple[SafeString, float]:
    frame = axes.frame(labels=labels, series=series, top=max(totals))
    width = frame.slot * 0.7
    parts = [frame.markup]
    for position, label in enumerate(labels):
        below: Number = 0
        for index, one in enumerate(series):
            value = max(one.values[position], 0)
            if value == 0:
                continue
            top, bottom = frame.y(below + value), frame.y(below)
            box = (frame.x(position) - width / 2, top, width, bottom - top)
            parts.append(_segment(label, one, index, value, box))
            below += value
    return joined(parts), axes.HEIGHT


def _stacked_rows(
    labels: Sequence[str], series: Sequence[Series], totals: list[Number]
) -> tuple[SafeString, float]:
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max(totals)
    legend_room = 24
    parts = [legend(series, y=14, x=LABEL_WIDTH)]
    for position, label in enumerate(labels):
        y = legend_room + BAR_TOP + position * ROW
        parts.append(_label(label, y))
        left: float = LABEL_WIDTH
        for index, one in enumerate(series):
            value = max(one.values[position], 0)
            if value == 0:
                continue
            parts.append(_segment(label, one, index, value, (left, y, value * scale, BAR)))
            left += value * scale
        parts.append(text(left + 6, y + BAR - 4, figure(totals[position])))
    return joined(parts), legend_room + BAR_TOP * 2 + len(labels) * ROW
