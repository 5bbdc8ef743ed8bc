"""One activity on screen: its photos (a click opens the full picture), their EXIF times, the decision
and the feedback thread; 认定 / 不予认定 for reviewers; more photos and an answer for its township.

A card is a fragment: opening a picture or picking files reruns the card, not the page. A decision,
an answer or a photo stored reruns the whole page, whose counts move with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

from monitor.core.clock import local_text
from monitor.core.labels import town_label
from monitor.core.permissions import Actor, Forbidden, may
from monitor.evidence.gallery import GalleryItem, GalleryPhoto
from monitor.evidence.images import PhotoRefused, view_jpeg
from monitor.evidence.photo_removal import RemovalRefused, remove_photo
from monitor.evidence.photo_store import StoreError, open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import DECISIONS, ReviewRefused, decide, reply, thread
from monitor.store.db import Busy
from ui import common
from ui.text import clean, md

PHOTO_TYPES = ["jpg", "jpeg", "png", "heic", "heif"]
KEYS = {"recognised": "Y", "rejected": "N", "next": "Right", "previous": "Left"}
DECIDE_KEYS_HELP = "键盘：Y 认定 · N 不予认定（在理由框中写好理由后按回车即不予认定）"
KEYS_HELP = f"{DECIDE_KEYS_HELP} · → 下一项 · ← 上一项 · Tab 依次移到各按钮"
PER_ROW = 4


def _store_key() -> str:
    settings = common.settings()
    return settings.photo_store_url or str(settings.photos_dir)


def thumb(sha256: str) -> bytes | None:
    try:
        return open_store(common.settings()).get(sha256, "thumb")
    except StoreError:
        return None


@st.cache_data(max_entries=32, show_spinner=False)
def _full(store_key: str, sha256: str) -> bytes:
    """The original as a browser shows it (HEIC included); the store key keeps databases apart."""
    settings = common.settings()
    return view_jpeg(open_store(settings).get(sha256, "original"), max_pixels=settings.photo_max_pixels)


@st.dialog("原图", width="large")
def _original(sha256: str, caption: str) -> None:
    try:
        st.image(_full(_store_key(), sha256), caption=md(caption))
    except (StoreError, PhotoRefused) as exc:
        st.error(md(exc))


def _taken(photo: GalleryPhoto, item: GalleryItem) -> str:
    if not photo.taken_at:
        return "无拍摄时间（照片未记录）"
    shown = f"拍摄 {md(photo.taken_at[:16])}"
    try:
        days = abs((datetime.strptime(photo.taken_at[:10], "%Y-%m-%d").date() - item.date).days)
    except ValueError:
        return shown
    return f"⚠ {shown}，与活动日期相差 {days} 天" if days >= common.settings().photo_date_days else shown


def _removable(me: Actor, item: GalleryItem, photo: GalleryPhoto) -> bool:
    """Whether to offer 删除 (the domain decides): a reviewer's any photo, the uploader's own until review."""
    if may(me, "review"):
        return True
    return me.is_town and me.town == item.town and photo.uploaded_by == me.name and not item.decision


def _asking(key: str, asked: bool) -> None:
    if asked:
        st.session_state[key] = True
    else:
        st.session_state.pop(key, None)


def _remove(item: GalleryItem, photo: GalleryPhoto, me: Actor, key: str) -> None:
    """删除, then 确认删除 or 取消 in its place: nothing goes before the confirmation."""
    asking = f"{key}_remove_ask_{photo.id}"
    if not st.session_state.get(asking):
        st.button(
            "删除",
            key=f"{key}_remove_{photo.id}",
            type="tertiary",
            icon=":material/delete:",
            on_click=_asking,
            args=(asking, True),
        )
        return
    st.caption(f"删除照片“{md(photo.file_name)}”？删除后无法恢复。")
    st.button("取消", key=f"{key}_remove_no_{photo.id}", type="tertiary", on_click=_asking, args=(asking, False))
    if not st.button("确认删除", type="primary", icon=":material/delete:", key=f"{key}_remove_yes_{photo.id}"):
        return
    _asking(asking, False)
    try:
        with common.session() as s:
            remove_photo(
                session=s,
                actor=me,
                settings=common.settings(),
                store=open_store(common.settings()),
                photo_id=photo.id,
                today=common.today(),
            )
    except (RemovalRefused, Forbidden, Busy, StoreError) as exc:
        st.error(md(exc))
        return
    st.session_state[f"{key}_flash"] = [("success", f"已删除照片 {photo.file_name}。")]
    st.rerun()


def photos(item: GalleryItem, key: str, me: Actor | None = None) -> None:
    if not item.photos:
        st.caption("暂无照片。")
        return
    for first in range(0, len(item.photos), PER_ROW):
        for column, photo in zip(st.columns(PER_ROW), item.photos[first : first + PER_ROW], strict=False):
            with column:
                data = thumb(photo.sha256)
                if data is None:
                    st.caption("照片文件缺失")
                else:
                    st.image(data, width="stretch")
                st.caption(_taken(photo, item))
                label = f"{item.unit_name} {item.date:%Y-%m-%d} {item.title} · {photo.file_name}"
                if st.button("查看原图", key=f"{key}_full_{photo.id}", type="tertiary", icon=":material/zoom_in:"):
                    _original(photo.sha256, label)
                if me is not None and _removable(me, item, photo):
                    _remove(item, photo, me, key)


def _moment(value: object) -> str:
    """A stored moment in local time; SQLite's raw rows carry it as text in UTC."""
    if isinstance(value, str) and value:
        value = pd.Timestamp(value)
    return local_text(value, common.settings().timezone)


def decision(item: GalleryItem) -> None:
    """The decision as a badge (the page's errors and warnings stay for what went wrong) and its reason."""
    colour = {"pending": "gray", "recognised": "green", "rejected": "red", "answered": "orange"}[item.status]
    icon = {"pending": "pending", "recognised": "verified", "rejected": "block", "answered": "mark_chat_unread"}
    st.badge(item.status_label, icon=f":material/{icon[item.status]}:", color=colour)
    if item.decision:
        said = "理由" if item.decision == "rejected" else "意见"
        st.markdown(
            f"{DECISIONS[item.decision]} · {md(item.reviewer)} · {_moment(item.decided_at)}"
            + (f"　{said}：{md(item.reason)}" if item.reason else "")
        )


def _thread(item: GalleryItem, me: Actor) -> None:
    if not item.decision:
        return
    with common.session() as s:
        notes = thread(session=s, actor=me, activity_id=item.id)
    with st.expander(f"反馈记录（{len(notes)} 条）", expanded=item.status in ("rejected", "answered")):
        for note in notes.itertuples():
            st.markdown(f"**{note.kind_label}** · {md(note.author)} · {_moment(note.at)}  \n{md(note.text)}")


def _flash(key: str) -> None:
    for kind, text in st.session_state.pop(f"{key}_flash", []):
        (st.error if kind == "error" else st.success)(md(text))  # they quote file names


def _review_form(item: GalleryItem, me: Actor, key: str, shortcuts: bool, after: Callable[[], None] | None) -> None:
    # Enter in the reason box submits the form's first button: 不予认定, the one that needs the reason.
    with st.form(f"{key}_review", clear_on_submit=True, border=False):
        reason = st.text_input(
            "理由（不予认定必填）",
            key=f"{key}_reason",
            max_chars=1000,
            placeholder="如：照片与活动内容不符；无活动现场照片；与其他活动照片重复",
        )
        left, right, _ = st.columns([1, 1, 2])
        rejected = left.form_submit_button(
            "不予认定", icon=":material/block:", shortcut=KEYS["rejected"] if shortcuts else None, width="stretch"
        )
        recognised = right.form_submit_button(
            "认定",
            type="primary",
            icon=":material/verified:",
            shortcut=KEYS["recognised"] if shortcuts else None,
            width="stretch",
        )
    if not (rejected or recognised):
        return
    chosen = "rejected" if rejected else "recognised"
    try:
        with common.session() as s:
            decide(
                session=s,
                actor=me,
                settings=common.settings(),
                activity_id=item.id,
                decision=chosen,
                reason=reason,
                seen=item.decision or "",
                today=common.today(),
            )
    except (ReviewRefused, Forbidden, Busy) as exc:
        st.error(md(exc))
        return
    done = "已认定" if recognised else "不予认定"
    common.toast(f"{done}：{md(item.unit_name)} {item.date:%m-%d} {md(item.title)}", icon="✅")
    if after is not None:
        after()
    st.rerun()


def _answer_form(item: GalleryItem, me: Actor, key: str) -> None:
    replying = me.is_town and item.decision == "rejected"
    limit = common.settings().photo_limit_mb
    with st.form(f"{key}_more", clear_on_submit=True):
        st.markdown("**答复并补充照片**" if replying else "**补充照片**")
        files = st.file_uploader(
            f"照片（JPG、PNG、HEIC，每张不超过 {limit} MB）",
            type=PHOTO_TYPES,
            accept_multiple_files=True,
            key=f"{key}_files",
            max_upload_size=limit,
        )
        text = (
            st.text_area("答复", key=f"{key}_text", max_chars=1000, placeholder="说明整改情况或补充的材料")
            if replying
            else ""
        )
        sent = st.form_submit_button("提交答复" if replying else "上传照片", icon=":material/send:")
    if not sent:
        return
    if not files and not text.strip():
        st.warning("请选择照片或填写答复。")
        return
    notes, stored = [], 0
    store = open_store(common.settings())
    for upload in files or []:
        try:
            with common.session() as s:
                done = attach_one(
                    session=s,
                    actor=me,
                    settings=common.settings(),
                    store=store,
                    activity_id=item.id,
                    name=upload.name,
                    data=upload.getvalue(),
                )
            stored += done.stored
            if done.duplicates:
                notes.append(("error", f"{upload.name}：该照片已在此活动中。"))
        except (PhotoRefused, StoreError, Forbidden, Busy) as exc:
            notes.append(("error", f"{upload.name}：{exc}"))
    if replying and (stored or text.strip()):
        try:
            with common.session() as s:
                reply(
                    session=s,
                    actor=me,
                    settings=common.settings(),
                    activity_id=item.id,
                    text=text.strip() or f"已补充照片 {stored} 张。",
                    today=common.today(),
                )
            notes.append(("success", "答复已提交，审核人员将复核。"))
        except (ReviewRefused, Forbidden, Busy) as exc:
            notes.append(("error", str(exc)))
    if stored:
        notes.append(("success", f"已上传照片 {stored} 张。"))
    st.session_state[f"{key}_flash"] = notes
    st.rerun()


@st.fragment
def card(
    item: GalleryItem, *, me: Actor, key: str, shortcuts: bool = False, after: Callable[[], None] | None = None
) -> None:
    """The activity with everything the acting person may do on it. `shortcuts`: this card's buttons
    answer the keys in KEYS (only one card on a page may have them); `after` runs after a decision."""
    with st.container(border=True):
        st.markdown(
            f"#### {item.date:%Y-%m-%d} {md(item.title)}\n"
            f"{md(town_label(item.town))} · {md(item.unit_name)}（{md(item.unit_code)}）"
            + (f" · {md(item.category)}" if item.category else "")
            + (f" · {item.participants} 人参加" if item.participants is not None else "")
            + (f" · {md(item.location)}" if item.location else "")
        )
        _flash(key)
        photos(item, key, me)
        decision(item)
        _thread(item, me)
        if may(me, "review"):
            _review_form(item, me, key, shortcuts, after)
        if may(me, "import") and (not me.is_town or me.town == item.town):
            _answer_form(item, me, key)


def pick(items: list[GalleryItem], *, me: Actor, key: str, label: str = "查看活动（照片与认定）") -> None:
    """A select box of activities, the chosen one shown as a card."""
    if not items:
        return
    by_id = {i.id: i for i in items}
    names = {i.id: f"{i.date:%Y-%m-%d} {clean(i.title)}（{i.status_label}，照片 {len(i.photos)} 张）" for i in items}
    chosen = st.selectbox(label, list(by_id), format_func=names.__getitem__, key=key)
    card(by_id[chosen], me=me, key=f"{key}_{chosen}")
