"""Line charts: several series over the same labels, usually periods of time."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.translation import gettext

from partners.charts import axes
from partners.charts.base import (
    Chart,
    Series,
    check_lengths,
    colour,
    coordinate,
    document,
    empty_drawing,
    figure,
    joined,
    nothing_to_draw,
    tooltip,
    values_table,
)


def line_chart(
    *, title: str, labels: Sequence[str], series: Sequence[Series], label_header: str = ""
) -> Chart:
    """Each series as a line through its values, one point per label (left to right), on a
    value axis from zero; each point carries its value as a tooltip, and the table holds
    them all. Raises ValueError when a series has not one value per label."""
    check_lengths(labels, series)
    table = values_table(label_header, labels, series)
    if nothing_to_draw(series) or not labels:
        return Chart(title=title, svg=empty_drawing(title=title), table=table, empty=True)
    frame = axes.frame(labels=labels, series=series, top=max(max(one.values) for one in series))
    parts = [frame.markup]
    for index, one in enumerate(series):
        points = [(frame.x(i), frame.y(value)) for i, value in enumerate(one.values)]
        parts.append(
            format_html(
                "<polyline class='line' points='{}' fill='none' stroke='{}' stroke-width='2'/>",
                " ".join(f"{coordinate(x)},{coordinate(y)}" for x, y in points),
                colour(index),
            )
        )
        parts.extend(
            format_html(
                "<circle class='point' cx='{}' cy='{}' r='3' fill='{}'>{}</circle>",
                coordinate(x),
                coordinate(y),
                colour(index),
                tooltip(
                    gettext("%(label)s, %(series)s: %(value)s")
                    % {"label": label, "series": one.name, "value": figure(value)}
                ),
            )
            for (x, y), label, value in zip(points, labels, one.values, strict=True)
        )
    svg = document(title=title, height=axes.HEIGHT, body=joined(parts))
    return Chart(title=title, svg=svg, table=table, empty=False)
