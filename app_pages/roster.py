"""名册与任务: the roster with search, roster import with preview/confirm, quotas and unit details."""

import streamlit as st

from monitor import templates
from monitor.batches import ImportResult
from monitor.config import TYPE_LABELS, UNIT_TYPES
from monitor.export import frame_xlsx
from monitor.quotas import EditError, UnitChanges, set_type_quotas, update_unit
from monitor.roster import import_units
from monitor.units import roster_table, search_units, type_quotas, units_frame
from ui import common

st.title("名册与任务")
me = common.allow("roster")
common.demo_badge()
f = common.filters()  # the sidebar's township and type narrow the roster too
state = st.session_state

with common.session() as s:
    roster = units_frame(session=s, town=f.town, unit_type=f.unit_type)
    quotas = type_quotas(session=s)

tab_list, tab_import, tab_quota, tab_edit = st.tabs(["单位名册", "导入名册", "月度任务", "修改单位"])

with tab_list:
    search = st.text_input("搜索", placeholder="单位名称、编码、乡镇或负责人")
    shown = search_units(roster, search)
    table = roster_table(shown)
    st.caption(
        f"共 {len(table)} 个单位（"
        + "，".join(f"{TYPE_LABELS[t]} {int((shown['type'] == t).sum())}" for t in UNIT_TYPES)
        + "）"
    )
    st.dataframe(table, hide_index=True)
    common.xlsx_button("下载单位名册（Excel）", frame_xlsx(table, "单位名册"), "单位名册.xlsx")

with tab_import:
    a, b = st.columns(2)
    with a:
        common.xlsx_button("下载名册模板（Excel）", templates.roster_template_xlsx(), "单位名册模板.xlsx")
    b.download_button(
        "下载名册模板（CSV）",
        templates.roster_template_csv(),
        "单位名册模板.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    st.caption("按单位编码更新：已有单位更新信息，新编码新增单位；导入不会删除任何单位。")
    upload = st.file_uploader(
        "上传单位名册（CSV、XLSX 或 XLS）", type=["csv", "xlsx", "xls"], key=f"roster_{state.get('roster_round', 0)}"
    )
    if "roster_result" in state:
        done: ImportResult = state.pop("roster_result")
        st.success(
            f"名册已导入：新增 {done.created} 个，更新 {done.updated} 个，未变 {done.duplicates} 个，"
            f"有问题 {done.rejected} 行。"
        )
    if upload is not None:
        data = upload.getvalue()
        with common.session() as s:
            preview = import_units(
                session=s, data=data, file_name=upload.name, settings=common.settings(), actor=me, dry_run=True
            )
        if preview.file_error is not None:
            st.error(f"文件未能读取：{preview.file_error.message}")
        else:
            m = st.columns(4)
            m[0].metric("读取行数", preview.rows)
            m[1].metric("将新增", preview.created)
            m[2].metric("将更新", preview.updated)
            m[3].metric("有问题", preview.rejected)
            if preview.errors:
                st.dataframe(preview.issues_table(), hide_index=True, column_config=common.ISSUE_COLUMNS)
                common.xlsx_button(
                    "下载有问题的行（Excel）", frame_xlsx(preview.rejected_rows, "未导入"), "名册有问题的行.xlsx"
                )
            if st.button("确认导入名册", type="primary", disabled=preview.imported == 0):
                with common.session() as s:
                    state["roster_result"] = import_units(
                        session=s, data=data, file_name=upload.name, settings=common.settings(), actor=me
                    )
                state["roster_round"] = state.get("roster_round", 0) + 1
                st.rerun()

with tab_quota:
    st.caption("各类单位每月应开展的活动场次；单个单位可在“修改单位”中另设。修改后所有统计按新任务数重算。")
    with st.form("quotas"):
        cols = st.columns(3)
        values = {
            t: cols[i].number_input(f"{TYPE_LABELS[t]}（场/月）", min_value=0, max_value=100, value=quotas[t])
            for i, t in enumerate(UNIT_TYPES)
        }
        if st.form_submit_button("保存月度任务", type="primary"):
            with common.session() as s:
                set_type_quotas(session=s, quotas={t: int(v) for t, v in values.items()}, actor=me)
            st.toast("月度任务已保存", icon="✅")
            st.rerun()


def _text(value: object) -> str:
    """A roster cell as a text box shows it: a missing value (None or NaN) is empty."""
    return value if isinstance(value, str) else ""


with tab_edit:
    if roster.empty:
        st.info("名册为空。")
    else:
        labels = {f"{r.town}{r.name}（{r.code}）": r.code for r in roster.itertuples()}
        choice = st.selectbox("选择单位", list(labels))
        unit = roster[roster["code"] == labels[choice]].iloc[0]
        with st.form("unit"):
            own = st.checkbox("单独设置月度任务", value=unit["quota"] == unit["quota"] and unit["quota"] is not None)
            quota = st.number_input(
                "本单位月度任务（场/月）",
                min_value=0,
                max_value=100,
                value=int(unit["monthly_quota"]),
                help=f"与{unit['type_label']}类默认任务（{int(unit['type_quota'])} 场）不同的数，即作为本单位任务；"
                "取消勾选且数目等于默认任务时，恢复按类型计。",
            )
            a, b = st.columns(2)
            head = a.text_input("负责人", value=_text(unit["head"]))
            phone = b.text_input("联系电话", value=_text(unit["phone"]))
            active_from = a.text_input("启用月份", value=_text(unit["active_from"]), placeholder="YYYY-MM，可空")
            active_to = b.text_input("停用月份", value=_text(unit["active_to"]), placeholder="YYYY-MM，可空")
            if st.form_submit_button("保存", type="primary"):
                changes = UnitChanges(
                    # A number other than the type's default is the unit's own, ticked or not.
                    quota=int(quota) if own or int(quota) != int(unit["type_quota"]) else None,
                    head=head,
                    phone=phone,
                    active_from=active_from,
                    active_to=active_to,
                )
                try:
                    with common.session() as s:
                        update_unit(session=s, code=labels[choice], changes=changes, actor=me)
                except EditError as exc:
                    st.error(str(exc))
                else:
                    st.toast("已保存", icon="✅")
                    st.rerun()
