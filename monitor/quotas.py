"""Editing quotas and a unit's details on screen (the roster file import lives in roster.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from monitor import audit
from monitor.auth import Actor, require
from monitor.config import UNIT_TYPES
from monitor.db import bump_version
from monitor.models import TypeQuota, Unit
from monitor.normalize import parse_month


class EditError(ValueError):
    """A change that cannot be stored as given; the message says why, in Chinese."""


@dataclass(frozen=True)
class UnitChanges:
    quota: int | None
    head: str
    phone: str
    active_from: str
    active_to: str


def set_type_quotas(*, session: Session, quotas: dict[str, int], actor: Actor | None = None) -> None:
    if actor is not None:
        require(actor, "roster")
    before = {q.type: q.quota for q in session.exec(select(TypeQuota)).all()}
    for unit_type, quota in quotas.items():
        if unit_type not in UNIT_TYPES:
            raise EditError(f"未知单位类型 {unit_type}")
        if quota < 0:
            raise EditError("月度任务不能为负数。")
        row = session.get(TypeQuota, unit_type) or TypeQuota(type=unit_type, quota=quota)
        row.quota = quota
        session.add(row)
    audit.record(
        session,
        actor=actor.name if actor else "",
        action="quota_change",
        target="类型月度任务",
        before=before,
        after={**before, **quotas},
    )
    bump_version(session)
    session.commit()


def update_unit(*, session: Session, code: str, changes: UnitChanges, actor: Actor | None = None) -> Unit:
    if actor is not None:
        require(actor, "roster")
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise EditError(f"单位编码“{code}”不存在。")
    months = {}
    for key in ("active_from", "active_to"):
        text = getattr(changes, key).strip()
        months[key] = parse_month(text) if text else None
        if text and months[key] is None:
            raise EditError(f"“{text}”不是有效的年月，应写成 2025-03。")
    if months["active_from"] and months["active_to"] and months["active_from"] > months["active_to"]:
        raise EditError("停用月份不能早于启用月份。")
    if changes.quota is not None and changes.quota < 0:
        raise EditError("月度任务不能为负数。")
    fields = ("quota", "head", "phone", "active_from", "active_to")
    before = {k: getattr(unit, k) for k in fields}
    unit.quota = changes.quota
    unit.head = changes.head.strip()
    unit.phone = changes.phone.strip()
    unit.active_from = months["active_from"]
    unit.active_to = months["active_to"]
    session.add(unit)
    after = {k: getattr(unit, k) for k in fields}
    audit.record(
        session,
        actor=actor.name if actor else "",
        action="unit_change",
        target=f"{unit.code} {unit.name}",
        before={k: v for k, v in before.items() if before[k] != after[k]},
        after={k: v for k, v in after.items() if before[k] != after[k]},
    )
    bump_version(session)
    session.commit()
    session.refresh(unit)
    return unit
