"""活动反馈: the activities 不予认定 with the reviewer's reason; the township answers with photos and a reply."""

import streamlit as st

from monitor.evidence import gallery
from monitor.evidence.review import feedback
from ui import activity_card, common, text
from ui import feedback as view

st.title("活动反馈")
me = common.allow("view")
common.demo_badge()
f = common.filters()
# Feedback waits for an answer whatever month it concerns: all months unless asked otherwise.
period_only = st.toggle(f"只看侧栏所选期间（{f.start} 至 {f.end}）", value=False, key="fb_period")
start, end = (f.start, f.end) if period_only else (None, None)
frame = common.cached(feedback, town=f.town, start=start, end=end, actor=me)
where = (f"{f.start} 至 {f.end}" if period_only else "全部月份") + f" · {text.md(f.town or '全区')}"
if frame.empty:
    st.success(f"{where}：没有不予认定的活动。", icon=":material/task_alt:")
    st.stop()

answered = int(frame["answered"].sum())
st.caption(
    f"{where}：不予认定 {len(frame)} 项，其中已答复待复核 {answered} 项，待乡镇答复 {len(frame) - answered} 项。"
    + ("请逐项补充照片或说明情况后提交答复，审核人员复核后可改为认定。" if me.is_town else "")
)
show = st.segmented_control("显示", ["全部", "待答复", "已答复"], default="全部", key="fb_show")
shown = view.only(frame, show)
st.dataframe(view.table(shown), hide_index=True)
if shown.empty:
    st.stop()

labels = {int(row["activity_id"]): view.label(row) for _, row in shown.iterrows()}
chosen = st.selectbox(
    "打开活动（查看照片、补充照片并答复）", list(labels), format_func=labels.__getitem__, key="fb_open"
)
found = common.cached(gallery.items, activity_ids=(chosen,), actor=me)
if found:
    activity_card.card(found[0], me=me, key=f"fb_{chosen}")
