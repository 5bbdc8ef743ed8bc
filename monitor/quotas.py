"""Editing quotas and a unit's details on screen (the roster file import lives in roster.py).

A quota change takes effect from a month on (default: the current month) and never reaches
into a locked month: past completion rates and interview lists stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from monitor import audit, townmonths
from monitor.access import may_touch
from monitor.auth import Actor, require
from monitor.config import UNIT_TYPES, Settings
from monitor.db import bump_version
from monitor.locks import locked_months
from monitor.metrics import BadPeriod, parse_month_arg
from monitor.models import QuotaRule, TypeQuota, Unit
from monitor.normalize import parse_month

MAX_QUOTA = 100


class EditError(ValueError):
    """A change that cannot be stored as given; the message says why, in Chinese."""


@dataclass(frozen=True)
class UnitChanges:
    quota: int | None
    head: str
    phone: str
    active_from: str
    active_to: str


def effective_month(*, session: Session, settings: Settings, today: date, from_month: str | None) -> str:
    """The month a quota change starts: the current month unless given; never a locked month or before one."""
    try:
        month = parse_month_arg(from_month) if from_month else today.strftime("%Y-%m")
    except BadPeriod as exc:
        raise EditError(str(exc)) from exc
    if month < f"{settings.earliest_year:04d}-01":
        raise EditError(f"生效月份 {month} 早于系统记录的起始年份。")
    locked = sorted(m for m in locked_months(session=session, settings=settings, today=today) if m >= month)
    if locked:
        raise EditError(
            f"{'、'.join(locked)} 已锁定，月度任务的调整不能涉及已锁定月份：请选择 {locked[-1]} 之后的月份生效。"
        )
    return month


def set_rule(
    session: Session, *, unit_type: str = "", unit_id: int | None = None, quota: int | None, from_month: str, by: str
) -> None:
    """Put a rule in force from from_month on; rules of the same target from that month or later are replaced."""
    target = (col(QuotaRule.unit_type) == unit_type) & (
        col(QuotaRule.unit_id).is_(None) if unit_id is None else col(QuotaRule.unit_id) == unit_id
    )
    session.exec(delete(QuotaRule).where(target, col(QuotaRule.from_month) >= from_month))  # type: ignore[call-overload]
    session.add(
        QuotaRule(
            unit_type=unit_type,
            unit_id=unit_id,
            from_month=from_month,
            quota=quota,
            set_by=by,
            set_at=datetime.now(UTC),
        )
    )


def _check_quota(quota: int | None) -> None:
    if quota is not None and not 0 <= quota <= MAX_QUOTA:
        raise EditError(f"月度任务应为 0 到 {MAX_QUOTA} 之间的整数。")


def set_type_quotas(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    quotas: dict[str, int],
    today: date,
    from_month: str | None = None,
) -> str:
    """Each type's quota from a month on; returns that month."""
    require(actor, "roster")
    month = effective_month(session=session, settings=settings, today=today, from_month=from_month)
    before = {q.type: q.quota for q in session.exec(select(TypeQuota)).all()}
    for unit_type, quota in quotas.items():
        if unit_type not in UNIT_TYPES:
            raise EditError(f"未知单位类型 {unit_type}")
        _check_quota(quota)
        if before.get(unit_type) == quota:
            continue
        set_rule(session, unit_type=unit_type, quota=quota, from_month=month, by=actor.name)
        row = session.get(TypeQuota, unit_type) or TypeQuota(type=unit_type, quota=quota)
        row.quota = quota
        session.add(row)
    after = {**before, **quotas}
    audit.record(
        session,
        actor=actor.name,
        action="quota_change",
        target="类型月度任务",
        before=before,
        after=after,
        detail=f"自 {month} 起生效",
    )
    session.flush()
    townmonths.rebuild(session)
    bump_version(session)
    session.commit()
    return month


def _months(changes: UnitChanges) -> dict[str, str | None]:
    months: dict[str, str | None] = {}
    for key in ("active_from", "active_to"):
        text = getattr(changes, key).strip()
        months[key] = parse_month(text) if text else None
        if text and months[key] is None:
            raise EditError(f"“{text}”不是有效的年月，应写成 2025-03。")
    if months["active_from"] and months["active_to"] and months["active_from"] > months["active_to"]:
        raise EditError("停用月份不能早于启用月份。")
    return months


def update_unit(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    code: str,
    changes: UnitChanges,
    today: date,
    from_month: str | None = None,
) -> Unit:
    """A unit's head, phone and active months as given; its own quota from a month on."""
    require(actor, "roster")
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise EditError(f"单位编码“{code}”不存在。")
    may_touch(actor, "roster", unit.town)
    months = _months(changes)
    _check_quota(changes.quota)
    head, phone = changes.head.strip(), changes.phone.strip()
    if len(head) > 100 or len(phone) > 50:
        raise EditError("负责人不能超过 100 个字，联系电话不能超过 50 个字。")
    fields = ("quota", "head", "phone", "active_from", "active_to")
    before = {k: getattr(unit, k) for k in fields}
    detail = ""
    if changes.quota != unit.quota:
        month = effective_month(session=session, settings=settings, today=today, from_month=from_month)
        set_rule(session, unit_id=unit.id, quota=changes.quota, from_month=month, by=actor.name)
        unit.quota = changes.quota
        detail = f"月度任务自 {month} 起生效"
    unit.head, unit.phone = head, phone
    unit.active_from = months["active_from"]
    unit.active_to = months["active_to"]
    session.add(unit)
    after = {k: getattr(unit, k) for k in fields}
    audit.record(
        session,
        actor=actor.name,
        action="unit_change",
        target=f"{unit.code} {unit.name}",
        before={k: v for k, v in before.items() if before[k] != after[k]},
        after={k: v for k, v in after.items() if before[k] != after[k]},
        detail=detail,
    )
    session.flush()
    townmonths.rebuild(session)  # its quota or active range counts in every month's sums
    bump_version(session)
    session.commit()
    session.refresh(unit)
    return unit
