"""How much of a long table a page draws.

A province holds some 30,000 units: more than pandas' Styler colours (it refuses a table of over
262,144 cells, which stopped 单位明细 and 本月进度 for a province's reviewers) and more than anyone
reads on a screen. A long table shows its first ROWS_SHOWN rows in the order chosen and says how
many there are in all; the township filter and the search narrow it.
"""

from __future__ import annotations

import pandas as pd

ROWS_SHOWN = 300


def first_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows a page draws of `frame`: its first ROWS_SHOWN."""
    return frame.head(ROWS_SHOWN)


def left_out(total: int, *, narrow: str = "可在侧边栏选择乡镇（街道）缩小范围") -> str:
    """The words under a table of `total` rows cut to ROWS_SHOWN, with how the page narrows it;
    "" when none is left out."""
    if total <= ROWS_SHOWN:
        return ""
    return f"表中只列出前 {ROWS_SHOWN} 个（共 {total} 个），{narrow}。"
