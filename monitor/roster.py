"""Roster import: units upserted by code; a unit is never deleted by an import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from monitor import audit, townmonths
from monitor.auth import Actor, require
from monitor.batches import ImportResult, keep_original, new_batch, rejected_rows, sha256_of
from monitor.config import Settings
from monitor.db import bump_version
from monitor.issues import Code, Issue, issue
from monitor.models import Activity, Unit
from monitor.normalize import parse_count, parse_month, short_unit_name
from monitor.quotas import MAX_QUOTA, EditError, effective_month, set_rule
from monitor.readers import Column, FileError, read_table
from monitor.units import UnknownType, parse_type

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


class QuotaMonthLocked(Exception):
    """A roster changes a unit's quota while the month it would take effect is locked."""


def upsert_units(session: Session, records: list[dict[str, object]], *, by: str, from_month: str | None) -> Upsert:
    """Create or update units by code (case-insensitive), only the fields a record holds.

    A new unit's own quota holds from the beginning; a changed quota of a known unit holds from
    `from_month` on, so the months before keep the quota they were judged by.
    """
    existing = {u.code.casefold(): u for u in session.exec(select(Unit)).all()}
    done = Upsert()
    new_rules: list[tuple[Unit, int]] = []
    for record in records:
        unit = existing.get(str(record["code"]).casefold())
        fields = {k: v for k, v in record.items() if k != "code"}
        fields["short_name"] = short_unit_name(str(record["name"]))
        if unit is None:
            unit = Unit.model_validate({"code": record["code"], **fields})
            session.add(unit)
            existing[str(record["code"]).casefold()] = unit
            if unit.quota is not None:
                new_rules.append((unit, unit.quota))
            done.created += 1
            continue
        changed = {k: v for k, v in fields.items() if getattr(unit, k) != v}
        if not changed:
            done.unchanged += 1
            continue
        for key, value in changed.items():
            if key in FIELD_LABELS:
                note = ""
                if key == "quota":
                    note = f"自 {from_month} 起生效"
                if key in ("active_from", "active_to"):
                    left = _left_out(
                        session,
                        int(unit.id or 0),
                        changed.get("active_from", unit.active_from),
                        changed.get("active_to", unit.active_to),
                    )
                    note = f"已存的 {left} 场活动不在新启用期内，不再计入" if left else ""
                done.changes.append(
                    {
                        "单位编码": unit.code,
                        "单位名称": unit.name,
                        "项目": FIELD_LABELS[key],
                        "原值": "" if getattr(unit, key) is None else str(getattr(unit, key)),
                        "新值": "" if value is None else str(value),
                        "说明": note,
                    }
                )
            setattr(unit, key, value)
        if "quota" in changed:
            if from_month is None:
                raise QuotaMonthLocked(str(record["code"]))
            set_rule(session, unit_id=unit.id, quota=unit.quota, from_month=from_month, by=by)
        session.add(unit)
        done.updated += 1
    if new_rules:
        session.flush()
        for unit, quota in new_rules:
            set_rule(session, unit_id=unit.id, quota=quota, from_month="", by=by)
    return done


def changes_frame(changes: list[dict[str, object]]) -> pd.DataFrame:
    """The preview's before → after table: one row per unit and field."""
    return pd.DataFrame(changes, columns=CHANGE_COLUMNS)


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
    result.errors = errors
    result.rejected = len({e.row for e in errors})
    result.rejected_rows = rejected_rows(table.frame, table.headers, errors)
    if strict and errors:
        records = []
    try:
        from_month: str | None = effective_month(session=session, settings=settings, today=today, from_month=None)
    except EditError as exc:  # only a quota change needs the month: refused below if the file makes one
        from_month, locked = None, str(exc)
    try:
        try:
            done = upsert_units(session, records, by=actor.name, from_month=from_month)
        except QuotaMonthLocked:
            session.rollback()
            result.file_error = Issue(code="locked_month", row=None, column=None, value="", message=locked)
            return result
        result.created, result.updated, result.duplicates = done.created, done.updated, done.unchanged
        result.changes = changes_frame(done.changes)
        result.imported = result.created + result.updated
        if dry_run:
            session.rollback()
            return result
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
    except Exception:
        session.rollback()
        raise
    result.batch_id = batch.id
    keep_original(data, uploads_dir=settings.uploads_dir, digest=digest, fmt=table.format)
    return result
