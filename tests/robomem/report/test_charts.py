"""The report's SVG charts: one bar per value, whiskers for intervals, an axis that covers every value."""

from __future__ import annotations

import re

from robomem.report.charts import _ticks, bar_chart, forest_plot


def test_ticks_cover_the_range() -> None:
    for low, high in ((0.0, 100.0), (-13.08, 13.08), (0.0, 0.37), (2.0, 2.0), (-0.2, 17.5)):
        ticks = _ticks(low, high)
        assert ticks[0] <= low and ticks[-1] >= high, (low, high, ticks)
        assert len(ticks) <= 12


def test_bar_chart_draws_a_bar_per_value_and_a_whisker_per_interval() -> None:
    svg = bar_chart(
        "SR",
        ["base", "spatial"],
        {"full": [(80.0, (60.0, 90.0)), (None, None)], "no_spatial": [(0.0, (0.0, 30.0)), (50.0, None)]},
        top=100,
    )
    assert svg.count('class="bar"') == 3 and svg.count('class="ci"') == 2
    assert "full · base: 80% [60, 90]" not in svg  # no unit given
    assert "full · base: 80 [60, 90]" in svg


def test_forest_plot_keeps_every_interval_inside_the_plot() -> None:
    svg = forest_plot(
        "d", [("a", 10.67, (8.26, 13.08)), ("b", 0.0, (0.0, 0.0)), ("c", None, None)], width=640
    )
    xs = [float(x) for x in re.findall(r'd="M([\d.]+),[\d.]+H([\d.]+)"', svg)[0]]
    assert all(220 <= x <= 620 for x in xs)
    assert svg.count('class="dot"') == 2
