"""活动认定: a month's activities unit by unit, photos in view, each marked 认定 or 不予认定."""

import streamlit as st

from monitor.core import calendar
from monitor.evidence import gallery
from ui import common, text
from ui import gallery as view

st.title("活动认定")
me = common.allow("review")
common.demo_badge()
f = common.filters()

months = list(reversed(calendar.month_range(f.start, f.end)))
this_month = common.today().strftime("%Y-%m")  # activities registered at the event wait here before the month ends
if st.session_state.get("rv_month") not in [this_month, *months]:
    st.session_state["rv_month"] = months[0]  # the sidebar's end month
month = st.selectbox(
    "月份",
    [this_month, *months] if this_month not in months else months,
    key="rv_month",
    format_func=lambda m: f"{m}（本月，进行中）" if m == this_month else m,
    help="默认为侧边栏的截止月份；本月登记的活动可先选“本月”认定。乡镇与单位类型按侧边栏筛选",
)
queue = common.cached(gallery.queue, query=f.over(month))
if queue.empty:
    st.info(f"{month} {text.md(f.town or '全区')}没有活动，无需认定。")
    st.stop()

total = queue[["activities", "pending", "rejected", "answered", "recognised", "no_photo"]].sum()
st.caption(
    f"{month} · {text.md(f.town or '全区')}：{len(queue)} 个单位共 {total['activities']} 项活动；"
    f"待认定 {total['pending']} 项，不予认定 {total['rejected']} 项，已答复待复核 {total['answered']} 项，"
    f"已认定 {total['recognised']} 项；无照片 {total['no_photo']} 项。"
)
code = view.pick_unit(queue, key="rv_unit")
items = common.cached(gallery.gallery, month=month, code=code, actor=me)
if not items:
    st.warning("该单位本月的活动已不在库中（可能已被撤销），请重新选择。")
    st.stop()
view.unit_gallery(items, me=me, key=f"rv_{month}_{code}", next_unit=view.stepper("rv_unit", list(queue["code"])))

with st.expander("本月各单位认定进度"):
    st.dataframe(view.queue_table(queue), hide_index=True)
