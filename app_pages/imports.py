"""导入记录: every batch; the kept original file; rolling a batch back after confirmation."""

import streamlit as st

from monitor.core.clock import local_text
from monitor.core.labels import BATCH_KINDS, BATCH_STATUS
from monitor.core.models import ImportBatch
from monitor.core.permissions import may
from monitor.figures import views
from monitor.ingest.batches import original_file
from monitor.ingest.rollback import RollbackRefused, describe, preview_rollback, rollback_batch
from ui import common, text

st.title("导入记录")
me = common.allow("view")
common.demo_badge()
frame = common.cached(views.batches, actor=me)
if frame.empty:
    st.info("还没有导入记录。")
    st.stop()

shown = frame.assign(
    created_at=frame["created_at"].map(lambda t: local_text(t, common.settings().timezone)),
    kind=frame["kind"].map(BATCH_KINDS).fillna(frame["kind"]),
    status=frame["status"].map(BATCH_STATUS).fillna(frame["status"]),
)[["id", "created_at", "kind", "user", "file_name", "status", "rows", "imported", "duplicates", "rejected", "message"]]
st.dataframe(
    text.table(shown).rename(
        columns={
            "id": "编号",
            "created_at": "时间",
            "kind": "类别",
            "user": "经办人",
            "file_name": "文件名",
            "status": "状态",
            "rows": "行数",
            "imported": "导入",
            "duplicates": "重复",
            "rejected": "有问题",
            "message": "说明",
        }
    ),
    hide_index=True,
)

st.subheader("查看或撤销一次导入")
# Rollback records are listed above; only uploads have a file to fetch or to roll back.
uploads = frame[frame["kind"] != "rollback"]
labels = {
    text.clean(f"#{r.id} {r.file_name}（{BATCH_STATUS.get(r.status, r.status)}）"): int(r.id)
    for r in uploads.itertuples()
}
if not labels:
    st.stop()
choice = st.selectbox("导入记录", list(labels))
batch_id = labels[choice]
with common.session() as s:  # the list above holds only the batches this account may see
    batch = s.get(ImportBatch, batch_id)
    kept = original_file(session=s, actor=me, batch_id=batch_id, uploads_dir=common.settings().uploads_dir)
if batch is None:
    st.stop()
if kept is not None:
    name, data = kept
    st.download_button("下载原始文件", data, file_name=name, on_click="ignore", icon=":material/download:")
elif batch.sha256 != "demo":
    st.caption("原始文件不在本机保存目录中。")

if batch.kind == "activities" and batch.status == "imported" and may(me, "rollback"):
    try:
        with common.session() as s:
            plan = preview_rollback(
                session=s, batch_id=batch.id, actor=me, settings=common.settings(), today=common.today()
            )
    except RollbackRefused as exc:
        st.error(text.md(exc))
        st.stop()
    st.warning(
        f"撤销将{text.md(describe(plan))}。其他导入也上报过的活动不会删除；统计随之更新，撤销本身会记入导入记录。"
    )
    sure = st.checkbox(f"我确认撤销导入记录 #{batch.id}", key=f"sure_{batch.id}")
    if st.button("撤销这次导入", disabled=not sure, type="primary"):
        try:
            with common.session() as s:
                done = rollback_batch(
                    session=s, batch_id=batch.id, actor=me, settings=common.settings(), today=common.today()
                )
        except RollbackRefused as exc:
            st.error(text.md(exc))
        else:
            common.toast(f"已撤销：{text.md(describe(done))}", icon="✅")
            st.rerun()
