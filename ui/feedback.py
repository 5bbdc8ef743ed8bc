"""活动反馈 on screen: the table of activities 不予认定, and the one-line notice other pages carry."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor.core.clock import local_text
from monitor.core.labels import town_label
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.evidence.review import feedback
from ui import common
from ui.text import clean, md
from ui.text import table as text_table

HEADINGS = {
    "town": "所属乡镇",
    "name": "单位名称",
    "date": "活动日期",
    "title": "活动名称",
    "reason": "不予认定理由",
    "reviewer": "审核人",
    "decided_at": "认定时间",
    "photos": "照片数",
    "status": "答复情况",
}


def only(frame: pd.DataFrame, show: str | None) -> pd.DataFrame:
    if show == "待答复":
        return frame[~frame["answered"]]
    if show == "已答复":
        return frame[frame["answered"]]
    return frame


def table(frame: pd.DataFrame) -> pd.DataFrame:
    timezone = common.settings().timezone
    return text_table(
        frame.assign(
            decided_at=[
                local_text(t, timezone) for t in pd.to_datetime(frame["decided_at"], utc=True, format="ISO8601")
            ],
            status=frame["answered"].map({True: "已答复，待复核", False: "待答复"}),
        )[list(HEADINGS)].rename(columns=HEADINGS)
    )


def label(row: pd.Series) -> str:
    status = "已答复" if row["answered"] else "待答复"
    return clean(f"{town_label(row['town'])}{row['name']} {row['date']} {row['title']}（{status}）")


def notice(me: Actor, f: Query) -> None:
    """One line when activities of the period are 不予认定, with the way to 活动反馈."""
    frame = common.cached(feedback, town=f.town, start=f.start, end=f.end, actor=me)
    if frame.empty:
        return
    waiting = int((~frame["answered"]).sum())
    where = f"{f.start} 至 {f.end}" + (f" · {md(f.town)}" if f.town else "")
    text = f"{where}有 **{len(frame)}** 项活动不予认定" + (
        f"，{waiting} 项待乡镇答复" if waiting else "，均已答复待复核"
    )
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.warning(text, icon=":material/feedback:")
    right.page_link("app_pages/feedback.py", label="去活动反馈", icon=":material/arrow_forward:")
