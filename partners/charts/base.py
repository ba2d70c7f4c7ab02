"""What every chart shares: the ``Chart`` it returns, its ``Table`` of numbers, the ``Series``
it is given, and the pieces of SVG (document, text, axis, legend) the kinds of chart draw with.

Every piece of text reaches the markup through ``format_html`` or ``escape``; nothing a caller
passes is ever marked safe as it is."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

Number = int | float

WIDTH = 480  # the viewBox width: the SVG scales to its container, text near 12px in a panel
FONT_SIZE = 12
# Okabe and Ito's palette, which readers with any common colour-vision deficiency can tell
# apart, with grey for its black (which the dark theme would hide); a series beyond the eighth
# takes the first colour again (and is named in the legend).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
    "#7F7F7F",
)
AXIS_COLOUR = "#8a8a8a"
GRID_COLOUR = "#d9d9d9"


@dataclass(frozen=True)
class Series:
    """Named values, one per label of the chart, in the labels' order."""

    name: str
    values: Sequence[Number]


@dataclass(frozen=True)
class Table:
    """A chart's numbers as text: ``headers`` name the label column and then each value
    column; each row is a label and its values, formatted in the active language."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]

    def as_html(self, *, caption: str = "") -> SafeString:
        head = format_html_join("", "<th scope='col'>{}</th>", ((h,) for h in self.headers))
        body = format_html_join(
            "",
            "<tr><th scope='row'>{}</th>{}</tr>",
            (
                (label, format_html_join("", "<td>{}</td>", ((value,) for value in values)))
                for label, values in self.rows
            ),
        )
        return format_html(
            "<table class='sanpo-chart-table'>{}<thead><tr>{}</tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html("<caption>{}</caption>", caption) if caption else "",
            head,
            body,
        )


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its title, the ``<svg>`` element, and the same numbers as a ``Table``.
    In a template, ``{{ chart }}`` renders all three in a ``<figure>``."""

    title: str
    svg: SafeString
    table: Table
    empty: bool

    def as_html(self) -> SafeString:
        caption = gettext("Figures: %(title)s") % {"title": self.title}
        return format_html(
            "<figure class='sanpo-chart'><figcaption>{}</figcaption>{}"
            "<div class='sanpo-chart-figures'>{}</div></figure>",
            self.title,
            self.svg,
            self.table.as_html(caption=caption) if self.table.rows else "",
        )

    def __html__(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_html()


def figure(value: Number) -> str:
    """A count as the active language writes it: grouped thousands (1,234)."""
    if isinstance(value, float) and not value.is_integer():
        return number_format(value, decimal_pos=1, use_l10n=True, force_grouping=True)
    return number_format(int(value), use_l10n=True, force_grouping=True)


def percent(part: Number, whole: Number) -> str:
    """``part`` of ``whole`` as a percentage with one decimal (97.5%), or "—" of nothing."""
    if whole <= 0:
        return "—"
    value = number_format(100 * part / whole, decimal_pos=1, use_l10n=True)
    return gettext("%(value)s%%") % {"value": value}


def coordinate(value: float) -> str:
    """A coordinate for an SVG attribute: at most one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def text_width(content: str) -> float:
    """Roughly how wide ``content`` is drawn, to place what follows it: a full-width
    (Japanese) character takes about twice the room of a Latin one."""
    return sum(FONT_SIZE if ord(char) >= 0x2E80 else FONT_SIZE * 0.6 for char in content)


def shortened(label: str, room: float) -> str:
    """``label``, cut short with an ellipsis where it would be drawn wider than ``room``; the
    whole label is in the chart's tooltip and table."""
    if text_width(label) <= room:
        return label
    while label and text_width(label + "…") > room:
        label = label[:-1]
    return label + "…"


def nice_scale(top: Number, ticks: int = 4) -> tuple[float, float]:
    """The axis' upper end (at least ``top``) and its step: round numbers (1, 2, 2.5 or 5
    times a power of ten), so that the grid lines read 0, 25, 50, 75, 100 rather than 0, 23,
    46. Steps are whole numbers, since what Sanpo charts are counts; a chart of nothing still
    gets an axis, to ``ticks``."""
    raw = max(top, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = float(power)
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * power
        if step * ticks >= top:
            break
    step = float(max(math.ceil(step), 1))
    return step * ticks, step


def document(*, title: str, height: float, body: SafeString, width: float = WIDTH) -> SafeString:
    """An ``<svg>`` document with its accessible name (``<title>``, which browsers also show
    as a tooltip); it fills its container's width and keeps its proportions."""
    return format_html(
        "<svg xmlns='http://www.w3.org/2000/svg' class='sanpo-chart-svg' role='img' "
        "viewBox='0 0 {w} {h}' width='{w}' height='{h}' preserveAspectRatio='xMinYMin meet' "
        "font-family='sans-serif' font-size='{font}'><title>{title}</title>{body}</svg>",
        w=coordinate(width),
        h=coordinate(height),
        font=FONT_SIZE,
        title=title,
        body=body,
    )


def text(x: float, y: float, content: str, *, anchor: str = "start", extra: str = "") -> SafeString:
    """A line of text in the text colour of the page (light and dark themes alike)."""
    return format_html(
        "<text x='{}' y='{}' text-anchor='{}' fill='currentColor'{}>{}</text>",
        coordinate(x),
        coordinate(y),
        anchor,
        mark_safe(f" {extra}") if extra else "",  # noqa: S308 - extra is ours, never a label
        content,
    )


def tooltip(content: str) -> SafeString:
    return format_html("<title>{}</title>", content)


def empty_drawing(*, title: str) -> SafeString:
    """What a chart with nothing to draw shows: a short box that says so."""
    return document(
        title=title,
        height=48,
        body=text(WIDTH / 2, 28, gettext("Nothing to show."), anchor="middle"),
    )


def legend(series: Sequence[Series], *, y: float, x: float = 0) -> SafeString:
    """A swatch and the name of each series, in a row from ``x``."""
    items = []
    for index, one in enumerate(series):
        name = shortened(one.name, 120)
        items.append(
            format_html(
                "<g class='legend-item'><rect x='{}' y='{}' width='10' height='10' fill='{}'/>{}"
                "</g>",
                coordinate(x),
                coordinate(y - 9),
                PALETTE[index % len(PALETTE)],
                text(x + 14, y, name),
            )
        )
        x += 14 + text_width(name) + 16
    return mark_safe("".join(items))  # noqa: S308 - each item was built by format_html


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def joined(parts: Sequence[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - each part was built by format_html


def check_lengths(labels: Sequence[str], series: Sequence[Series]) -> None:
    """Raises ValueError unless every series has one value per label."""
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(
                f"series {one.name!r} has {len(one.values)} values for {len(labels)} labels"
            )


def values_table(label_header: str, labels: Sequence[str], series: Sequence[Series]) -> Table:
    """The table of a chart of ``series`` over ``labels``: a row per label."""
    return Table(
        headers=(label_header, *(one.name for one in series)),
        rows=tuple(
            (label, tuple(figure(one.values[index]) for one in series))
            for index, label in enumerate(labels)
        ),
    )


def nothing_to_draw(series: Sequence[Series]) -> bool:
    return not any(value > 0 for one in series for value in one.values)
