"""本月进度: this month so far for a township — what each unit still owes, days to the deadline, 预警."""

import streamlit as st

from monitor.figures.progress import MonthProgress, month_progress
from ui import common, feedback, progress, text

st.title("本月进度")
me = common.allow("view")
common.demo_badge()
f = common.filters()
today = common.today()
data: MonthProgress = common.cached(month_progress, query=f, today=today)

(st.warning if data.owed else st.info)(f"**{text.md(data.summary)}**", icon=":material/today:")
left, right = st.columns(2)
left.page_link("app_pages/register.py", label="登记活动", icon=":material/add_a_photo:")
right.page_link("app_pages/upload.py", label="上传活动台账", icon=":material/upload_file:")
st.caption(
    f"{text.md(f.town or '全区')} · {data.month}（截至 {progress.day(today)}），"
    f"上报截止 {progress.day(data.deadline)} 24 时。"
    "本页只看本月，不受侧边栏起止月份影响。"
)
feedback.notice(me, f)  # decisions on earlier months: the sidebar's period

if data.units.empty:
    st.info("当前筛选下没有需要开展活动的单位。")
else:
    st.caption(f"共 {len(data.units)} 个单位，按还差场次从多到少排列。红色：未开展；黄色：未完成。")
    progress.show(data.units)

if data.last_open:
    st.subheader(f"上月未报齐（{data.last_month}）")
    left = (data.last_deadline - today).days
    if data.unreported.empty:
        st.success(f"{data.last_month} 各单位均已完成任务。")
    else:
        st.error(
            f"{data.last_month} 还有 {len(data.unreported)} 个单位未完成任务，共差 "
            f"{int(data.unreported['owed'].sum())} 场；{progress.day(data.last_deadline)} 24 时截止上报，"
            + (f"还有 {left} 天。" if left else "今天截止。"),
            icon=":material/priority_high:",
        )
        progress.show(data.unreported, when="上月")

st.subheader("预警")
minimum = common.settings().interview_min_streak
st.caption(f"截至上月已连续未达标、本月仍未完成的单位：月底前仍未完成，连续未达标将达 {minimum} 个月，列入约谈。")
if data.warnings.empty:
    st.success("目前没有本月结束后将被约谈的单位。")
else:
    st.warning(f"{len(data.warnings)} 个单位本月若未完成任务将被约谈，请尽快联系负责人。", icon=":material/warning:")
    progress.show(data.warnings, streak=True)
