"""催报 on 数据上传: after last month's deadline day, the units that reported nothing for it."""

from __future__ import annotations

import streamlit as st

from monitor.core.calendar import deadline_of, last_finished_month
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.figures.missing import HEADINGS, message, missing_reports, missing_xlsx
from ui import common, text
from ui.progress import day


def section(me: Actor, *, town: str | None) -> None:
    """For reviewers: last month's units without any activity by township, the text to send, and the xlsx."""
    if me.is_town:
        return
    today = common.today()
    month = last_finished_month(today)
    with st.expander("催报：上月未上报的单位", expanded=False):
        deadline = deadline_of(month, common.settings()).date()
        if today <= deadline:
            st.info(f"上月上报截止日（{day(deadline)}）未到。", icon=":material/schedule:")
            return
        asked = Query.month_of(me, common.settings(), month, town=town or None)
        found = common.cached(missing_reports, query=asked, today=today)
        if found.units.empty:
            st.success(text.md(message(found)), icon=":material/check_circle:")
            return
        st.caption(
            f"{found.month}：{len(found.units)} 个单位没有任何活动记录（截止日 {day(deadline)} 已过）。"
            "下面的文字可复制后发到工作群。"
        )
        st.dataframe(text.table(found.units[list(HEADINGS)].rename(columns=HEADINGS)), hide_index=True)
        st.code(text.clean(message(found)), language=None, wrap_lines=True)
        common.xlsx_button(
            "下载催报名单（Excel）", lambda: missing_xlsx(found), f"催报名单_{found.month}.xlsx", key="missing_xlsx"
        )
