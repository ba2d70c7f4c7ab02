"""The charting module (partners.charts): each kind of chart is well-formed SVG, escapes every
label, draws to scale, says when it has nothing to draw, and carries its numbers as a table."""

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from django.utils import translation

from partners.charts import Chart, Series, bar_chart, line_chart, ratio_gauge, stacked_bar_chart
from partners.charts.base import nice_scale

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \"Co\""


def parsed(chart: Chart) -> ET.Element:
    # Raises on anything that is not well-formed XML; the markup is our own, not untrusted.
    root = ET.fromstring(str(chart.svg))  # noqa: S314
    assert root.tag == f"{SVG}svg"
    return root


def all_of(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{SVG}{tag}")
    return [e for e in found if cls is None or e.get("class") == cls]


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter() if e.tag in (f"{SVG}text", f"{SVG}title")]


def every_chart(label: str) -> list[Chart]:
    return [
        bar_chart(title=label, labels=[label, "b"], values=[3, 1]),
        stacked_bar_chart(
            title=label, labels=[label, "b"], series=[Series(label, [1, 2]), Series("y", [1, 0])]
        ),
        stacked_bar_chart(
            title=label,
            labels=[label, "b"],
            series=[Series(label, [1, 2]), Series("y", [1, 0])],
            horizontal=True,
        ),
        line_chart(title=label, labels=[label, "b"], series=[Series(label, [1, 2])]),
        ratio_gauge(title=label, part=1, whole=2, part_label=label, whole_label="all"),
    ]


def test_every_chart_is_well_formed_svg_with_its_title() -> None:
    for chart in every_chart("Members"):
        root = parsed(chart)
        assert root.find(f"{SVG}title") is not None
        assert root.find(f"{SVG}title").text == "Members"  # type: ignore[union-attr]
        assert root.get("role") == "img"
        assert float(root.get("width", 0)) > 0
        assert float(root.get("height", 0)) > 0
        assert not chart.empty


def test_labels_are_escaped_everywhere_they_appear() -> None:
    for chart in every_chart(HOSTILE):
        root = parsed(chart)  # an unescaped "<" or "&" would not parse
        assert not all_of(root, "script")
        assert HOSTILE in texts(root)  # read back as it was given: escaped, not mangled
        html = chart.as_html()
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


def test_bars_are_proportional_to_their_values() -> None:
    root = parsed(bar_chart(title="t", labels=["a", "b", "c"], values=[200, 100, 50]))
    widths = [float(r.get("width", 0)) for r in all_of(root, "rect")]
    assert widths[0] > 0
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.1)
    assert widths[2] == pytest.approx(widths[0] / 4, abs=0.1)


def test_stacked_segments_are_proportional_and_a_zero_draws_nothing() -> None:
    chart = stacked_bar_chart(
        title="t",
        labels=["Nov", "Dec"],
        series=[Series("granted", [30, 10]), Series("withdrawn", [10, 0])],
    )
    segments = all_of(parsed(chart), "rect", "segment")
    heights = [float(r.get("height", 0)) for r in segments]
    assert len(heights) == 3  # the December withdrawal is zero: no segment
    granted_nov, withdrawn_nov, granted_dec = heights
    assert withdrawn_nov == pytest.approx(granted_nov / 3, abs=0.1)
    assert granted_dec == pytest.approx(granted_nov / 3, abs=0.1)
    # Stacked: the withdrawal sits on top of the grant, in the same column.
    nov_granted, nov_withdrawn = segments[0], segments[1]
    assert nov_granted.get("x") == nov_withdrawn.get("x")
    top_of_granted = float(nov_granted.get("y", 0))
    bottom_of_withdrawn = float(nov_withdrawn.get("y", 0)) + withdrawn_nov
    assert bottom_of_withdrawn == pytest.approx(top_of_granted, abs=0.2)


def test_line_points_are_placed_to_scale() -> None:
    chart = line_chart(title="t", labels=["a", "b", "c"], series=[Series("s", [0, 50, 100])])
    points = all_of(parsed(chart), "circle", "point")
    ys = [float(p.get("cy", 0)) for p in points]
    assert ys[0] > ys[1] > ys[2]  # larger values higher up
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.2)


def test_the_gauge_fills_to_the_ratio_and_writes_the_percentage() -> None:
    chart = ratio_gauge(title="t", part=3, whole=4, part_label="ok", whole_label="all")
    root = parsed(chart)
    meter = all_of(root, "rect", "meter")[0]
    fill = all_of(root, "rect", "meter-fill")[0]
    ratio = float(fill.get("width", 0)) / float(meter.get("width", 1))
    assert ratio == pytest.approx(0.75, abs=0.01)
    assert "75.0%" in texts(root)
    assert chart.table.rows[-1][1] == ("75.0%",)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: bar_chart(title="t", labels=[], values=[]),
        lambda: bar_chart(title="t", labels=["a"], values=[0]),
        lambda: stacked_bar_chart(title="t", labels=["a"], series=[Series("s", [0])]),
        lambda: line_chart(title="t", labels=[], series=[]),
        lambda: ratio_gauge(title="t", part=0, whole=0, part_label="ok", whole_label="all"),
    ],
    ids=["bars of nothing", "bars of zero", "stacked zero", "no lines", "gauge of nothing"],
)
def test_a_chart_of_nothing_says_so(draw: Callable[[], Chart]) -> None:
    chart = draw()  # in the test, so in the test's language
    root = parsed(chart)
    assert chart.empty
    assert "Nothing to show." in texts(root)
    assert not all_of(root, "rect")


def test_the_table_holds_every_number_formatted_for_the_language() -> None:
    chart = stacked_bar_chart(
        title="t",
        labels=["2026年11月", "2026年12月"],
        series=[Series("granted", [1234, 5]), Series("withdrawn", [0, 7])],
        label_header="Month",
    )
    assert chart.table.headers == ("Month", "granted", "withdrawn")
    assert chart.table.rows == (("2026年11月", ("1,234", "0")), ("2026年12月", ("5", "7")))
    html = chart.as_html()
    assert "<th scope='row'>2026年11月</th><td>1,234</td><td>0</td>" in html
    assert "<figcaption>t</figcaption>" in html


def test_the_words_a_chart_adds_are_translated() -> None:
    with translation.override("ja"):
        empty = bar_chart(title="t", labels=[], values=[])
        gauge = ratio_gauge(title="t", part=1, whole=2, part_label="成功", whole_label="完了")
    assert "Nothing to show." not in str(empty.svg)
    assert "Share" not in gauge.as_html()


def test_series_must_have_one_value_per_label() -> None:
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        stacked_bar_chart(title="t", labels=["a", "b"], series=[Series("s", [1])])
    with pytest.raises(ValueError, match="must lie between"):
        ratio_gauge(title="t", part=3, whole=2, part_label="a", whole_label="b")


@pytest.mark.parametrize(
    ("top", "expected"),
    [(0, (4, 1)), (1, (4, 1)), (6, (8, 2)), (37, (40, 10)), (100, (100, 25)), (2345, (4000, 1000))],
)
def test_axes_end_on_round_numbers(top: int, expected: tuple[float, float]) -> None:
    assert nice_scale(top) == expected
