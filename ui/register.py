"""活动登记: the form a clerk fills in at the event, phone first, and 我的登记 with its corrections.

Nothing is stored until 保存: the photos are read for their thumbnails as they are picked, and a
refused save keeps every field as typed. A saved activity clears the form for the next one.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
import streamlit as st

from monitor.core.errors import Refusal
from monitor.core.labels import DISTRICT, town_label
from monitor.core.permissions import Actor
from monitor.ingest.register import Registration, my_registrations, register_activity
from monitor.ingest.register_check import Entry, PhotoPreview, RegisterRefused, preview_photos
from monitor.ingest.register_edit import correct_registration, withdraw_registration
from monitor.ingest.register_units import units_to_register
from monitor.roster.units import towns
from ui import activity_card, common
from ui.activity_card import PHOTO_TYPES
from ui.text import clean, md

OTHER = "其他（自行填写）"


def _key(name: str) -> str:
    """A widget key of the form as it is now: a saved activity starts the next form afresh."""
    return f"reg{st.session_state.get('reg_round', 0)}_{name}"


def _units(me: Actor, today: date) -> pd.DataFrame:
    town = None
    if not me.is_town:
        with common.session() as s:
            choices = [*towns(session=s), DISTRICT]
        town = st.selectbox("乡镇（街道）", choices, key="reg_town", format_func=clean)
    with common.session() as s:
        return units_to_register(session=s, actor=me, town=town, today=today)


@st.cache_data(max_entries=64, show_spinner=False)
def _preview(digest: str, name: str, _data: bytes) -> PhotoPreview:
    """One photo's preview, cached on its SHA-256: Streamlit does not hash the bytes again (the leading _)."""
    return preview_photos([(name, _data)], common.settings())[0]


def _photos(files: list) -> list[tuple[str, bytes]]:  # type: ignore[type-arg]
    """The picked photos as (name, bytes), each shown as a thumbnail or with why it cannot be saved."""
    picked = [(f.name, f.getvalue()) for f in files]
    columns = st.columns(3)
    for i, (name, data) in enumerate(picked):
        shown = _preview(hashlib.sha256(data).hexdigest(), name, data)
        with columns[i % 3]:
            if shown.thumb:
                st.image(shown.thumb, width="stretch")
                st.caption(md(shown.name) + (f" · 拍摄 {shown.taken_at[:16]}" if shown.taken_at else ""))
            else:
                st.error(md(f"{shown.name}：{shown.problem}"), icon=":material/broken_image:")
    return picked


def _fields(prefix: str, start: Entry, today: date) -> Entry:
    """The activity's fields, filled from `start`; what they say now."""
    settings = common.settings()
    day = st.date_input("活动日期", value=start.day, max_value=today, key=f"{prefix}day", format="YYYY-MM-DD")
    title = st.text_input("活动名称", value=start.title, max_chars=200, key=f"{prefix}title")
    options = [*settings.categories, OTHER]
    known = start.category in settings.categories or not start.category
    picked = st.selectbox(
        "活动类型",
        options,
        index=options.index(start.category) if start.category and known else None,
        placeholder="请选择",
        key=f"{prefix}category",
    )
    category = picked or ""
    if picked == OTHER:
        category = st.text_input(
            "填写活动类型", value="" if known else start.category, max_chars=20, key=f"{prefix}other"
        )
    people = st.number_input(
        "参与人数", min_value=0, max_value=100_000, value=start.participants, step=1, key=f"{prefix}people"
    )
    location = st.text_input("活动地点", value=start.location, max_chars=200, key=f"{prefix}location")
    notes = st.text_area("备注", value=start.notes, max_chars=2000, height=80, key=f"{prefix}notes")
    return Entry(day, title.strip(), category.strip(), None if people is None else int(people), location, notes)


def _refused(exc: Refusal) -> None:
    found = getattr(exc, "issues", []) if isinstance(exc, RegisterRefused) else []
    lines = [i.message for i in found] or [str(exc)]
    st.error("未能保存，请修改后再试：\n\n" + "\n\n".join(md(line) for line in lines), icon=":material/error:")


def form(me: Actor, today: date) -> None:
    """The new activity: unit, fields, photos, 保存."""
    units = _units(me, today)
    if units.empty:
        st.info("没有可以登记活动的单位。")
        return
    labels = dict(zip(units["code"], units["name"], strict=True))
    code = st.selectbox("单位", list(labels), format_func=lambda c: clean(labels[c]), key=_key("unit"))
    entry = _fields(_key(""), Entry(today, ""), today)
    limits = common.settings()
    files = st.file_uploader(
        "活动照片（可拍照或从相册选择，可多张）",
        type=PHOTO_TYPES,
        accept_multiple_files=True,
        key=_key("photos"),
        max_upload_size=limits.photo_limit_mb,
        help=f"JPEG、PNG、HEIC，每张不超过 {limits.photo_limit_mb} MB。",
    )
    photos = _photos(files or [])
    if not st.button("保存", type="primary", icon=":material/save:", width="stretch", key=_key("save")):
        return
    try:
        with st.spinner("正在保存…"), common.session() as s:
            done = register_activity(
                session=s, actor=me, settings=limits, unit=code, entry=entry, photos=photos, today=today
            )
    except Refusal as exc:
        _refused(exc)
        return
    common.toast(f"已登记：{md(labels[code])} {done.day:%m月%d日} {md(done.title)}（照片 {done.photos} 张）", "✅")
    st.session_state["reg_round"] = st.session_state.get("reg_round", 0) + 1
    st.rerun()


def _correct(me: Actor, item: Registration, today: date) -> None:
    prefix = f"fix{item.activity.id}_"
    entry = _fields(prefix, item.entry, today)
    files = st.file_uploader(
        "补充照片",
        type=PHOTO_TYPES,
        accept_multiple_files=True,
        key=f"{prefix}photos",
        max_upload_size=common.settings().photo_limit_mb,
    )
    photos = _photos(files or [])
    left, right = st.columns(2)
    if left.button("保存修改", key=f"{prefix}save", type="primary", width="stretch"):
        try:
            with common.session() as s:
                correct_registration(
                    session=s,
                    actor=me,
                    settings=common.settings(),
                    activity_id=item.activity.id,
                    entry=entry,
                    photos=photos,
                    seen=item.entry,
                )
        except Refusal as exc:
            _refused(exc)
            return
        common.toast(f"已修改：{md(entry.title)}", "✏️")
        st.rerun()
    if right.toggle("撤回这项登记", key=f"{prefix}ask"):
        st.warning("撤回后这项活动不再计入任何统计，照片一并删除。", icon=":material/undo:")
        if st.button("确认撤回", key=f"{prefix}withdraw", width="stretch"):
            try:
                with common.session() as s:
                    withdraw_registration(
                        session=s, actor=me, settings=common.settings(), activity_id=item.activity.id, today=today
                    )
            except Refusal as exc:
                _refused(exc)
                return
            common.toast(f"已撤回：{md(item.activity.title)}", "↩️")
            st.rerun()


def mine(me: Actor, today: date) -> None:
    """我的登记: this month's and last month's, newest first, each with its photos and state."""
    with common.session() as s:
        found = my_registrations(session=s, actor=me, settings=common.settings(), today=today)
    if not found:
        st.caption("本月和上月还没有登记过活动。")
        return
    for item in found:
        a = item.activity
        state = item.review_state + (f"：{item.reason}" if item.reason else "")
        with st.expander(f"{a.date:%m-%d} {md(town_label(a.town) + a.unit_name)} · {md(a.title)} · {md(state)}"):
            activity_card.photos(a, key=f"mine_{a.id}")
            if item.open:
                _correct(me, item, today)
            else:
                st.caption("已认定或所在月份已锁定，不能再修改或撤回。")
