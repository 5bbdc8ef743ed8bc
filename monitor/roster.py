"""Roster import: units upserted by code; a unit is never deleted by an import."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, select

from monitor import audit
from monitor.auth import Actor, require
from monitor.batches import ImportResult, keep_original, new_batch, rejected_rows, sha256_of
from monitor.config import Settings
from monitor.db import bump_version
from monitor.issues import Code, Issue, issue
from monitor.models import Unit
from monitor.normalize import parse_count, parse_month, short_unit_name
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


def check_roster(frame: pd.DataFrame, headers: dict[str, str]) -> tuple[list[dict[str, object]], list[Issue]]:
    """Validate every roster row; return the clean unit records and the problems."""
    records: list[dict[str, object]] = []
    errors: list[Issue] = []
    seen: dict[str, int] = {}
    for row, cells in zip(frame.index, frame.to_dict("records"), strict=True):
        found: list[Issue] = []
        for key in ("code", "name", "type"):
            if not cells[key]:
                found.append(issue(Code.MISSING_VALUE, row, headers[key]))
        unit_type = None
        if cells["type"]:
            try:
                unit_type = parse_type(cells["type"])
            except UnknownType:
                found.append(issue(Code.BAD_TYPE, row, headers["type"], cells["type"]))
        if unit_type in ("institute", "station") and not cells["town"]:
            found.append(issue(Code.MISSING_VALUE, row, headers["town"]))
        quota = None
        if cells["quota"]:
            try:
                quota = parse_count(cells["quota"])
            except ValueError:
                found.append(issue(Code.BAD_NUMBER, row, headers["quota"], cells["quota"]))
        months: dict[str, str | None] = {}
        for key in ("active_from", "active_to"):
            months[key] = parse_month(cells[key]) if cells[key] else None
            if cells[key] and months[key] is None:
                found.append(issue(Code.BAD_MONTH, row, headers[key], cells[key]))
        if months["active_from"] and months["active_to"] and months["active_from"] > months["active_to"]:
            found.append(issue(Code.BAD_MONTH, row, headers["active_to"], cells["active_to"]))
        code = cells["code"]
        if code and code.casefold() in seen:
            found.append(issue(Code.DUPLICATE_CODE, row, headers["code"], code, first=seen[code.casefold()]))
        elif code:
            seen[code.casefold()] = row
        if found:
            errors.extend(found)
            continue
        records.append(
            {
                "code": code,
                "name": cells["name"],
                "type": unit_type,
                "town": cells["town"],
                "head": cells["head"],
                "phone": cells["phone"],
                "quota": quota,
                **months,
            }
        )
    return records, errors


def upsert_units(session: Session, records: list[dict[str, object]]) -> tuple[int, int, int]:
    """Create or update units by code (case-insensitive). Returns (created, updated, unchanged)."""
    existing = {u.code.casefold(): u for u in session.exec(select(Unit)).all()}
    created = updated = unchanged = 0
    for record in records:
        unit = existing.get(str(record["code"]).casefold())
        record["short_name"] = short_unit_name(str(record["name"]))
        if unit is None:
            session.add(Unit.model_validate(record))
            created += 1
            continue
        changes = {k: v for k, v in record.items() if k != "code" and getattr(unit, k) != v}
        if not changes:
            unchanged += 1
            continue
        for key, value in changes.items():
            setattr(unit, key, value)
        session.add(unit)
        updated += 1
    return created, updated, unchanged


def import_units(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    settings: Settings,
    user: str = "",
    actor: Actor | None = None,
    strict: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Validate and upsert a roster file in one transaction (reviewers and admins only, given an actor)."""
    if actor is not None:
        require(actor, "roster")
        user = actor.name
    digest = sha256_of(data)
    result = ImportResult(sha256=digest)
    batch = new_batch(kind="units", user=user, file_name=file_name, digest=digest, size=len(data))
    try:
        table = read_table(data, ROSTER_COLUMNS, preferred_sheet="单位名册")
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
        result.created, result.updated, result.duplicates = upsert_units(session, records)
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
            actor=user,
            action="roster_import",
            target=batch.file_name,
            after={"created": result.created, "updated": result.updated, "rejected": result.rejected},
        )
        if result.imported:
            bump_version(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    result.batch_id = batch.id
    keep_original(data, uploads_dir=settings.uploads_dir, digest=digest, fmt=table.format)
    return result
