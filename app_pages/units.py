"""单位明细: unit × month grid coloured met / below / none, and one unit's activities and history."""

import pandas as pd
import streamlit as st

from monitor.core.calendar import deadline_words
from monitor.core.labels import town_label
from monitor.evidence import gallery
from monitor.figures import views
from monitor.reports import charts
from ui import activity_card, common, limits, text, unit_grid

st.title("单位明细")
me = common.allow("view")
common.demo_badge()
f = common.filters()
data: views.UnitsGrid = common.cached(views.units_grid, query=f)
if data.grid.empty:
    st.info("当前筛选下没有单位。")
    st.stop()

left, middle, right = st.columns([2, 2, 3])
order = left.selectbox("排序", ["连续未达标月数（多→少）", "合计开展（少→多）", "合计开展（多→少）", "单位编码"])
only_below = middle.checkbox("只看本期有未达标月份的单位")
search = right.text_input("搜索单位名称或编码", placeholder="如 油草塘村 或 NJK-YCT")

grid, status = data.grid, data.status
keep = pd.Series(True, index=grid.index)
if only_below:
    keep &= status.isin(["below", "none"]).any(axis=1)
if search.strip():
    keep &= grid["name"].str.contains(search.strip(), regex=False) | grid["code"].str.contains(
        search.strip(), case=False, regex=False
    )
grid, status = grid[keep], status[keep]
sort = {
    "连续未达标月数（多→少）": (["streak", "held"], [False, True]),
    "合计开展（少→多）": (["held"], [True]),
    "合计开展（多→少）": (["held"], [False]),
    "单位编码": (["code"], [True]),
}[order]
grid = grid.sort_values(sort[0], ascending=sort[1])
status = status.loc[grid.index]

unit_grid.show(grid, status, months=data.months, end=f.end)

with st.expander(f"未按时上报的单位（{len(data.late)} 个）：截至{deadline_words(common.settings())}未上报足月度任务"):
    st.dataframe(
        text.table(data.late).rename(
            columns={
                "town": "所属乡镇",
                "code": "单位编码",
                "name": "单位名称",
                "late_months": "未按时月数",
                "months": "月份",
            }
        ),
        hide_index=True,
    )

st.subheader("单个单位")
labels = {text.clean(f"{r.town}{r.name}（{r.code}）"): r.code for r in limits.first_rows(grid).itertuples()}
if not labels:
    st.stop()
choice = st.selectbox("选择单位", list(labels))
detail: views.UnitDetail | None = common.cached(views.unit_detail, code=labels[choice], query=f)
if detail is None:
    st.warning("该单位已不在名册中。")
    st.stop()
unit = detail.unit
st.markdown(  # Markdown: every typed field goes through text.md where it is formatted
    f"**{text.md(unit['name'])}**　{text.md(town_label(unit['town']))}　"
    f"负责人：{text.md(unit['head']) or '—'}　电话：{text.md(unit['phone']) or '—'}"
)
st.plotly_chart(charts.unit_history(detail.history), config={"displaylogo": False})
st.dataframe(
    text.table(detail.activities).rename(
        columns={
            "date": "活动日期",
            "title": "活动名称",
            "category": "活动类型",
            "participants": "参与人数",
            "volunteers": "志愿者人数",
            "photos": "图片数",
            "location": "活动地点",
        }
    ),
    hide_index=True,
)
activity_card.pick(
    common.cached(gallery.gallery, month=f.start, end=f.end, code=unit["code"], actor=me), me=me, key="un_activity"
)
if not detail.interviews.empty:
    st.markdown("**约谈记录**")
    st.dataframe(
        text.table(detail.interviews).rename(
            columns={
                "month": "所涉月份",
                "held_on": "约谈日期",
                "interviewer": "约谈人",
                "notes": "约谈情况",
                "deadline": "整改期限",
                "recorded_by": "登记人",
            }
        ),
        hide_index=True,
    )
