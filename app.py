"""Entry point: sign-in gate, the pages the role may open, the shared sidebar filters. Nothing else.

The screens live in app_pages/, not pages/: Streamlit treats a folder named pages/ as the old
multipage layout and serves each file in it directly by URL, skipping this entry point and so
its sign-in gate.
"""

import streamlit as st

from monitor.core.permissions import PERMISSIONS, ROLE_LABELS
from monitor.figures import views
from monitor.roster.units import towns
from ui import common, gate, text

st.set_page_config(page_title="文明实践活动监测", page_icon="🏮", layout="wide")

actor = gate.signed_in()
if actor is None:
    st.stop()

# Town staff open on this month's progress; the department on the overview.
home = "progress" if actor.is_town else "overview"
PAGES = {
    "监测": [
        (
            "view",
            st.Page("app_pages/progress.py", title="本月进度", icon=":material/today:", default=home == "progress"),
        ),
        (
            "view",
            st.Page("app_pages/overview.py", title="总览", icon=":material/dashboard:", default=home == "overview"),
        ),
        ("view", st.Page("app_pages/units.py", title="单位明细", icon=":material/grid_on:")),
        ("view", st.Page("app_pages/interviews.py", title="约谈名单", icon=":material/record_voice_over:")),
    ],
    "认定": [
        ("review", st.Page("app_pages/review.py", title="活动认定", icon=":material/photo_library:")),
        ("review", st.Page("app_pages/signals.py", title="疑点核查", icon=":material/policy:")),
        ("view", st.Page("app_pages/feedback.py", title="活动反馈", icon=":material/feedback:")),
    ],
    "数据": [
        ("import", st.Page("app_pages/register.py", title="活动登记", icon=":material/add_a_photo:")),
        ("import", st.Page("app_pages/upload.py", title="数据上传", icon=":material/upload_file:")),
        ("roster", st.Page("app_pages/roster.py", title="名册与任务", icon=":material/groups:")),
        ("view", st.Page("app_pages/imports.py", title="导入记录", icon=":material/history:")),
        ("export", st.Page("app_pages/export.py", title="导出台账", icon=":material/download:")),
        ("bulletin", st.Page("app_pages/bulletin.py", title="通报", icon=":material/description:")),
    ],
    "管理": [
        ("lock", st.Page("app_pages/months.py", title="月份锁定", icon=":material/lock:")),
        ("audit", st.Page("app_pages/audit.py", title="操作记录", icon=":material/fact_check:")),
        ("users", st.Page("app_pages/users.py", title="用户管理", icon=":material/manage_accounts:")),
    ],
}
allowed = PERMISSIONS[actor.role]
visible = {section: [page for need, page in pages if need in allowed] for section, pages in PAGES.items()}
# Every page listed: past twelve Streamlit folds the rest under "View more", hiding 通报 and the admin pages.
navigation = st.navigation({section: pages for section, pages in visible.items() if pages}, expanded=True)

with common.session() as s, st.sidebar:
    st.markdown("### 新时代文明实践活动监测")
    months = views.month_options(session=s, settings=common.settings(), today=common.today())
    start, end = views.default_period(session=s, settings=common.settings(), today=common.today())
    town_options = [actor.town] if actor.is_town else [common.ALL_TOWNS, *towns(session=s)]
common.filters_from_link(months=months, towns=town_options)  # a link's ?start=&end=&town=&type= on first load
with st.sidebar:
    for key, label, default in (("f_start", "起始月份", start), ("f_end", "截止月份", end)):
        if st.session_state.get(key) not in months:
            st.session_state[key] = default if default in months else months[-1]
        st.selectbox(label, months, key=key)
    if st.session_state.get("f_town") not in town_options:
        st.session_state["f_town"] = town_options[0]
    st.selectbox("乡镇（街道）", town_options, key="f_town", format_func=text.clean, disabled=actor.is_town)
    st.selectbox("单位类型", list(common.TYPE_OPTIONS), key="f_type")
    if st.session_state["f_start"] > st.session_state["f_end"]:
        st.warning(f"起始月份晚于截止月份，按 {st.session_state['f_end']} 至 {st.session_state['f_start']} 统计。")
    st.caption("只统计已结束的整月；默认为最近一个有数据的整月所在年度。")
    st.divider()
    st.caption(
        f"{text.md(actor.name)} · {ROLE_LABELS[actor.role]}" + (f" · {text.md(actor.town)}" if actor.town else "")
    )
    gate.logout_button(actor)
common.link_filters()  # the address bar follows the sidebar, so a link shows exactly this
common.show_toasts()

navigation.run()
