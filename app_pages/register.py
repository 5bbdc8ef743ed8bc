"""活动登记: record an activity at the event, from the phone, with its photos; 我的登记 below."""

import streamlit as st

from ui import common, register, text

st.title("活动登记")
me = common.allow("import")
common.demo_badge()
today = common.today()
st.caption(
    "活动结束即可在手机上登记，保存后立即计入本月进度。"
    + (f"只能登记{text.md(me.town)}的单位。" if me.is_town else "可为任一乡镇（街道）的单位登记。")
)
register.form(me, today)

st.subheader("我的登记")
st.caption("本月和上月登记的活动。认定之前、所在月份未锁定时，可以修改或撤回。")
register.mine(me, today)
