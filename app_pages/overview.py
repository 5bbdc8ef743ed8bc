"""总览: KPI cards against the previous period, monthly trend, townships, distribution."""

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from monitor.core.calendar import deadline_words
from monitor.core.permissions import may
from monitor.demo.district import DemoRefused, load_demo
from monitor.evidence.photo_store import StoreError, open_store
from monitor.figures import views
from monitor.reports import charts
from ui import common, feedback, text

st.title("总览")
me = common.allow("view")

with common.session() as s:
    has_units = views.has_units(session=s)

if not has_units:
    st.info("数据库还是空的。请先导入单位名册，或载入示例数据试用。", icon=":material/info:")
    left, right = st.columns(2)
    with left:
        st.markdown("**正式使用**：在“名册与任务”页导入单位名册，再由各乡镇在“数据上传”页上传活动台账。")
        if may(me, "roster"):
            st.page_link("app_pages/roster.py", label="去“名册与任务”页，在“导入名册”中上传", icon=":material/groups:")
        else:
            st.caption("名册由区委宣传部审核人员导入，导入后即可上传本乡镇的活动台账。")
    with right:
        st.markdown("**试用**：载入虚构的示例区县（1 个中心、18 个所、241 个站，2024—2025 年活动）。")
        if st.button(
            "载入示例数据",
            type="primary",
            icon=":material/science:",
            disabled=not may(me, "users"),  # the role load_demo asks for
            help=None if may(me, "users") else "仅管理员可载入示例数据",
        ):
            with st.spinner("正在载入示例数据…"), common.session() as s:
                try:
                    load_demo(session=s, actor=me, store=open_store(common.settings()), accounts=False)
                except (DemoRefused, StoreError) as exc:
                    st.error(text.md(exc))
                    st.stop()
            common.reset_filters()  # the period follows the data just loaded
            st.session_state["overview_notice"] = (
                "示例数据已载入。示例账号未创建，请继续使用现有账号；乡镇经办人账号可在“用户管理”中添加。"
            )
            st.rerun()
    st.stop()

common.demo_badge()
if "overview_notice" in st.session_state:
    st.success(st.session_state.pop("overview_notice"))
f = common.filters()
data: views.Overview = common.cached(views.overview, query=f, min_streak=common.settings().interview_min_streak)
cur, prev = data.current, data.previous
scope = (
    f"{f.start} 至 {f.end}"
    + (f" · {text.md(f.town)}" if f.town else "")
    + (f" · {[k for k, v in common.TYPE_OPTIONS.items() if v == f.unit_type][0]}" if f.unit_type else "")
)
st.caption(f"统计期间：{scope}；对比上一同长期间。")


def delta_count(key: str) -> int | None:
    return None if prev is None else int(cur[key]) - int(prev[key])  # type: ignore[call-overload]


def delta_rate(key: str) -> str | None:
    if prev is None or cur[key] is None or prev[key] is None:
        return None
    return f"{(cur[key] - prev[key]) * 100:+.2f} 个百分点"  # type: ignore[operator]


def kpi(where: DeltaGenerator, label: str, value: object, delta: object, **options: Any) -> None:
    """A KPI card; no change against the previous period reads 持平, grey and without an arrow."""
    if delta == 0 or delta in ("+0.00 个百分点", "-0.00 个百分点"):
        delta, options = "持平", {**options, "delta_color": "off", "delta_arrow": "off"}
    where.metric(label, value, delta, border=True, **options)


row = st.columns(4)
kpi(row[0], "开展活动（场次）", f"{cur['held']:,}", delta_count("held"))
kpi(row[1], "任务数（场次）", f"{cur['required']:,}", delta_count("required"), delta_color="off")
kpi(
    row[2],
    "完成率",
    common.pct(cur["completion_rate"]),
    delta_rate("completion_rate"),
    help="开展场次 ÷ 任务场次，不封顶（与区委宣传部通报口径一致）",
)
kpi(
    row[3],
    "封顶完成率",
    common.pct(cur["capped_rate"]),
    delta_rate("capped_rate"),
    help="每个单位每月最多按任务数计，超额完成不能抵消其他单位的欠账",
)
row = st.columns(4)
kpi(
    row[0],
    "达标率",
    common.pct(cur["compliance_rate"]),
    delta_rate("compliance_rate"),
    help="达到月度任务的单位月份占比",
)
kpi(
    row[1],
    "按时上报率",
    common.pct(cur.get("on_time_rate")),
    delta_rate("on_time_rate"),
    help=f"{deadline_words(common.settings())} 24 时前已上报、且达到月度任务的单位月份占比",
)
kpi(
    row[2],
    f"应约谈单位（{f.end}）",
    data.due,
    None if data.due_previous is None else data.due - data.due_previous,
    delta_color="inverse",
    help="连续 2 个月及以上未完成任务的所（站）",
)
kpi(
    row[3],
    "不予认定（场次）",
    f"{cur['not_recognised']:,}",
    delta_count("not_recognised"),
    delta_color="inverse",
    help="经审核不予认定的活动，已不计入开展场次和各项比率",
)
feedback.notice(me, f)

st.plotly_chart(charts.monthly(data.by_month), config={"displaylogo": False})
left, right = st.columns([3, 2])
with left:
    if data.by_town.empty:
        st.info("当前筛选下没有乡镇数据。")
    else:
        st.plotly_chart(charts.by_town(text.chart(data.by_town, "town")), config={"displaylogo": False})
with right:
    st.plotly_chart(charts.distribution(data.distribution), config={"displaylogo": False})
