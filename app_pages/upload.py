"""数据上传: the activity ledger (template, upload, preview with the validation report, confirm) and 活动照片."""

import streamlit as st

from monitor.core import calendar
from monitor.core.export import frame_xlsx
from monitor.figures import views
from monitor.ingest import templates
from monitor.ingest.batches import ImportResult
from monitor.ingest.importer import LEDGER_TYPES, import_activities
from monitor.roster.units import towns, units_frame
from ui import common, missing, photo_upload, reading, text

st.title("数据上传")
me = common.allow("import")
common.demo_badge()
f = common.filters()
state = st.session_state

with common.session() as s:
    roster = units_frame(session=s, town=f.town)
a, b, c = st.columns(3)
with a:
    common.xlsx_button(
        "下载活动台账模板（Excel）",
        lambda: templates.activity_template_xlsx(roster),
        f"活动台账模板{('_' + f.town) if f.town else ''}.xlsx",
    )
b.download_button(
    "下载活动台账模板（CSV）",
    templates.activity_template_csv(),
    "活动台账模板.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
)
c.caption("一行一场活动。必填：单位编码或单位名称、活动日期、活动名称。重复上传不会重复计数。")

with st.expander(f"上报情况：{text.md(f.town or '全区')}（截至 {f.end} 的 6 个月）", expanded=False):
    months = calendar.month_range(calendar.shift_month(f.end, -5), f.end)
    status = common.cached(views.reporting_status, query=f.over(months[0], months[-1]))
    st.caption("“未上报”表示该单位该月还没有任何活动记录。")
    st.dataframe(text.table(status), hide_index=True)
missing.section(me, town=f.town)

ledger_tab, photo_tab = st.tabs(["活动台账", "活动照片"], key="upload_tab", on_change="rerun")
if photo_tab.open:  # only the open tab runs: the photo preview costs nothing while the ledger is shown
    with photo_tab:
        photo_upload.section(me, town=f.town)
    st.stop()

with ledger_tab:
    st.caption(
        f"经办人：{text.md(me.name)}"
        + (f"（只能上报{text.md(me.town)}的所、站）" if me.is_town else "")
        + f"。单个文件不超过 {common.settings().upload_limit_mb} MB。"
    )
    pick = None
    if not me.is_town:
        with common.session() as s:
            choices = ["（按文件标题识别）", *towns(session=s)]
        picked = st.selectbox(
            "代哪个乡镇（街道）上传",
            choices,
            index=choices.index(f.town) if f.town in choices else 0,
            format_func=text.clean,
            help="文件里只写村名、且该村名在几个乡镇都有时，按这里的乡镇确定。",
        )
        pick = None if picked == choices[0] else picked
    upload = st.file_uploader(
        "上传活动台账（Excel、WPS 表格、CSV、Unicode 文本、ODS 或 Word 文档）",
        type=list(LEDGER_TYPES),
        help="Word 文档可以是一张台账表格，也可以是每场活动一个“活动名称、活动时间……”的活动记录表；"
        "表格里粘贴的照片会随活动一起导入。",
        key=f"uploader_{state.get('upload_round', 0)}",
        max_upload_size=common.settings().upload_limit_mb,
    )

    if "last_result" in state:
        done: ImportResult = state.pop("last_result")
        st.success(
            f"导入完成：读取 {done.rows} 行，新增 {done.imported} 场，重复 {done.duplicates} 行，"
            f"未导入 {done.rejected} 行。",
            icon=":material/check_circle:",
        )
        if done.errors:
            common.xlsx_button(
                "下载未导入的行（含问题说明，改正后可重新上传）",
                frame_xlsx(done.rejected_rows, "未导入"),
                "未导入的行.xlsx",
                key="rejected_after",
            )

    if upload is None:
        st.stop()

    data = upload.getvalue()
    preview_key = ("preview", upload.file_id, pick)
    if state.get("preview_key") != preview_key:
        with common.session() as s, st.spinner("正在校验…"):
            state["preview"] = import_activities(
                session=s,
                data=data,
                file_name=upload.name,
                settings=common.settings(),
                actor=me,
                town=pick,
                dry_run=True,
            )
        state["preview_key"] = preview_key
    preview: ImportResult = state["preview"]

    if preview.file_error is not None:
        st.error(f"文件未能读取：{text.md(preview.file_error.message)}", icon=":material/error:")
        st.stop()

    st.subheader("导入预览")
    reading.show(preview.reading)
    shown = [("读取行数", preview.rows), ("将新增", preview.imported), ("重复（不再计入）", preview.duplicates)]
    for column, (label, value) in zip(st.columns(4), [*shown, ("有问题（不导入）", preview.rejected)], strict=True):
        column.metric(label, value)
    if preview.errors:
        st.warning(f"有 {preview.rejected} 行存在问题，不会导入。可下载这些行，按“问题说明”改正后重新上传。")
        st.dataframe(text.table(preview.issues_table()), hide_index=True, column_config=common.ISSUE_COLUMNS)
        common.xlsx_button("下载有问题的行（Excel）", frame_xlsx(preview.rejected_rows, "未导入"), "有问题的行.xlsx")
    reading.notes(preview.warnings)

    strict = st.checkbox("有问题时整份文件都不导入", value=False)
    can_import = preview.imported > 0 and not (strict and preview.errors)
    if st.button("确认导入", type="primary", disabled=not can_import, icon=":material/cloud_upload:"):
        bar = st.progress(0.0, text="开始导入")
        with common.session() as s:
            result = import_activities(
                session=s,
                data=data,
                file_name=upload.name,
                settings=common.settings(),
                actor=me,
                town=pick,
                strict=strict,
                progress=lambda p, t: bar.progress(min(p, 1.0), text=t),
            )
        state["last_result"] = result
        state["upload_round"] = state.get("upload_round", 0) + 1
        state.pop("preview_key", None)
        st.rerun()
    elif not can_import:
        st.caption("没有可新增的记录。" if not (strict and preview.errors) else "请先改正有问题的行。")
