"""单位明细's grid as shown: Chinese headings and each month's cell coloured by its status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import limits, text

COLORS = {
    "met": "background-color: #dcedc8",
    "below": "background-color: #fff3c4",
    "none": "background-color: #ffcdd2",
    "inactive": "color: #9e9e9e",
}
HEADINGS = {
    "code": "单位编码",
    "name": "单位名称",
    "type": "类型",
    "town": "所属乡镇",
    "held": "合计开展",
    "required": "合计任务",
}


def show(grid: pd.DataFrame, status: pd.DataFrame, *, months: list[str], end: str) -> None:
    """The units of `grid` in its order (the first limits.ROWS_SHOWN of them), with a caption."""
    total = len(grid)
    grid = limits.first_rows(grid)
    shown = text.table(grid).rename(columns={**HEADINGS, "streak": f"连续未达标（至{end}）"})
    colours = status.loc[grid.index].map(COLORS.get)
    styled = shown.style.apply(lambda part: colours.loc[part.index, part.columns], axis=None, subset=months)
    st.caption(
        f"共 {total} 个单位。绿色：达标；黄色：未达标；红色：未开展；灰色：未启用。格中数字为当月开展场次。"
        + limits.left_out(total, narrow="可在侧边栏选择乡镇（街道）或在上方搜索单位缩小范围")
    )
    st.dataframe(styled, hide_index=True, height=min(640, 36 * len(grid) + 40))
