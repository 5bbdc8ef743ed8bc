"""约谈名单: units below quota two or more months running; record an interview; download the list."""

from datetime import timedelta

import streamlit as st

from monitor.core import calendar
from monitor.core.config import TYPE_LABELS
from monitor.core.export import frame_xlsx
from monitor.core.permissions import may
from monitor.figures.interview_log import InterviewError, InterviewInput, due_with_status, record_interview
from ui import common, text

st.title("约谈名单")
me = common.allow("view")
common.demo_badge()
f = common.filters()

left, right = st.columns(2)
months = calendar.month_range(f.start, f.end)
month = left.selectbox("截至月份", list(reversed(months)), help="只计已结束的整月；默认为所选期间的最后一个月")
min_streak = right.number_input(
    "连续未达标月数 ≥", min_value=1, max_value=24, value=common.settings().interview_min_streak
)
try:
    due = common.cached(due_with_status, query=f.over(month), min_streak=int(min_streak))
except ValueError as exc:
    st.error(text.md(exc))
    st.stop()

table = due.assign(type=due["type"].map(TYPE_LABELS), months_missed=due["months_missed"].map("、".join))[
    ["town", "name", "code", "type", "streak", "status", "months_missed", "held", "quota", "head", "phone"]
].rename(
    columns={
        "town": "所属乡镇",
        "name": "单位名称",
        "code": "单位编码",
        "type": "类型",
        "streak": "连续未达标月数",
        "months_missed": "未达标月份",
        "held": "当月开展",
        "quota": "当月任务",
        "head": "负责人",
        "phone": "联系电话",
        "status": "约谈状态",
    }
)
st.caption(
    f"截至 {month}，连续 {min_streak} 个月及以上未完成任务的单位共 {len(table)} 个，"
    f"其中已约谈 {int(due['interviewed'].sum())} 个。"
)
if due.empty:
    st.success(f"截至 {month}，没有连续 {min_streak} 个月及以上未完成任务的单位。")
else:
    st.dataframe(text.table(table), hide_index=True)
# Made on click: a province's list is thousands of rows, too many to write into a workbook on every rerun.
common.xlsx_button("下载约谈名单（Excel）", lambda: frame_xlsx(table, "约谈名单"), f"约谈名单_{month}.xlsx")

if due.empty or not may(me, "interview"):
    st.stop()
st.subheader("登记约谈")
options = {text.clean(f"{r.town}{r.name}（{r.code}）"): r.code for r in due.itertuples()}
with st.form("interview", clear_on_submit=True):
    unit = st.selectbox("约谈单位", list(options))
    a, b = st.columns(2)
    held_on = a.date_input("约谈日期", value=common.today(), max_value=common.today())
    deadline = b.date_input("整改期限", value=common.today() + timedelta(days=30))
    interviewer = st.text_input("约谈人")
    notes = st.text_area("约谈情况及整改要求")
    if st.form_submit_button("保存约谈记录", type="primary"):
        entry = InterviewInput(
            code=options[unit], month=month, held_on=held_on, interviewer=interviewer, notes=notes, deadline=deadline
        )
        try:
            with common.session() as s:
                record_interview(session=s, actor=me, entry=entry)
        except (InterviewError, ValueError) as exc:
            st.error(text.md(exc))
        else:
            common.toast(f"已登记约谈：{text.md(unit)}", icon="✅")
            st.rerun()
