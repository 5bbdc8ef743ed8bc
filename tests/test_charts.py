"""The overview's township chart: every township of a district, the lowest of a province."""

from __future__ import annotations

import pandas as pd

from monitor.reports import charts


def _towns(rates: list[float | None]) -> pd.DataFrame:
    return pd.DataFrame({"town": [f"第{i}镇" for i in range(len(rates))], "completion_rate": rates})


def test_a_districts_townships_are_all_charted_the_lowest_at_the_top():
    fig = charts.by_town(_towns([0.9, 1.2, None, 0.5]))
    (bar,) = fig.data
    # Plotly draws the first bar at the bottom: the last one is the top of the chart.
    assert list(bar.y) == ["第1镇", "第0镇", "第3镇", "第2镇"]
    assert fig.layout.title.text == "各乡镇（街道）完成率"


def test_a_provinces_townships_are_charted_the_forty_lowest():
    rates = [(i // 2) / 1000 for i in reversed(range(2_000))]  # 0.999 .. 0.0, two townships at each rate
    fig = charts.by_town(_towns(rates))
    (bar,) = fig.data
    assert len(bar.y) == 40
    assert sorted(bar.x) == [(i // 2) / 1000 * 100 for i in range(40)]  # the forty lowest, two at each rate
    assert list(bar.x) == sorted(bar.x, reverse=True)  # the lowest at the top
    assert fig.layout.title.text == "完成率最低的 40 个乡镇（街道）（共 2000 个）"
    assert fig.layout.height == 26 * 40 + 80
