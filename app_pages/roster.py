"""名册与任务: the roster with search, roster import with preview/confirm, quotas and unit details."""

import streamlit as st

from monitor.core.config import TYPE_LABELS, UNIT_TYPES
from monitor.core.export import frame_xlsx
from monitor.ingest import templates
from monitor.ingest.batches import ImportResult
from monitor.ingest.roster_file import import_units
from monitor.roster.units import roster_table, search_units, type_schedule, units_frame
from ui import common, roster_forms, text

st.title("名册与任务")
me = common.allow("roster")
common.demo_badge()
f = common.filters()  # the sidebar's township and type narrow the roster too
state = st.session_state

month = common.today().strftime("%Y-%m")  # quotas as the rules give them this month, as the figures read them
with common.session() as s:
    roster = units_frame(session=s, town=f.town, unit_type=f.unit_type, month=month)
    schedule = type_schedule(session=s, month=month)

tab_list, tab_import, tab_quota, tab_edit = st.tabs(["单位名册", "导入名册", "月度任务", "修改单位"])

with tab_list:
    search = st.text_input("搜索", placeholder="单位名称、编码、乡镇或负责人")
    shown = search_units(roster, search)
    table = roster_table(shown)
    st.caption(
        f"共 {len(table)} 个单位（"
        + "，".join(f"{TYPE_LABELS[t]} {int((shown['type'] == t).sum())}" for t in UNIT_TYPES)
        + f"）；月度任务为 {month} 执行的任务数"
    )
    st.dataframe(text.table(table), hide_index=True)
    common.xlsx_button("下载单位名册（Excel）", lambda: frame_xlsx(table, "单位名册"), "单位名册.xlsx")

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
    st.caption(
        "按单位编码更新：已有单位只更新文件中填写了的信息，空白不改动；新编码新增单位；导入不会删除任何单位。"
        "月度任务的调整自本月起生效。"
    )
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
        data, name = upload.getvalue(), upload.name

        def roster_import(dry_run: bool) -> ImportResult:
            with common.session() as s:
                return import_units(
                    session=s,
                    actor=me,
                    data=data,
                    file_name=name,
                    settings=common.settings(),
                    today=common.today(),
                    dry_run=dry_run,
                )

        preview = roster_import(dry_run=True)
        if preview.file_error is not None:
            st.error(f"文件未能读取：{text.md(preview.file_error.message)}")
        else:
            m = st.columns(4)
            m[0].metric("读取行数", preview.rows)
            m[1].metric("将新增", preview.created)
            m[2].metric("将更新", preview.updated)
            m[3].metric("有问题", preview.rejected)
            if not preview.changes.empty:
                st.markdown("**将修改的内容**（空白单元格和文件中没有的列不改动已存的信息）")
                st.dataframe(text.table(preview.changes), hide_index=True)
            if preview.errors:
                st.dataframe(text.table(preview.issues_table()), hide_index=True, column_config=common.ISSUE_COLUMNS)
                common.xlsx_button(
                    "下载有问题的行（Excel）", frame_xlsx(preview.rejected_rows, "未导入"), "名册有问题的行.xlsx"
                )
            if st.button("确认导入名册", type="primary", disabled=preview.imported == 0):
                state["roster_result"] = roster_import(dry_run=False)
                state["roster_round"] = state.get("roster_round", 0) + 1
                st.rerun()

with tab_quota:
    roster_forms.quota_form(me, schedule, month)

with tab_edit:
    roster_forms.unit_form(me, roster)
