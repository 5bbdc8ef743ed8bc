"""For a photo the names did not settle, the activities it may be matched to by hand; and a plan's
preview as the clerk reads it."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.models import Activity, Unit
from monitor.core.permissions import Actor, scope
from monitor.evidence.photos import STATUS_LABELS, PhotoPlan
from monitor.store.db import fetch_tuples


def _label_select() -> Any:
    """id, town, short_name, name, type, date, title of activities, for _labelled."""
    fields = [Activity.id, Unit.town, Unit.short_name, Unit.name, Unit.type, Activity.date, Activity.title]
    return select(*[col(f) for f in fields]).join(Unit, col(Unit.id) == col(Activity.unit_id))


def _labelled(session: Session, statement: Any, with_town: bool) -> dict[int, str]:
    """id -> “单位 · 日期 · 标题” for rows of (id, town, short_name, name, type, date, title)."""
    out: dict[int, str] = {}
    for activity_id, town, short, name, kind, day, title in fetch_tuples(session, statement):
        unit = str(name if kind == "center" else short)
        out[int(activity_id)] = f"{town if with_town else ''}{unit} · {str(day)[:10]} · {title}"
    return out


def activity_choices(
    *,
    session: Session,
    actor: Actor,
    town: str | None = None,
    unit_id: int | None = None,
    months: list[str] | None = None,
    ids: list[int] | None = None,
    limit: int = 300,
) -> dict[int, str]:
    """Activities a photo may be matched to by hand, newest first: id -> “单位 · 日期 · 标题”.

    Only activities the actor may attach photos to (town staff: their township's); narrowed to
    one unit, to some months (YYYY-MM) or to some ids when given.
    """
    town = scope(actor, "import", town)
    statement = _label_select().order_by(col(Activity.date).desc(), col(Unit.code), col(Activity.id)).limit(limit)
    if town:
        statement = statement.where(col(Unit.town) == town)
    if unit_id is not None:
        statement = statement.where(col(Activity.unit_id) == unit_id)
    if months is not None:
        statement = statement.where(col(Activity.month).in_(months))
    if ids is not None:
        statement = statement.where(col(Activity.id).in_(ids))
    return _labelled(session, statement, with_town=not town)


NEEDS_HAND = ("ambiguous", "unmatched")


def hand_choices(*, session: Session, actor: Actor, plan: PhotoPlan, limit: int = 300) -> dict[int, dict[int, str]]:
    """For each photo of a plan left to match by hand (item index), the activities to choose from:
    its candidates first, then its unit's activities, or, with no unit found, the township's in
    the months the upload speaks of (its latest activities when it names no month)."""
    needing = [n for n, item in enumerate(plan.items) if item.status in NEEDS_HAND and item.facts is not None]
    if not needing:
        return {}
    items = [plan.items[n] for n in needing]
    wanted = sorted({c for item in items for c in item.candidates})
    known = activity_choices(session=session, actor=actor, town=plan.town, ids=wanted) if wanted else {}
    by_unit = {
        unit: activity_choices(session=session, actor=actor, town=plan.town, unit_id=unit, limit=limit)
        for unit in sorted({item.unit_id for item in items if item.unit_id is not None})
    }
    township: dict[int, str] = {}
    if any(item.unit_id is None for item in items):
        township = activity_choices(
            session=session, actor=actor, town=plan.town, months=plan.months or None, limit=limit
        )
    out: dict[int, dict[int, str]] = {}
    for number, item in zip(needing, items, strict=True):
        options = {c: known[c] for c in item.candidates if c in known}
        rest = by_unit[item.unit_id] if item.unit_id is not None else township
        options.update((k, v) for k, v in rest.items() if k not in options)
        out[number] = options
    return out


PLAN_COLUMNS = ["文件", "状态", "单位", "活动日期", "活动名称", "说明"]


def plan_table(*, session: Session, plan: PhotoPlan) -> pd.DataFrame:
    """The preview of a plan as the clerk reads it: one row per file, with the activity it goes to."""
    ids = sorted({item.activity_id for item in plan.items if item.activity_id is not None})
    units = sorted({item.unit_id for item in plan.items if item.unit_id is not None})
    found: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(ids), 500):
        statement = _label_select().where(col(Activity.id).in_(ids[start : start + 500]))
        for activity_id, label in _labelled(session, statement, with_town=not plan.town).items():
            unit, day, title = label.split(" · ", 2)
            found[activity_id] = (unit, day, title)
    names: dict[int, str] = {}
    if units:
        fields = [col(Unit.id), col(Unit.town), col(Unit.short_name), col(Unit.name), col(Unit.type)]
        statement = select(*fields).where(col(Unit.id).in_(units))
        for unit_id, town, short, name, kind in fetch_tuples(session, statement):
            names[int(unit_id)] = f"{'' if plan.town else town}{name if kind == 'center' else short}"
    rows = []
    for item in plan.items:
        unit, day, title = found.get(item.activity_id or -1, (names.get(item.unit_id or -1, ""), "", ""))
        rows.append([item.name, STATUS_LABELS[item.status], unit, day, title, item.message])
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)
