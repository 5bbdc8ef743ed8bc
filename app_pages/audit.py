"""操作记录: every write, who and when, before and after. Read only: events cannot be edited here."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from monitor.core.clock import local_text
from monitor.core.export import frame_xlsx
from monitor.store.audit import ACTION_LABELS, EXPORT_LIMIT, PAGE_SIZE, events, readable
from ui import common, text

COLUMN_LABELS = {
    "id": "编号",
    "at": "时间",
    "actor": "操作人",
    "action": "操作",
    "target": "对象",
    "before": "修改前",
    "after": "修改后",
    "detail": "说明",
}

st.title("操作记录")
me = common.allow("audit")
zone = common.settings().timezone
first, last = st.columns(2)
since = first.date_input("起始日期", value=common.today() - timedelta(days=30))
until = last.date_input("截止日期", value=common.today())


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        at=frame["at"].map(lambda t: local_text(t, zone, seconds=True)),
        action=frame["action"].map(ACTION_LABELS).fillna(frame["action"]),
        before=frame["before"].map(readable),
        after=frame["after"].map(readable),
    ).rename(columns=COLUMN_LABELS)


def selected(offset: int, limit: int):  # type: ignore[no-untyped-def]
    with common.session() as s:
        return events(session=s, actor=me, timezone=zone, since=since, until=until, offset=offset, limit=limit)


if since > until:
    st.warning("起始日期晚于截止日期，请调整。")
    st.stop()
total = selected(0, 1).total
pages = max(1, -(-total // PAGE_SIZE))
st.caption(f"共 {total} 条。每页 {PAGE_SIZE} 条，最新的在前；记录只增不改，本页不能编辑或删除。")
if total == 0:
    st.info("所选期间没有操作记录。")
    st.stop()
number = st.number_input(f"页码（共 {pages} 页）", min_value=1, max_value=pages, value=1, step=1)
page = selected((int(number) - 1) * PAGE_SIZE, PAGE_SIZE)
st.caption(f"第 {page.offset + 1:,}–{page.offset + len(page.frame):,} 条")
st.dataframe(text.table(shown(page.frame)), hide_index=True)

if total > EXPORT_LIMIT:
    st.caption(f"所选期间超过 {EXPORT_LIMIT:,} 条，下载只含最新的 {EXPORT_LIMIT:,} 条；请缩短期间分次下载。")
common.xlsx_button(
    f"下载所选期间的操作记录（Excel，{min(total, EXPORT_LIMIT):,} 条）",
    lambda: frame_xlsx(shown(selected(0, EXPORT_LIMIT).frame), "操作记录"),
    f"操作记录_{since}_{until}.xlsx",
)
