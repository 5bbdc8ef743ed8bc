"""Roster import: units upserted by code; a unit is never deleted by an import.

No row may change a month up to the latest locked one (monitor.ingest.quotas): a new unit without
启用月份 counts from the month after it, and a row whose active months, township or type would
reach into those months is refused for its unit. The checks and the writes hold the writers'
lock in one transaction; a preview reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from monitor.core.calendar import shift_month
from monitor.core.config import TYPE_LABELS, Settings
from monitor.core.issues import Code, Issue, issue
from monitor.core.models import Activity, Unit
from monitor.core.normalize import parse_count, parse_month, short_unit_name
from monitor.core.permissions import Actor, require
from monitor.counts import townmonths
from monitor.files.readers import Column, FileError, read_table
from monitor.ingest.batches import ImportResult, keep_original, new_batch, rejected_rows, sha256_of
from monitor.ingest.quotas import (
    MAX_QUOTA,
    EditError,
    Place,
    effective_month,
    last_locked,
    locked_field,
    locked_words,
    set_rule,
)
from monitor.roster.grids import holds_from, in_force, quota_rules
from monitor.roster.units import UnknownType, parse_type
from monitor.store import audit
from monitor.store.db import BUSY_MESSAGE, Busy, begin_write, bump_version, is_busy

ROSTER_COLUMNS = [
    Column("code", "单位编码", ("code",), required=True),
    Column("name", "单位名称", ("name",), required=True),
    Column("type", "单位类型", ("type",), required=True),
    Column("town", "所属乡镇", ("town",)),
    Column("head", "负责人", ("head",)),
    Column("phone", "联系电话", ("phone",)),
    Column("quota", "月度任务", ("quota",)),
    Column("active_from", "启用月份", ("active_from",)),
    Column("active_to", "停用月份", ("active_to",)),
]
EDITABLE = ("name", "type", "town", "head", "phone", "quota", "active_from", "active_to")


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
TEXT_LIMITS = {"code": 64, "name": 200, "town": 100, "head": 100, "phone": 50}
CHANGE_COLUMNS = ["单位编码", "单位名称", "项目", "原值", "新值", "说明"]


def check_roster(frame: pd.DataFrame, headers: dict[str, str]) -> tuple[list[dict[str, object]], list[Issue]]:
    """Validate every roster row; return the unit records and the problems.

    A record holds only what the row says: a blank cell (or a column the file does not have) is
    left out of it, so that re-importing never erases a stored value.
    """
    records: list[dict[str, object]] = []
    errors: list[Issue] = []
    seen: dict[str, int] = {}
    for row, cells in zip(frame.index, frame.to_dict("records"), strict=True):
        found: list[Issue] = []
        for key in ("code", "name", "type"):
            if not cells[key]:
                found.append(issue(Code.MISSING_VALUE, row, headers[key]))
        for key, limit in TEXT_LIMITS.items():
            if len(cells[key]) > limit:
                found.append(
                    issue(Code.TOO_LONG, row, headers[key], cells[key], limit=limit, length=len(cells[key]), hint="。")
                )
        unit_type = None
        if cells["type"]:
            try:
                unit_type = parse_type(cells["type"])
            except UnknownType:
                found.append(issue(Code.BAD_TYPE, row, headers["type"], cells["type"]))
        if unit_type in ("institute", "station") and not cells["town"]:
            found.append(issue(Code.MISSING_VALUE, row, headers["town"]))
        record: dict[str, object] = {"code": cells["code"], "name": cells["name"], "type": unit_type}
        record["town"] = cells["town"] if unit_type != "center" else ""
        for key in ("head", "phone"):
            if cells[key]:
                record[key] = cells[key]
        if cells["quota"]:
            try:
                record["quota"] = parse_count(cells["quota"])
                if not 0 <= int(record["quota"] or 0) <= MAX_QUOTA:  # type: ignore[call-overload]
                    raise ValueError(cells["quota"])
            except (ValueError, OverflowError):
                found.append(issue(Code.BAD_NUMBER, row, headers["quota"], cells["quota"]))
        for key in ("active_from", "active_to"):
            if cells[key]:
                record[key] = parse_month(cells[key])
                if record[key] is None:
                    found.append(issue(Code.BAD_MONTH, row, headers[key], cells[key]))
        start, end = record.get("active_from"), record.get("active_to")
        if isinstance(start, str) and isinstance(end, str) and start > end:
            found.append(issue(Code.BAD_MONTH, row, headers["active_to"], cells["active_to"]))
        code = cells["code"]
        if code and code.casefold() in seen:
            found.append(issue(Code.DUPLICATE_CODE, row, headers["code"], code, first=seen[code.casefold()]))
        elif code:
            seen[code.casefold()] = row
        if found:
            errors.extend(found)
            continue
        records.append(record)
    return records, errors


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
        was = _place({}, unit)
        reason = locked_field(last=last, before=was, after=_place(fields, unit))
        if reason is not None:
            before, after = getattr(was, reason), getattr(_place(fields, unit), reason)
            done.refused[code.casefold()] = (reason, str(after or ""), _moves(reason, before, after, last))
            continue
        if quota_changed and from_month is None:
            message = (
                f"月度任务的调整自本月（{asked_month}）起生效，而 {asked_month} 已锁定，本行未导入："
                f"请在“修改单位”中选择之后的月份生效，或先解锁 {asked_month}。"
            )
            done.refused[code.casefold()] = ("quota", str(new_quota), message)
            continue
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
        if quota_changed:
            now = in_force(own, asked_month)
            was_quota = None if now is None else now.quota
            note = f"自 {from_month} 起生效"
            done.changes.append(_change(unit.code, unit.name, "quota", was_quota, new_quota, note))
        done.edits.append((unit, changed, quota_changed, new_quota))
        done.updated += 1
    return done


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


def _refusals(frame: pd.DataFrame, headers: dict[str, str], done: Upsert) -> list[Issue]:
    """The units plan_units refused, as issues at their rows (the first row of a code)."""
    rows: dict[str, int] = {}
    for row, code in zip(frame.index, frame["code"], strict=True):
        rows.setdefault(str(code).casefold(), int(row))
    code = Code.LOCKED_MONTH.value
    return [
        Issue(code=code, row=rows.get(key), column=headers.get(name, FIELD_LABELS[name]), value=value, message=text)
        for key, (name, value, text) in done.refused.items()
    ]


def import_units(
    *,
    session: Session,
    actor: Actor,
    data: bytes,
    file_name: str,
    settings: Settings,
    today: date,
    strict: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Validate and upsert a roster file in one transaction (reviewers and admins only).

    Units are updated by code; a blank cell or an absent column leaves the stored value as it is.
    """
    require(actor, "roster")
    digest = sha256_of(data)
    result = ImportResult(sha256=digest)
    batch = new_batch(kind="units", user=actor.name, file_name=file_name, digest=digest, size=len(data))
    try:
        table = read_table(
            data,
            ROSTER_COLUMNS,
            preferred_sheet="单位名册",
            anchors=("code", "name"),
            limit_bytes=settings.upload_limit_bytes,
        )
    except FileError as exc:
        result.file_error = Issue(code=exc.code, row=None, column=None, value="", message=exc.message)
        batch.status, batch.message = "refused", exc.message
        if not dry_run:
            session.add(batch)
            session.commit()
            result.batch_id = batch.id
        return result
    records, errors = check_roster(table.frame, table.headers)
    result.rows = len(table.frame)
    try:
        if not dry_run:
            begin_write(session, busy_seconds=settings.busy_seconds)  # the lock checks below and the writes are one
        asked = today.strftime("%Y-%m")
        try:
            from_month: str | None = effective_month(session=session, settings=settings, today=today, from_month=None)
        except EditError:  # only a quota change needs the month: its unit is refused if the file makes one
            from_month = None
        last = last_locked(session=session, settings=settings, today=today)
        done = plan_units(session, records, from_month=from_month, asked_month=asked, last=last)
        errors = sorted([*errors, *_refusals(table.frame, table.headers, done)], key=lambda e: e.row or 0)
        result.errors = errors
        result.rejected = len({e.row for e in errors})
        result.rejected_rows = rejected_rows(table.frame, table.headers, errors)
        if strict and errors:
            done = Upsert()
        result.created, result.updated, result.duplicates = done.created, done.updated, done.unchanged
        result.changes = changes_frame(done.changes)
        result.imported = result.created + result.updated
        if dry_run:
            session.rollback()
            return result
        apply_units(session, done, by=actor.name, from_month=from_month)
        batch.status = "refused" if strict and errors else "imported"
        batch.rows, batch.imported, batch.duplicates, batch.rejected = (
            result.rows,
            result.imported,
            result.duplicates,
            result.rejected,
        )
        session.add(batch)
        audit.record(
            session,
            actor=actor.name,
            action="roster_import",
            target=batch.file_name,
            after={"created": result.created, "updated": result.updated, "rejected": result.rejected},
            detail="；".join(f"{c['单位编码']} {c['项目']}：{c['原值']} → {c['新值']}" for c in done.changes[:50]),
        )
        if result.imported:
            session.flush()
            townmonths.rebuild(session)  # a township, type or active range may have moved any month's sums
            bump_version(session)
        session.commit()
    except Exception as exc:
        session.rollback()
        if not (isinstance(exc, Busy) or is_busy(exc)):
            raise
        busy = ImportResult(sha256=digest, rows=result.rows)
        busy.file_error = Issue(code="busy", row=None, column=None, value="", message=BUSY_MESSAGE)
        return busy
    result.batch_id = batch.id
    keep_original(data, uploads_dir=settings.uploads_dir, digest=digest, fmt=table.format)
    return result
