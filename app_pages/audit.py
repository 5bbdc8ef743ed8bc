"""操作记录: every write, who and when, before and after. Read only: events cannot be edited here."""

from datetime import datetime, time, timedelta

import streamlit as st

from monitor.audit import ACTION_LABELS, events, readable
from monitor.clock import local_text
from monitor.export import frame_xlsx
from ui import common

st.title("操作记录")
me = common.allow("audit")
since = st.date_input("起始日期", value=common.today() - timedelta(days=30))
with common.session() as s:
    frame = events(session=s, since=datetime.combine(since, time.min, tzinfo=common.settings().timezone))
shown = frame.assign(
    at=frame["at"].map(lambda t: local_text(t, common.settings().timezone, seconds=True)),
    action=frame["action"].map(ACTION_LABELS).fillna(frame["action"]),
    before=frame["before"].map(readable),
    after=frame["after"].map(readable),
).rename(
    columns={
        "id": "编号",
        "at": "时间",
        "actor": "操作人",
        "action": "操作",
        "target": "对象",
        "before": "修改前",
        "after": "修改后",
        "detail": "说明",
    }
)
st.caption(f"共 {len(shown)} 条。记录只增不改，本页不能编辑或删除。")
if shown.empty:
    st.info("所选期间没有操作记录。")
else:
    st.dataframe(shown, hide_index=True)
common.xlsx_button("下载操作记录（Excel）", frame_xlsx(shown, "操作记录"), f"操作记录_{since}.xlsx")
