"""疑点核查: units and activities ranked by signals for the period; an activity opens with its photos and
review buttons; the list downloads as xlsx."""

import streamlit as st

from monitor.core.export import frame_xlsx
from monitor.core.labels import town_label
from monitor.evidence import gallery, signals, triage
from ui import activity_card, common, text

st.title("疑点核查")
me = common.allow("review")
common.demo_badge()
f = common.filters()

codes = st.multiselect(
    "疑点类型",
    list(signals.SIGNALS),
    format_func=signals.SIGNALS.__getitem__,
    placeholder="全部疑点类型",
    key="sg_codes",
    help="\n\n".join(f"**{name}**：{signals.EXPLANATIONS[c]}" for c, name in signals.SIGNALS.items()),
)
frame = common.cached(signals.signals, query=f)
found = triage.narrow(frame, codes=codes, unit_type=f.unit_type)
where = f"{f.start} 至 {f.end} · {text.md(f.town or '全区')}"
st.caption(
    f"{where}：疑点 {len(found.signals)} 条，涉及 {len(found.units)} 个单位、{len(found.activities)} 项活动。"
    "疑点只是提示从哪里查起的线索，不是结论；请打开活动核对照片后再认定。"
)
with st.expander("各类疑点的含义及条数"):
    counts = found.counts()
    for code in codes or signals.SIGNALS:
        st.markdown(f"**{signals.SIGNALS[code]}**（{counts[code]} 条）：{signals.EXPLANATIONS[code]}")
if found.signals.empty:
    st.success(f"{where}：所选类型没有疑点。", icon=":material/task_alt:")
    st.stop()

units, activities = st.columns(2)
units.markdown("**单位排名**（按疑点数）")
units.dataframe(text.table(triage.ranked(found.units)), hide_index=True, height=320)
activities.markdown("**活动排名**（按疑点数）")
activities.dataframe(text.table(triage.ranked(found.activities)), hide_index=True, height=320)

listed = triage.table(found.signals)
st.markdown(f"**疑点清单**（{len(listed)} 条）")
st.dataframe(text.table(listed), hide_index=True, column_config={"说明": st.column_config.TextColumn(width="large")})
common.xlsx_button(
    "下载疑点清单（Excel）", lambda: frame_xlsx(listed, "疑点清单"), f"疑点清单_{f.start}_{f.end}.xlsx", key="sg_xlsx"
)

monthly = found.signals[found.signals["activity_id"].isna()]  # 月底集中, 数量异常: a unit's whole month
if not monthly.empty:
    st.subheader("核查单位月份")
    options = {
        f"{r.unit_code}|{r.month}": text.clean(f"{town_label(r.town)}{r.unit_name} {r.month}：{r.message}")
        for r in monthly.itertuples()
    }
    picked = st.selectbox(
        "单位月份（月底集中、数量异常）", list(options), format_func=options.__getitem__, key="sg_month"
    )
    if st.button("在活动认定中逐项查看该单位本月活动", icon=":material/photo_library:", key="sg_to_review"):
        st.session_state["rv_unit"], st.session_state["rv_month"] = picked.split("|")
        st.switch_page("app_pages/review.py")

if found.activities.empty:
    st.stop()
st.subheader("核查活动")
ranked = found.activities.head(500)
labels = {
    int(r.activity_id): text.clean(f"{town_label(r.town)}{r.unit_name} {r.date} {r.title}（{r.signals} 条：{r.codes}）")
    for r in ranked.itertuples()
}
chosen = st.selectbox("打开活动（按疑点数排序）", list(labels), format_func=labels.__getitem__, key="sg_open")
for message in found.signals.loc[found.signals["activity_id"] == chosen, "message"]:
    st.warning(text.md(message), icon=":material/policy:")  # it quotes the title
opened = common.cached(gallery.items, activity_ids=(chosen,), actor=me)
if opened:
    activity_card.card(opened[0], me=me, key=f"sg_{chosen}", shortcuts=True)
    st.caption(activity_card.DECIDE_KEYS_HELP)
