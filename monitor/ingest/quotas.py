"""Editing quotas and a unit's details on screen (the roster file import lives in roster_file.py).

A quota change takes effect from a month on (default: the current month) and never reaches
into a locked month: past completion rates and interview lists stay as they were. The dated
rules (QuotaRule) are the one record of quotas; what a request would change is judged against
the rule in force in its month. Each write holds the writers' lock (monitor.store.db.begin_write)
from its lock check to its commit.

The latest locked month and every month before it keep their figures: a streak at a locked
month reaches back into the months before it, so a unit's active months, township or type may
only change where they touch no month up to the latest locked one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from monitor.core.calendar import BadPeriod, parse_month_arg
from monitor.core.config import DEFAULT_QUOTAS, UNIT_TYPES, Settings
from monitor.core.errors import Refusal
from monitor.core.models import QuotaRule, TypeQuota, Unit
from monitor.core.normalize import parse_month
from monitor.core.permissions import Actor, may_touch, require
from monitor.counts import townmonths
from monitor.roster.grids import holds_from, in_force, quota_rules, type_rule
from monitor.store import audit
from monitor.store.db import Busy, begin_write, bump_version
from monitor.store.locks import locked_months

MAX_QUOTA = 100


class EditError(Refusal, ValueError):
    """A change that cannot be stored as given; the message says why, in Chinese."""

    code = "refused"


@dataclass(frozen=True)
class UnitChanges:
    quota: int | None
    head: str
    phone: str
    active_from: str
    active_to: str


@dataclass(frozen=True)
class Saved:
    """What an edit did: the month a quota change holds from, and each field it changed as
    (before, after). An empty `changed`: the request changed nothing and nothing was written."""

    month: str
    changed: dict[str, tuple[object, object]]


@dataclass(frozen=True)
class Place:
    """What places a unit in a month's figures besides its counts."""

    type: str
    town: str
    active_from: str | None
    active_to: str | None


def begin(session: Session, settings: Settings) -> None:
    """The writers' lock for a quota or roster edit; a wait too long is an EditError (数据库正忙)."""
    try:
        begin_write(session, busy_seconds=settings.busy_seconds)
    except Busy as exc:
        raise EditError(str(exc)) from exc


def last_locked(*, session: Session, settings: Settings, today: date) -> str | None:
    """The latest locked month: it and every month before it keep their figures."""
    return max(locked_months(session=session, settings=settings, today=today), default=None)


def _counted_through(place: Place, last: str) -> tuple[str, str] | None:
    """The first and last month up to `last` in which a unit at `place` counts; None if none."""
    first, end = place.active_from or "", min(place.active_to or last, last)
    return (first, end) if first <= end else None


def locked_field(*, last: str | None, before: Place | None, after: Place) -> str | None:
    """The field whose change from `before` (None: a new unit) to `after` would change a month up to
    `last`, the latest locked month: active_from or active_to, town or type; None when none would."""
    if last is None:
        return None
    counted = None if before is None else _counted_through(before, last)
    if counted != _counted_through(after, last):
        if before is not None and before.active_from == after.active_from:
            return "active_to"
        return "active_from"
    if counted is not None and before is not None:
        for key in ("town", "type"):
            if getattr(before, key) != getattr(after, key):
                return key
    return None


def locked_words(last: str) -> str:
    """Why a change is refused, to end a message with."""
    return f"会改变 {last} 及以前月份的统计（{last} 已锁定，这些月份的统计不再变动）"


def asked_month(*, settings: Settings, today: date, from_month: str | None) -> str:
    """The month a change is asked to start: the current month unless given."""
    try:
        month = parse_month_arg(from_month) if from_month else today.strftime("%Y-%m")
    except BadPeriod as exc:
        raise EditError(str(exc)) from exc
    if month < f"{settings.earliest_year:04d}-01":
        raise EditError(f"生效月份 {month} 早于系统记录的起始年份。")
    return month


def effective_month(*, session: Session, settings: Settings, today: date, from_month: str | None) -> str:
    """The month a quota change starts: the current month unless given; never a locked month or before one."""
    month = asked_month(settings=settings, today=today, from_month=from_month)
    locked = sorted(m for m in locked_months(session=session, settings=settings, today=today) if m >= month)
    if locked:
        raise EditError(
            f"{'、'.join(locked)} 已锁定，月度任务的调整不能涉及已锁定月份：请选择 {locked[-1]} 之后的月份生效。"
        )
    return month


def set_rule(
    session: Session, *, unit_type: str = "", unit_id: int | None = None, quota: int | None, from_month: str, by: str
) -> None:
    """Put a rule in force from from_month on; rules of the same target from that month or later are replaced.

    TypeQuota and Unit.quota are kept equal to the target's latest rule, for older readers of the
    database only: nothing here reads them.
    """
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
    if unit_id is None:
        latest = session.get(TypeQuota, unit_type) or TypeQuota(type=unit_type, quota=0)
        latest.quota = int(quota or 0)
        session.add(latest)
    elif (unit := session.get(Unit, unit_id)) is not None:
        unit.quota = quota
        session.add(unit)


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
) -> Saved:
    """Each type's quota from a month on, where it differs from what the rules give from that month."""
    require(actor, "roster")
    for unit_type, quota in quotas.items():
        if unit_type not in UNIT_TYPES:
            raise EditError(f"未知单位类型 {unit_type}")
        _check_quota(quota)
    month = asked_month(settings=settings, today=today, from_month=from_month)
    begin(session, settings)
    try:
        rules = quota_rules(session)
        changed: dict[str, tuple[object, object]] = {
            unit_type: (type_rule(rules, unit_type, month).quota, quota)
            for unit_type, quota in quotas.items()
            if not holds_from(rules.get(unit_type, []), month, quota, default=DEFAULT_QUOTAS[unit_type])
        }
        if not changed:
            session.rollback()
            return Saved(month=month, changed={})
        effective_month(session=session, settings=settings, today=today, from_month=month)
        before = {t: type_rule(rules, t, month).quota for t in UNIT_TYPES}  # every type, as in force then
        for unit_type in changed:
            set_rule(session, unit_type=unit_type, quota=quotas[unit_type], from_month=month, by=actor.name)
        audit.record(
            session,
            actor=actor.name,
            action="quota_change",
            target="类型月度任务",
            before=before,
            after={**before, **{k: now for k, (_, now) in changed.items()}},
            detail=f"自 {month} 起生效",
        )
        session.flush()
        townmonths.rebuild(session)
        bump_version(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Saved(month=month, changed=changed)


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


def _range_words(before: Place, after: Place) -> str:
    """'启用月份 （空） → 2025-02' for each active month that changes."""
    words = []
    for key, label in (("active_from", "启用月份"), ("active_to", "停用月份")):
        was, now = getattr(before, key), getattr(after, key)
        if was != now:
            words.append(f"{label} {was or '（空）'} → {now or '（空）'}")
    return "、".join(words)


def update_unit(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    code: str,
    changes: UnitChanges,
    today: date,
    from_month: str | None = None,
) -> Saved:
    """A unit's head, phone and active months as given; its own quota from a month on.

    Active months that would change a month up to the latest locked one are refused.
    """
    require(actor, "roster")
    months = _months(changes)
    _check_quota(changes.quota)
    head, phone = changes.head.strip(), changes.phone.strip()
    if len(head) > 100 or len(phone) > 50:
        raise EditError("负责人不能超过 100 个字，联系电话不能超过 50 个字。")
    month = asked_month(settings=settings, today=today, from_month=from_month)
    begin(session, settings)
    try:
        unit = session.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None:
            raise EditError(f"单位编码“{code}”不存在。")
        may_touch(actor, "roster", unit.town)
        after: dict[str, object] = {"quota": changes.quota, "head": head, "phone": phone, **months}
        changed = _changed(session, unit, month=month, after=after, quota=changes.quota)
        if not changed:
            session.rollback()
            return Saved(month=month, changed={})
        _refuse_locked_range(session=session, settings=settings, today=today, unit=unit, months=months)
        detail = ""
        if "quota" in changed:
            effective_month(session=session, settings=settings, today=today, from_month=month)
            set_rule(session, unit_id=unit.id, quota=changes.quota, from_month=month, by=actor.name)
            detail = f"月度任务自 {month} 起生效"
        unit.head, unit.phone = head, phone
        unit.active_from = months["active_from"]
        unit.active_to = months["active_to"]
        session.add(unit)
        audit.record(
            session,
            actor=actor.name,
            action="unit_change",
            target=f"{unit.code} {unit.name}",
            before={k: old for k, (old, _) in changed.items()},
            after={k: new for k, (_, new) in changed.items()},
            detail=detail,
        )
        session.flush()
        townmonths.rebuild(session)  # its quota or active range counts in every month's sums
        bump_version(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Saved(month=month, changed=changed)


def _changed(
    session: Session, unit: Unit, *, month: str, after: dict[str, object], quota: int | None
) -> dict[str, tuple[object, object]]:
    """Each field of `after` that differs from the unit's, as (before, after); the quota (`quota`)
    when the unit's own rules do not already give it from `month` on."""
    own = quota_rules(session).get(int(unit.id or 0), [])
    now = in_force(own, month)
    before: dict[str, object] = {
        "quota": None if now is None else now.quota,
        "head": unit.head,
        "phone": unit.phone,
        "active_from": unit.active_from,
        "active_to": unit.active_to,
    }
    changed = {k: (before[k], after[k]) for k in after if k != "quota" and before[k] != after[k]}
    if not holds_from(own, month, quota, default=None):
        changed["quota"] = (before["quota"], quota)
    return changed


def _refuse_locked_range(
    *, session: Session, settings: Settings, today: date, unit: Unit, months: dict[str, str | None]
) -> None:
    """An EditError when the unit's new active months would change a month up to the latest locked one."""
    was = Place(unit.type, unit.town, unit.active_from, unit.active_to)
    moved = Place(unit.type, unit.town, months["active_from"], months["active_to"])
    last = last_locked(session=session, settings=settings, today=today)
    if last is not None and locked_field(last=last, before=was, after=moved):
        raise EditError(f"{_range_words(was, moved)}{locked_words(last)}，未保存；如确需调整，请先解锁 {last}。")
