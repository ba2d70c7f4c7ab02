"""The frame of the charts drawn over an axis of periods (columns, lines): a value axis with
round grid lines on the left, the period labels under the plot, the legend above it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString

from partners.charts.base import (
    AXIS_COLOUR,
    GRID_COLOUR,
    WIDTH,
    Number,
    Series,
    coordinate,
    figure,
    joined,
    legend,
    nice_scale,
    shortened,
    text,
    text_width,
)

LEFT = 44  # room for the value axis' labels
RIGHT = 12
TOP = 32  # room for the legend
PLOT_HEIGHT = 200
BOTTOM = 28  # room for the period labels
HEIGHT = TOP + PLOT_HEIGHT + BOTTOM


@dataclass(frozen=True)
class Frame:
    """Where things go: ``x`` of the centre of the i-th period's slot, ``y`` of a value, and
    the width of a slot; ``markup`` is the grid, the axis labels and the legend."""

    slot: float
    x: Callable[[int], float]
    y: Callable[[Number], float]
    markup: SafeString


def frame(*, labels: Sequence[str], series: Sequence[Series], top: Number) -> Frame:
    """The frame for ``labels`` (periods, left to right) and values up to ``top``."""
    axis_top, step = nice_scale(top)
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(labels), 1)
    bottom = TOP + PLOT_HEIGHT

    def x(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    def y(value: Number) -> float:
        return bottom - PLOT_HEIGHT * max(value, 0) / axis_top

    parts = [legend(series, y=14, x=LEFT)]
    for tick in range(round(axis_top / step) + 1):
        value = tick * step
        parts.append(
            format_html(
                "<line x1='{}' x2='{}' y1='{y}' y2='{y}' stroke='{}' stroke-width='1'/>",
                LEFT,
                WIDTH - RIGHT,
                AXIS_COLOUR if tick == 0 else GRID_COLOUR,
                y=coordinate(y(value)),
            )
        )
        parts.append(text(LEFT - 6, y(value) + 4, figure(value), anchor="end"))
    parts.extend(_period_labels(labels, x=x, slot=slot, y=bottom + 18))
    return Frame(slot=slot, x=x, y=y, markup=joined(parts))


def _period_labels(
    labels: Sequence[str], *, x: Callable[[int], float], slot: float, y: float
) -> list[SafeString]:
    """Every n-th label, n chosen so that the labels shown do not overlap; the last one is
    always shown (the newest period is the one people look for)."""
    if not labels:
        return []
    widest = max(text_width(shortened(label, 80)) for label in labels) + 8
    every = max(1, math.ceil(widest / slot))
    shown = {index for index in range(len(labels)) if (len(labels) - 1 - index) % every == 0}
    return [
        text(x(index), y, shortened(label, 80), anchor="middle")
        for index, label in enumerate(labels)
        if index in shown
    ]
