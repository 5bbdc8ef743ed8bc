"""本月进度's tables: Chinese headings, a plain-word status, and the unfinished rows coloured."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from monitor.core.config import TYPE_LABELS
from ui import limits, text

STATUS = {"none": "未开展", "below": "未完成", "met": "已完成"}
COLORS = {"none": "background-color: #ffcdd2", "below": "background-color: #fff3c4", "met": ""}
# Narrow columns so the table stays readable on a 390 px phone; the unit's name stays in view.
COLUMNS = {
    "单位名称": st.column_config.TextColumn(pinned=True),
    "类型": st.column_config.TextColumn(width="small"),
    "还差": st.column_config.NumberColumn(width="small"),
    "状态": st.column_config.TextColumn(width="small"),
}


def unit_table(frame: pd.DataFrame, *, when: str = "本月", streak: bool = False) -> Styler:
    """Units of monitor.figures.progress as shown. On a phone the pinned name and what it still owes come first."""
    frame = frame.reset_index(drop=True)
    table = text.table(
        pd.DataFrame(
            {
                "单位名称": frame["name"],
                "还差": frame["owed"],
                "状态": frame["status"].map(STATUS),
                **({"已连续未达标（月）": frame["streak"]} if streak else {}),
                f"{when}已开展": frame["held"],
                f"{when}任务": frame["quota"],
                "类型": frame["type"].map(TYPE_LABELS),
                "所属乡镇": frame["town"],
                "负责人": frame["head"],
                "联系电话": frame["phone"],
            }
        )
    )
    colours = frame["status"].map(COLORS).fillna("").to_numpy()
    # Every cell of a row in its status's colour, given as one frame: applied row by row, pandas
    # built a Series per row, most of the table's drawing time.
    css = pd.DataFrame(dict.fromkeys(table.columns, colours), index=table.index)
    return table.style.apply(lambda _: css, axis=None)


def day(moment: date) -> str:
    """date(2026, 7, 5) -> '7月5日', as the department writes a deadline."""
    return f"{moment.month}月{moment.day}日"


def show(frame: pd.DataFrame, **options: object) -> None:
    """The units of `frame` in its order (the first limits.ROWS_SHOWN of them)."""
    shown = limits.first_rows(frame)
    st.dataframe(unit_table(shown, **options), hide_index=True, column_config=COLUMNS)  # type: ignore[arg-type]
    if len(shown) < len(frame):
        st.caption(limits.left_out(len(frame)))
