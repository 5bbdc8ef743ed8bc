"""活动照片 on 数据上传: a zip or several photos read, matched to activities in a preview, stored on confirm.

Nothing is stored before the confirm: the plan (monitor.evidence.photos.plan_photos) lives in the session
until then, the clerk matches what the names did not settle, and attach_plan stores it all.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from monitor.core.permissions import Actor, Forbidden
from monitor.evidence.images import PhotoRefused
from monitor.evidence.photo_choices import hand_choices, plan_table
from monitor.evidence.photo_files import UploadRefused, read_files
from monitor.evidence.photo_store import StoreError, open_store
from monitor.evidence.photos import STATUS_LABELS, Attached, PhotoPlan, attach_plan, plan_photos
from monitor.roster.units import towns
from monitor.store.db import Busy
from ui import common, text

TYPES = ["zip", "jpg", "jpeg", "png", "heic", "heif"]
LABEL = "上传活动照片（ZIP、JPG、PNG 或 HEIC）"
BY_NAMES = "（按文件夹或文件名识别）"
SKIP = "不上传"
PLAN_COLUMNS = {
    "文件": st.column_config.TextColumn(width="medium"),
    "说明": st.column_config.TextColumn(width="large"),
}


def section(me: Actor, *, town: str | None) -> None:
    """The whole 活动照片 tab: township, uploader, preview, hand matching and the confirm."""
    state = st.session_state
    limits = common.settings()
    st.caption(
        "可上传 zip 压缩包或多张照片。请在文件夹或文件名里写明单位和日期，例如"
        "“油草塘村/2025-06-03 理论宣讲/1.jpg”或“油草塘村-0603-1.jpg”；同一天有几项活动时，再写上活动名称中的词。"
        f"支持 JPEG、PNG、HEIC，单张不超过 {limits.photo_limit_mb} MB，"
        f"每次合计不超过 {limits.photo_upload_limit_mb} MB。"
    )
    pick = _township(me, town)
    files = st.file_uploader(
        LABEL,
        type=TYPES,
        accept_multiple_files=True,
        key=f"photo_uploader_{state.get('photo_round', 0)}",
        max_upload_size=limits.photo_upload_limit_mb,
    )
    if "photo_done" in state:
        _done(state.pop("photo_done"))
    if not files:
        return
    plan = _plan(me, files, pick)
    if plan is None:
        return
    _preview(plan)
    chosen = _hand_match(me, plan)
    _confirm(me, plan, chosen)


def _township(me: Actor, town: str | None) -> str | None:
    if me.is_town:
        st.caption(f"经办人：{text.md(me.name)}（只能上传{text.md(me.town)}的活动照片）")
        return None
    with common.session() as s:
        choices = [BY_NAMES, *towns(session=s)]
    picked = st.selectbox(
        "照片属于哪个乡镇（街道）",
        choices,
        index=choices.index(town) if town in choices else 0,
        format_func=text.clean,
        key="photo_town",
        help="文件名里只写村名、且该村名在几个乡镇都有时，按这里的乡镇确定。",
    )
    return None if picked == BY_NAMES else picked


def _plan(me: Actor, files: list[Any], pick: str | None) -> PhotoPlan | None:
    """The plan of these files, read once per upload (with progress) and kept until the confirm."""
    state = st.session_state
    key = (tuple(f.file_id for f in files), pick)
    if state.get("photo_key") != key:
        with st.status("正在读取照片…", expanded=True) as status:
            bar = st.progress(0.0, text="读取文件")
            try:
                limits = common.settings()
                incoming = read_files([(f.name, f.getvalue()) for f in files], limits)
                with common.session() as s:
                    found: PhotoPlan | str = plan_photos(
                        session=s,
                        actor=me,
                        settings=limits,
                        incoming=incoming,
                        town=pick,
                        progress=lambda p, text: bar.progress(min(max(p, 0.0), 1.0), text=text),
                    )
                status.update(label=f"已读取 {len(incoming)} 个文件", state="complete", expanded=False)
            except (UploadRefused, Forbidden) as exc:
                found = str(exc)
                status.update(label="照片未能读取", state="error", expanded=False)
        state["photo_plan"], state["photo_key"] = found, key
        state["photo_token"] = state.get("photo_token", 0) + 1
    plan = state["photo_plan"]
    if isinstance(plan, str):
        st.error(f"照片未能读取：{text.md(plan)}", icon=":material/error:")
        return None
    return plan


def _preview(plan: PhotoPlan) -> None:
    st.subheader("照片预览")
    st.caption("确认之前不会保存任何照片。")
    for column, (status, label) in zip(st.columns(len(STATUS_LABELS)), STATUS_LABELS.items(), strict=True):
        column.metric(label, plan.count(status))
    with common.session() as s:
        table = plan_table(session=s, plan=plan)
    st.dataframe(text.table(table), hide_index=True, column_config=PLAN_COLUMNS)


def _hand_match(me: Actor, plan: PhotoPlan) -> dict[int, int]:
    """A choice of activity for each photo the names did not settle; item index -> activity id."""
    with common.session() as s:
        choices = hand_choices(session=s, actor=me, plan=plan)
    if not choices:
        return {}
    st.markdown(f"**请为 {len(choices)} 张照片选择所属活动**")
    st.caption(f"候选活动排在最前；选“{SKIP}”则这张照片不保存。")
    token = st.session_state.get("photo_token", 0)
    chosen: dict[int, int] = {}
    for number, options in choices.items():
        item = plan.items[number]
        with st.container(border=True):
            left, right = st.columns([1, 3])
            if item.facts is not None:
                left.image(item.facts.thumb, width=160)
            right.markdown(f"**{text.md(item.name)}**")
            right.caption(f"{STATUS_LABELS[item.status]}：{text.md(item.message)}")
            picked = right.selectbox(
                "所属活动",
                [None, *options],
                format_func=lambda i, labels=options: SKIP if i is None else text.clean(labels[i]),
                key=f"photo_pick_{token}_{number}",
            )
        if picked is not None:
            chosen[number] = int(picked)
    return chosen


def _confirm(me: Actor, plan: PhotoPlan, chosen: dict[int, int]) -> None:
    state = st.session_state
    matched = plan.count("matched")
    ready = matched + len(chosen)
    st.caption(f"将保存 {ready} 张照片：已匹配 {matched} 张，手工匹配 {len(chosen)} 张；其余不保存。")
    if not st.button("确认上传照片", type="primary", disabled=ready == 0, icon=":material/cloud_upload:"):
        return
    limits = common.settings()
    try:
        with common.session() as s, st.spinner("正在保存照片…"):
            done = attach_plan(session=s, actor=me, settings=limits, store=open_store(limits), plan=plan, chosen=chosen)
    except (PhotoRefused, Busy, Forbidden, StoreError) as exc:
        st.error(f"照片未能保存：{text.md(exc)}", icon=":material/error:")
        return
    state["photo_done"] = done
    state["photo_round"] = state.get("photo_round", 0) + 1
    for key in ("photo_plan", "photo_key"):
        state.pop(key, None)
    st.rerun()


def _done(done: Attached) -> None:
    text = f"照片已保存：新增 {done.stored} 张"
    if done.duplicates:
        text += f"，{done.duplicates} 张此前已上传（未重复保存）"
    st.success(text + "。", icon=":material/check_circle:")
