"""Sanpo's one way of drawing charts: server-rendered SVG, made by pure functions from numbers
to markup, each chart carrying its numbers as a table too.

No JavaScript, no CDN: a chart is part of the page's HTML, so it prints, it reads in a test
with an XML parser, its labels are translated with the page, and a screen reader or someone
copying the numbers reads the table under it (README, "Console").

The functions take labels that are already in the reader's language (the caller formats dates
and translates names) and numbers, and return a ``Chart``:

    from partners.charts import Series, bar_chart, line_chart, ratio_gauge, stacked_bar_chart

    chart = bar_chart(title=_("Members per company"), labels=names, values=counts)
    chart.svg      # the <svg> element, SafeString; every label escaped
    chart.table    # Table(headers, rows): the same numbers, formatted for the language
    chart.empty    # True when there was nothing to draw (the SVG then says so)
    {{ chart }}    # in a template: <figure> with the title, the SVG and the table

- ``bar_chart``: one value per label, horizontal bars (long company or purpose names fit).
- ``stacked_bar_chart``: several ``Series`` per label, stacked columns (a time axis) or
  stacked horizontal bars (``horizontal=True``, for categories).
- ``line_chart``: several ``Series`` over the same labels, usually periods of time.
- ``ratio_gauge``: a part of a whole (a success rate), as a filled meter and a percentage.

``figure(n)`` and ``percent(part, whole)`` write numbers as the charts do (1,234; 97.5%), for
the headline numbers a page shows beside its charts.

Numbers are drawn to scale from zero; negative values are drawn as zero, since every figure
Sanpo charts is a count. Colours come from a palette that colour-blind readers can tell apart,
and every series is also named in a legend and in the table's header.
"""

from partners.charts.bars import bar_chart, stacked_bar_chart
from partners.charts.base import Chart, Series, Table, figure, percent
from partners.charts.gauge import ratio_gauge
from partners.charts.lines import line_chart

__all__ = [
    "Chart",
    "Series",
    "Table",
    "bar_chart",
    "figure",
    "line_chart",
    "percent",
    "ratio_gauge",
    "stacked_bar_chart",
]
