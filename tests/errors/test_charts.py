"""The server-side SVG charts."""

from datetime import date

import pytest

from errors import charts


@pytest.mark.parametrize(("n", "fraction"), [(0, 0.0), (10, 0.5), (90, 0.9), (1, 1 / 11)])
def test_radius_is_n_over_n_plus_10(n, fraction):
    assert charts.radius_fraction(n) == pytest.approx(fraction)


def test_top_slices_keep_the_biggest_and_sum_the_rest():
    split = {"a": 1, "b": 9, "c": 5, "d": 2, "e": 2, "f": 3}
    assert charts.top_slices(split, 3) == [("b", 9), ("c", 5), ("4 others", 8)]
    assert charts.top_slices({"x": 2, "y": 2}, 3) == [("x", 2), ("y", 2)]  # ties by label


def test_a_pie_escapes_its_labels_and_gives_the_biggest_slice_the_first_colour():
    svg = charts.pie_svg('<b>"site"</b>', [("<i>", 3), ("84", 1)], 4)
    assert "<b>" not in svg and "<i>" not in svg
    assert "&lt;b&gt;&quot;site&quot;&lt;/b&gt;: 4 errors\n&lt;i&gt;: 3 (75%)\n84: 1 (25%)" in svg
    assert svg.index('class="s0"') < svg.index('class="s1"')


def test_the_others_slice_is_grey_and_a_cell_without_errors_is_empty():
    cell = charts.pie_cell("T2_CH_CERN", {str(code): 1 for code in range(7)}, None)
    assert cell.count("<path") == charts.MAX_SLICES and 'class="so"' in cell
    assert charts.pie_cell("T2_CH_CERN", {}, "/x") == "<td></td>"


def test_line_chart_has_a_point_with_a_tooltip_per_day_and_series():
    days = [date(2026, 11, 23), date(2026, 11, 24)]
    svg = charts.line_chart(days, [("<50660>", [3, 7]), ("84", [0, 1])])
    assert svg.count("<circle") == 4
    assert "&lt;50660&gt; on 2026-11-24: 7 errors" in svg
    assert "<50660>" not in svg


def test_the_rest_is_named_in_the_legend_but_does_not_flatten_the_lines():
    days = [date(2026, 11, 23), date(2026, 11, 24)]
    svg = charts.line_chart(days, [("84", [3, 7])], rest=("17 others", [900, 1000]))
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 2
    assert "+ 17 others: 1000</text>" in svg and "not drawn" in svg
    assert ">7</text>" in svg  # the y axis tops at the drawn lines' peak, not the rest's
