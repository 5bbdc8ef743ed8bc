"""Upserting units by code: what a roster's records would change (a preview reads only), then the
change itself, in the caller's transaction. No change may reach a month up to the latest locked one
(monitor.ingest.quotas)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from monitor.core.calendar import shift_month
from monitor.core.config import TYPE_LABELS
from monitor.core.models import Activity, Unit
from monitor.core.normalize import short_unit_name
from monitor.ingest.quotas import Place, locked_field, locked_words, set_rule
from monitor.roster.grids import Rule, holds_from, in_force, quota_rules

FIELD_LABELS = {
    "name": "单位名称",
    "type": "单位类型",
    "town": "所属乡镇",
    "head": "负责人",
    "phone": "联系电话",
    "quota": "月度任务",
    "active_from": "启用月份",
    "active_to": "停用月份",
}
CHANGE_COLUMNS = ["单位编码", "单位名称", "项目", "原值", "新值", "说明"]


@dataclass
class Upsert:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[dict[str, object]] = field(default_factory=list)  # one per unit and field changed
    refused: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code: field, value, message
    new: list[tuple[dict[str, object], int | None]] = field(default_factory=list)  # a unit to add, its own quota
    edits: list[tuple[Unit, dict[str, object], bool, int | None]] = field(default_factory=list)
    # ^ a unit, its fields that change, whether its own quota changes, and to what


def _left_out(session: Session, unit_id: int, active_from: object, active_to: object) -> int:
    """Stored activities of the unit dated outside [active_from, active_to]."""
    month = col(Activity.month)
    outside = []
    if isinstance(active_from, str) and active_from:
        outside.append(month < active_from)
    if isinstance(active_to, str) and active_to:
        outside.append(month > active_to)
    if not outside:
        return 0
    statement = select(func.count()).select_from(Activity).where(col(Activity.unit_id) == unit_id, or_(*outside))
    return int(session.exec(statement).one())


def _change(code: str, name: str, key: str, was: object, now: object, note: str = "") -> dict[str, object]:
    return {
        "单位编码": code,
        "单位名称": name,
        "项目": FIELD_LABELS[key],
        "原值": "" if was is None else str(was),
        "新值": "" if now is None else str(now),
        "说明": note,
    }


def _place(fields: dict[str, object], unit: Unit | None = None) -> Place:
    def value(key: str) -> object:
        return fields[key] if key in fields else getattr(unit, key, None)

    start, end = value("active_from"), value("active_to")
    return Place(
        type=str(value("type") or ""),
        town=str(value("town") or ""),
        active_from=start if isinstance(start, str) and start else None,
        active_to=end if isinstance(end, str) and end else None,
    )


def _plan_new(done: Upsert, record: dict[str, object], fields: dict[str, object], last: str | None) -> None:
    """A new unit: from the month after the latest locked one when no 启用月份 is given."""
    code, name = str(record["code"]), str(record["name"])
    quota = record.get("quota")
    if last is not None and not fields.get("active_from"):
        first = shift_month(last, 1)
        end = fields.get("active_to")
        if isinstance(end, str) and end < first:
            message = (
                f"未填启用月份的新单位自 {first} 起计入（{last} 及以前已锁定），"
                f"而停用月份为 {end}，本行未导入：请核对停用月份。"
            )
            done.refused[code.casefold()] = ("active_to", end, message)
            return
        fields["active_from"] = first
        note = f"未填启用月份，自 {first} 起计入（{last} 及以前已锁定）"
        done.changes.append(_change(code, name, "active_from", None, first, note))
    elif locked_field(last=last, before=None, after=_place(fields)) is not None:
        start = str(fields["active_from"])
        first = shift_month(str(last), 1)
        message = (
            f"新增单位自 {start} 起计入{locked_words(str(last))}，本行未导入："
            f"启用月份请填 {first} 或以后，或不填（自 {first} 起计入）。"
        )
        done.refused[code.casefold()] = ("active_from", start, message)
        return
    done.new.append(({"code": code, **fields}, quota if isinstance(quota, int) else None))
    done.created += 1


def _moves(key: str, before: object, after: object, last: str | None) -> str:
    """Why a known unit's row is refused: it would change a month up to the latest locked one."""
    labels = TYPE_LABELS if key == "type" else {}
    was, now = (labels.get(str(v), v) or "（空）" for v in (before, after))
    advice = (
        f"单位改属其他乡镇或类型的，可为原单位填写停用月份，再以新编码新增单位，或先解锁 {last}。"
        if key in ("town", "type")
        else f"如确需调整，请先解锁 {last}。"
    )
    return f"{FIELD_LABELS[key]} {was} → {now}{locked_words(str(last))}，本行未导入；{advice}"


@dataclass(frozen=True)
class _Terms:
    """What a plan judges the records by (plan_units)."""

    from_month: str | None  # the month a known unit's changed quota holds from; None: the unit is refused
    asked_month: str  # the month whose rule in force a quota is compared with
    last: str | None  # the latest locked month


@dataclass(frozen=True)
class _Edit:
    """A known unit's row: the fields it changes, the unit's own quota rules, and whether the row
    changes its quota, to `quota`."""

    unit: Unit
    changed: dict[str, object]
    own: list[Rule]
    quota_changed: bool
    quota: int | None


def plan_units(
    session: Session,
    records: list[dict[str, object]],
    *,
    from_month: str | None,
    asked_month: str,
    last: str | None = None,
) -> Upsert:
    """What upserting the records (by code, case-insensitive, only the fields a record holds) would do,
    reading only.

    A changed quota of a known unit holds from `from_month` (None: `asked_month` is locked, and the
    unit is refused); whether it changes is judged against the unit's rule in force in
    `asked_month`. `last` is the latest locked month: no change may reach it or a month before it.
    """
    existing = {u.code.casefold(): u for u in session.exec(select(Unit)).all()}
    rules = quota_rules(session)
    terms = _Terms(from_month=from_month, asked_month=asked_month, last=last)
    done = Upsert()
    for record in records:
        code = str(record["code"])
        unit = existing.get(code.casefold())
        fields = {k: v for k, v in record.items() if k not in ("code", "quota")}
        fields["short_name"] = short_unit_name(str(record["name"]))
        if unit is None:
            _plan_new(done, record, fields, last)
            continue
        changed = {k: v for k, v in fields.items() if getattr(unit, k) != v}
        own = rules.get(int(unit.id or 0), [])
        quota = record.get("quota")
        new_quota = quota if isinstance(quota, int) else None
        quota_changed = "quota" in record and not holds_from(own, asked_month, new_quota, default=None)
        if not changed and not quota_changed:
            done.unchanged += 1
            continue
        edit = _Edit(unit=unit, changed=changed, own=own, quota_changed=quota_changed, quota=new_quota)
        refused = _refused(edit, fields, terms)
        if refused is not None:
            done.refused[code.casefold()] = refused
            continue
        _note_changes(done, session, edit, terms)
        done.edits.append((unit, changed, quota_changed, new_quota))
        done.updated += 1
    return done


def _refused(edit: _Edit, fields: dict[str, object], terms: _Terms) -> tuple[str, str, str] | None:
    """Why a known unit's row is refused, as (field, value, message); None when it is not."""
    unit = edit.unit
    was = _place({}, unit)
    reason = locked_field(last=terms.last, before=was, after=_place(fields, unit))
    if reason is not None:
        before, after = getattr(was, reason), getattr(_place(fields, unit), reason)
        return (reason, str(after or ""), _moves(reason, before, after, terms.last))
    if edit.quota_changed and terms.from_month is None:
        asked_month = terms.asked_month
        message = (
            f"月度任务的调整自本月（{asked_month}）起生效，而 {asked_month} 已锁定，本行未导入："
            f"请在“修改单位”中选择之后的月份生效，或先解锁 {asked_month}。"
        )
        return ("quota", str(edit.quota), message)
    return None


def _note_changes(done: Upsert, session: Session, edit: _Edit, terms: _Terms) -> None:
    """The preview's rows for a known unit's row: one per field it changes, with what follows from it."""
    unit, changed = edit.unit, edit.changed
    for key, value in changed.items():
        if key not in FIELD_LABELS:
            continue
        note = ""
        if key in ("active_from", "active_to"):
            left = _left_out(
                session,
                int(unit.id or 0),
                changed.get("active_from", unit.active_from),
                changed.get("active_to", unit.active_to),
            )
            note = f"已存的 {left} 场活动不在新启用期内，不再计入" if left else ""
        done.changes.append(_change(unit.code, unit.name, key, getattr(unit, key), value, note))
    if edit.quota_changed:
        now = in_force(edit.own, terms.asked_month)
        was_quota = None if now is None else now.quota
        note = f"自 {terms.from_month} 起生效"
        done.changes.append(_change(unit.code, unit.name, "quota", was_quota, edit.quota, note))


def apply_units(session: Session, done: Upsert, *, by: str, from_month: str | None) -> None:
    """Store what plan_units planned, in the caller's transaction.

    A new unit's own quota holds from the beginning (it counts only from its first active month);
    a changed quota of a known unit holds from `from_month` on, so the months before keep the quota
    they were judged by.
    """
    added: list[tuple[Unit, int]] = []
    for fields, quota in done.new:
        unit = Unit.model_validate(fields)
        session.add(unit)
        if quota is not None:
            added.append((unit, quota))
    for unit, changed, quota_changed, quota in done.edits:
        for key, value in changed.items():
            setattr(unit, key, value)
        session.add(unit)
        if quota_changed:
            set_rule(session, unit_id=unit.id, quota=quota, from_month=str(from_month), by=by)
    if added:
        session.flush()
        for unit, quota in added:
            set_rule(session, unit_id=unit.id, quota=quota, from_month="", by=by)


def upsert_units(
    session: Session,
    records: list[dict[str, object]],
    *,
    by: str,
    from_month: str | None,
    asked_month: str | None = None,
    last: str | None = None,
) -> Upsert:
    """Create or update units by code: plan_units, then apply_units."""
    asked = asked_month if asked_month is not None else from_month or ""
    done = plan_units(session, records, from_month=from_month, asked_month=asked, last=last)
    apply_units(session, done, by=by, from_month=from_month)
    return done


def changes_frame(changes: list[dict[str, object]]) -> pd.DataFrame:
    """The preview's before → after table: one row per unit and field."""
    return pd.DataFrame(changes, columns=CHANGE_COLUMNS)
