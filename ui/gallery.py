"""活动认定's gallery: the review queue's units one after the other, and a unit's activities one at a time
(上一项 / 下一项, keys ← →) with every activity of the month as a tile that opens it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from monitor.core.config import TYPE_LABELS
from monitor.core.labels import town_label
from monitor.core.permissions import Actor
from monitor.evidence.gallery import STATUS_LABELS, GalleryItem
from ui import activity_card
from ui.text import clean, md, table

QUEUE_HEADINGS = {
    "town": "所属乡镇",
    "name": "单位名称",
    "code": "单位编码",
    "type": "类型",
    "activities": "活动数",
    "photos": "照片数",
    "no_photo": "无照片活动",
    "pending": STATUS_LABELS["pending"],
    "rejected": STATUS_LABELS["rejected"],
    "answered": STATUS_LABELS["answered"],
    "recognised": STATUS_LABELS["recognised"],
}
TILES_PER_ROW = 4


def queue_table(queue: pd.DataFrame) -> pd.DataFrame:
    return table(queue.assign(type=queue["type"].map(TYPE_LABELS))[list(QUEUE_HEADINGS)].rename(columns=QUEUE_HEADINGS))


def unit_label(row: pd.Series) -> str:
    counts = [f"{label} {int(row[status])}" for status, label in STATUS_LABELS.items() if row[status]]
    return clean(f"{town_label(row['town'])}{row['name']}（{' · '.join(counts)}）")


def _step(key: str, codes: list[str], by: int) -> None:
    position = codes.index(st.session_state[key]) if st.session_state.get(key) in codes else 0
    st.session_state[key] = codes[(position + by) % len(codes)]


def stepper(key: str, codes: list[str]) -> Callable[[], None]:
    """A callback that moves the unit select box `key` on to the next unit."""
    return lambda: _step(key, codes, 1)


def pick_unit(queue: pd.DataFrame, *, key: str) -> str:
    """A unit of the queue: a select box showing what waits at each, and 上一个 / 下一个 单位."""
    codes = list(queue["code"])
    labels = dict(zip(codes, (unit_label(row) for _, row in queue.iterrows()), strict=True))
    if st.session_state.get(key) not in codes:
        waiting = queue[(queue["pending"] + queue["answered"]) > 0]
        st.session_state[key] = str(waiting["code"].iloc[0]) if len(waiting) else codes[0]
    choose, back, forward = st.columns([4, 1, 1], vertical_alignment="bottom")
    choose.selectbox("单位", codes, key=key, format_func=labels.__getitem__)
    back.button("上一个单位", on_click=_step, args=(key, codes, -1), width="stretch", icon=":material/arrow_upward:")
    forward.button(
        "下一个单位", on_click=_step, args=(key, codes, 1), width="stretch", icon=":material/arrow_downward:"
    )
    return str(st.session_state[key])


def _go(key: str, activity_id: int) -> None:
    st.session_state[key] = activity_id


def _next_waiting(items: list[GalleryItem], current: int) -> int:
    """The next activity after `current` still waiting for the reviewer; else simply the next one."""
    ids = [i.id for i in items]
    at = ids.index(current)
    later = items[at + 1 :] + items[:at]
    waiting = [i.id for i in later if i.status in ("pending", "answered")]
    return waiting[0] if waiting else ids[min(at + 1, len(ids) - 1)]


def unit_gallery(items: list[GalleryItem], *, me: Actor, key: str, next_unit: Callable[[], None] | None = None) -> None:
    """The current activity as a card with the keys, then all of the unit's activities as tiles."""
    ids = [i.id for i in items]
    if st.session_state.get(key) not in ids:
        waiting = [i.id for i in items if i.status in ("pending", "answered")]
        st.session_state[key] = waiting[0] if waiting else ids[0]
    at = ids.index(st.session_state[key])
    current = items[at]
    back, where, forward = st.columns([1, 4, 1], vertical_alignment="center")
    back.button(
        "上一项",
        on_click=_go,
        args=(key, ids[max(at - 1, 0)]),
        disabled=at == 0,
        shortcut=activity_card.KEYS["previous"],
        width="stretch",
        key=f"{key}_previous",
    )
    where.markdown(f"第 **{at + 1}** / {len(ids)} 项 · {current.status_label} · 照片 {len(current.photos)} 张")
    last = at == len(ids) - 1
    forward.button(
        "下一项",
        on_click=(next_unit if last and next_unit else _go),
        args=(() if last and next_unit else (key, ids[min(at + 1, len(ids) - 1)])),
        disabled=last and next_unit is None,
        help="本单位已是最后一项，转到下一个单位" if last and next_unit else None,
        shortcut=activity_card.KEYS["next"],
        type="primary",
        width="stretch",
        key=f"{key}_next",
    )
    st.caption(activity_card.KEYS_HELP)
    activity_card.card(
        current,
        me=me,
        key=f"{key}_{current.id}",
        shortcuts=True,
        after=lambda: _go(key, _next_waiting(items, current.id)),
    )
    tiles(items, key=key, current=current.id)


def tiles(items: list[GalleryItem], *, key: str, current: int | None = None) -> None:
    """Every activity as a small tile: its first photo, date and title, status; 打开 shows it above."""
    st.markdown(f"**本单位本月全部活动（{len(items)} 项）**")
    for first in range(0, len(items), TILES_PER_ROW):
        for column, item in zip(st.columns(TILES_PER_ROW), items[first : first + TILES_PER_ROW], strict=False):
            with column.container(border=True):
                thumb = activity_card.thumb(item.photos[0].sha256) if item.photos else None
                if thumb is not None:
                    st.image(thumb, width="stretch")
                else:
                    st.caption("暂无照片" if not item.photos else "照片文件缺失")
                st.markdown(f"**{item.date:%m-%d}** {md(item.title)}")
                st.caption(f"{item.status_label} · 照片 {len(item.photos)} 张")
                st.button(
                    "当前" if item.id == current else "打开",
                    key=f"{key}_open_{item.id}",
                    on_click=_go,
                    args=(key, item.id),
                    disabled=item.id == current,
                    type="tertiary",
                    icon=":material/open_in_full:",
                )
