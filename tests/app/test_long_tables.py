"""A province's long tables on screen: 30,000 units are drawn as their first rows, coloured, with the count.

pandas' Styler refuses a table of over 262,144 cells; before the cut, 单位明细 and 本月进度 stopped
with an error for a province's reviewers. These tests draw the real page parts on tables of that
size, built in the script (no database: the figures are tested elsewhere).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

UNITS = 30_000
CUT = f"表中只列出前 300 个（共 {UNITS} 个），可在侧边栏选择乡镇（街道）缩小范围。"
CUT_SEARCHABLE = f"表中只列出前 300 个（共 {UNITS} 个），可在侧边栏选择乡镇（街道）或在上方搜索单位缩小范围。"


def _progress_table() -> None:
    import pandas as pd

    from ui import progress

    n = 30_000
    progress.show(
        pd.DataFrame(
            {
                "name": [f"第{i}村新时代文明实践站" for i in range(n)],
                "owed": [2 - i % 3 for i in range(n)],
                "status": [("none", "below", "met")[i % 3] for i in range(n)],
                "held": [i % 3 for i in range(n)],
                "quota": [2] * n,
                "type": ["station"] * n,
                "town": [f"第{i // 15}镇" for i in range(n)],
                "head": ["王站长"] * n,
                "phone": ["13800000000"] * n,
            }
        )
    )


def _unit_grid() -> None:
    import pandas as pd

    from ui import unit_grid

    n, months = 30_000, [f"2025-{m:02d}" for m in range(1, 13)]
    grid = pd.DataFrame(
        {
            "code": [f"T{i // 15:04d}-{i % 15:03d}" for i in range(n)],
            "name": [f"第{i}村新时代文明实践站" for i in range(n)],
            "type": ["站"] * n,
            "town": [f"第{i // 15}镇" for i in range(n)],
            "streak": [i % 13 for i in range(n)],
            "held": [i % 30 for i in range(n)],
            "required": [24] * n,
            **{month: [i % 4 for i in range(n)] for month in months},
        }
    ).sort_values("streak", ascending=False)
    status = pd.DataFrame({month: ["below"] * n for month in months}, index=range(n)).loc[grid.index]
    unit_grid.show(grid, status, months=months, end="2025-12")


def test_a_province_of_units_on_this_months_progress_is_drawn_in_part():
    at = AppTest.from_function(_progress_table, default_timeout=60).run()
    assert not at.exception, [x.value for x in at.exception]
    (table,) = at.dataframe
    assert len(table.value) == 300
    assert table.value["还差"].tolist()[:3] == [2, 1, 0]  # in the order given
    assert [c.value for c in at.caption] == [CUT]


def test_a_province_of_units_on_the_unit_grid_is_drawn_in_part_in_its_order():
    at = AppTest.from_function(_unit_grid, default_timeout=60).run()
    assert not at.exception, [x.value for x in at.exception]
    (table,) = at.dataframe
    assert len(table.value) == 300
    assert table.value["连续未达标（至2025-12）"].tolist()[:2] == [12, 12]  # the longest runs first
    (caption,) = [c.value for c in at.caption]
    assert caption.startswith(f"共 {UNITS} 个单位。") and caption.endswith(CUT_SEARCHABLE)
