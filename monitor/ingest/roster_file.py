"""Roster import: units upserted by code; a unit is never deleted by an import.

No row may change a month up to the latest locked one (monitor.ingest.quotas): a new unit without
启用月份 counts from the month after it, and a row whose active months, township or type would
reach into those months is refused for its unit. The checks and the writes hold the writers'
lock in one transaction; a preview reads only.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.core.issues import Code, Issue, issue
from monitor.core.models import ImportBatch
from monitor.core.normalize import parse_count, parse_month
from monitor.core.permissions import Actor, require
from monitor.counts import townmonths
from monitor.files.readers import Column, FileError, read_table
from monitor.ingest.batches import ImportResult, keep_original, new_batch, rejected_rows, sha256_of
from monitor.ingest.quotas import MAX_QUOTA, EditError, effective_month, last_locked
from monitor.ingest.roster_plan import FIELD_LABELS, Upsert, apply_units, changes_frame, plan_units
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
TEXT_LIMITS = {"code": 64, "name": 200, "town": 100, "head": 100, "phone": 50}


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
        return _refused_file(session, batch, result, exc, dry_run=dry_run)
    records, errors = check_roster(table.frame, table.headers)
    result.rows = len(table.frame)
    try:
        if not dry_run:
            begin_write(session, busy_seconds=settings.busy_seconds)  # the lock checks below and the writes are one
        done, from_month = _plan(session, settings=settings, today=today, records=records)
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
        _record(session, actor=actor, batch=batch, result=result, done=done)
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


def _refused_file(
    session: Session, batch: ImportBatch, result: ImportResult, exc: FileError, *, dry_run: bool
) -> ImportResult:
    """A file that cannot be read as a roster: the refusal, recorded unless a dry run."""
    result.file_error = Issue(code=exc.code, row=None, column=None, value="", message=exc.message)
    batch.status, batch.message = "refused", exc.message
    if not dry_run:
        session.add(batch)
        session.commit()
        result.batch_id = batch.id
    return result


def _plan(
    session: Session, *, settings: Settings, today: date, records: list[dict[str, object]]
) -> tuple[Upsert, str | None]:
    """plan_units under the month locks as the session sees them, and the month a changed quota holds
    from: the current month, or None when it is locked."""
    asked = today.strftime("%Y-%m")
    try:
        from_month: str | None = effective_month(session=session, settings=settings, today=today, from_month=None)
    except EditError:  # only a quota change needs the month: its unit is refused if the file makes one
        from_month = None
    last = last_locked(session=session, settings=settings, today=today)
    return plan_units(session, records, from_month=from_month, asked_month=asked, last=last), from_month


def _record(session: Session, *, actor: Actor, batch: ImportBatch, result: ImportResult, done: Upsert) -> None:
    """The batch and its audit entry stored, the township sums rebuilt when units changed; committed."""
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
