"""A ratio: a part of a whole (deliveries that succeeded of those that finished) as a filled
meter with its percentage."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext

from partners.charts.base import (
    AXIS_COLOUR,
    GRID_COLOUR,
    WIDTH,
    Chart,
    Number,
    Table,
    colour,
    coordinate,
    document,
    empty_drawing,
    figure,
    percent,
    text,
    tooltip,
)

METER_HEIGHT = 24
HEIGHT = 72


def ratio_gauge(
    *, title: str, part: Number, whole: Number, part_label: str, whole_label: str
) -> Chart:
    """A meter filled to ``part / whole``, the percentage written over it and the two figures
    under it. ``part_label`` and ``whole_label`` name them in the table ("Succeeded",
    "Finished"). With no whole (nothing to measure) it says so rather than showing 0%.
    Raises ValueError when the part is negative or exceeds the whole."""
    if part < 0 or part > whole:
        raise ValueError(f"the part ({part}) must lie between 0 and the whole ({whole})")
    share = percent(part, whole)
    table = Table(
        headers=("", gettext("Figure")),
        rows=(
            (part_label, (figure(part),)),
            (whole_label, (figure(whole),)),
            (gettext("Share"), (share,)),
        ),
    )
    if whole == 0:
        return Chart(title=title, svg=empty_drawing(title=title), table=table, empty=True)
    filled = (WIDTH - 2) * part / whole
    body = format_html(
        "<rect class='meter' x='1' y='1' width='{}' height='{}' fill='{}' stroke='{}'/>"
        "<rect class='meter-fill' x='1' y='1' width='{}' height='{}' fill='{}'>{}</rect>{}{}",
        WIDTH - 2,
        METER_HEIGHT,
        GRID_COLOUR,
        AXIS_COLOUR,
        coordinate(filled),
        METER_HEIGHT,
        colour(2),
        tooltip(f"{part_label}: {figure(part)}"),
        text(WIDTH / 2, METER_HEIGHT - 6, share, anchor="middle", extra="font-weight='bold'"),
        text(
            0,
            METER_HEIGHT + 30,
            gettext("%(part_label)s %(part)s of %(whole_label)s %(whole)s")
            % {
                "part_label": part_label,
                "part": figure(part),
                "whole_label": whole_label,
                "whole": figure(whole),
            },
        ),
    )
    svg = document(title=title, height=HEIGHT, body=body)
    return Chart(title=title, svg=svg, table=table, empty=False)
