"""Activity import: one transaction per file, duplicates stored once, the batch recorded."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.issues import Issue
from monitor.core.models import Activity, ImportBatch
from monitor.core.permissions import Actor, scope
from monitor.files.readers import FileError, Table, read_table
from monitor.ingest import in_file
from monitor.ingest.batches import ImportResult, keep_original, new_batch, rejected_rows, sha256_of
from monitor.ingest.inserts import Progress, insert_activities, keep_as_written, key_order, no_progress
from monitor.ingest.validate import ACTIVITY_COLUMNS, UNIT_ANCHORS, UNIT_KEYS, Checked, UnitIndex, check_activities
from monitor.roster.units import units_frame
from monitor.store import audit
from monitor.store.db import BUSY_MESSAGE, Busy, begin_write, bump_version, fetch_tuples, is_busy
from monitor.store.locks import locked_months

# What a clerk may pick on the upload page: every format the reader takes (monitor.files.sources).
LEDGER_TYPES = ("csv", "txt", "xlsx", "xls", "ods", "docx")


def already_stored(session: Session, rows: pd.DataFrame) -> int:
    """How many of these (unit, date, title) rows are stored already; reads only, for a preview."""
    if rows.empty:
        return 0
    months = sorted(set(rows["month"].tolist()))
    stored = fetch_tuples(
        session,
        core_select(col(Activity.unit_id), col(Activity.date), col(Activity.title_key)).where(
            col(Activity.month).in_(months)
        ),
    )
    if not stored:
        return 0
    keys = pd.DataFrame.from_records(stored, columns=["unit_id", "date", "title_key"])
    keys["date"] = keys["date"].map(str)
    mine = pd.DataFrame(
        {
            "unit_id": rows["unit_id"].to_numpy(),
            "date": rows["date"].map(str).to_numpy(),
            "title_key": rows["title_key"],
        }
    )
    return int(len(mine.merge(keys.astype({"unit_id": "int64"}), on=["unit_id", "date", "title_key"])))


@dataclass
class _Import:
    """One activity file on its way in: who sends it, under which settings, and what it came to so far."""

    session: Session
    actor: Actor
    settings: Settings
    today: date
    data: bytes
    file_name: str
    batch: ImportBatch
    result: ImportResult
    progress: Progress
    fmt: str | None = None  # the file's format, once it is read

    @classmethod
    def start(
        cls,
        *,
        session: Session,
        actor: Actor,
        settings: Settings,
        today: date | None,
        data: bytes,
        file_name: str,
        progress: Progress,
    ) -> _Import:
        """The import of `data` on `today` (None: today where the district is), with its batch record
        (pending) and an empty result."""
        today = today or today_in(settings)
        digest = sha256_of(data)
        batch = new_batch(kind="activities", user=actor.name, file_name=file_name, digest=digest, size=len(data))
        batch.town = actor.town if actor.is_town else ""
        result = ImportResult(sha256=digest)
        return cls(session, actor, settings, today, data, file_name, batch, result, progress)

    def refused(self) -> ImportResult:
        """The file recorded as refused (_record); its result."""
        _record(
            self.session,
            self.batch,
            self.result,
            status="refused",
            settings=self.settings,
            data=self.data,
            fmt=self.fmt,
        )
        return self.result


def import_activities(
    *,
    session: Session,
    actor: Actor,
    data: bytes,
    file_name: str,
    settings: Settings,
    strict: bool = False,
    dry_run: bool = False,
    today: date | None = None,
    town: str | None = None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Validate and store one activity log. A dry run reports the same counts, writes nothing and
    takes no write lock.

    A township's staff may only report the township's own institute and stations (other rows
    are refused with forbidden_unit). The checks against the roster and the month locks run
    inside the write transaction that stores the rows, so a month locked meanwhile takes nothing.
    """
    town = scope(actor, "import", town)  # a township's staff report for their own township only
    run = _Import.start(
        session=session, actor=actor, settings=settings, today=today, data=data, file_name=file_name, progress=progress
    )
    result, batch = run.result, run.batch
    progress(0.0, "读取文件")
    try:
        table = _read(data, file_name=file_name, settings=settings)
        run.fmt = table.format
        # Pictures in the file are read and judged before the write lock is taken: that takes a moment.
        described = in_file.counted(table) if dry_run else in_file.describe_all(table, settings)
    except FileError as exc:
        result.file_error = Issue(code=exc.code, row=None, column=None, value="", message=exc.message)
        return result if dry_run else run.refused()
    if not dry_run:
        described.put_files(settings)  # the pictures' files, before the write lock; linked with their rows

    try:
        if not dry_run:
            begin_write(session, busy_seconds=settings.busy_seconds)
        progress(0.2, "校验数据")
        checked, unique_rows, pictures = _check(run, table, described, town=town)
        if dry_run:
            result.imported = len(unique_rows) - already_stored(session, unique_rows)
            result.duplicates = len(checked.rows) - result.imported
            session.rollback()
            return result
        if strict and checked.errors:
            session.rollback()
            result.duplicates = len(checked.rows) - len(unique_rows)
            return run.refused()
        progress(0.4, "写入数据库")
        reported = len(checked.rows)
        # The sheet as read and its checked copy are no longer needed: a million rows of them would
        # stay in memory beside the insert's own.
        del table, checked
        _store(run, unique_rows, reported=reported, pictures=pictures)
    except Exception as exc:
        session.rollback()
        if not (isinstance(exc, Busy) or is_busy(exc)):
            raise
        return _busy(session, batch, result, settings=settings, data=data, fmt=run.fmt, dry_run=dry_run)
    pictures.ensure(settings)
    result.batch_id = batch.id
    keep_original(data, uploads_dir=settings.uploads_dir, digest=result.sha256, fmt=run.fmt)
    progress(1.0, "完成")
    return result


def _read(data: bytes, *, file_name: str, settings: Settings) -> Table:
    """The file read as an activity log; a FileError when it cannot be."""
    return read_table(
        data,
        ACTIVITY_COLUMNS,
        preferred_sheet="活动台账",
        one_of=UNIT_KEYS,
        anchors=UNIT_ANCHORS,
        limit_bytes=settings.upload_limit_bytes,
        file_name=file_name,
        picture_limit_bytes=settings.photo_limit_bytes,
    )


def _check(
    run: _Import, table: Table, described: in_file.Described, *, town: str | None
) -> tuple[Checked, pd.DataFrame, in_file.Placed]:
    """The rows checked against the roster and the month locks as the session sees them, and the
    result told what was found: the check, the first row of each (unit, date, title) in key order,
    and the file's pictures placed on the rows."""
    session, actor, settings, today = run.session, run.actor, run.settings, run.today
    index = UnitIndex.build(units_frame(session=session))
    checked = check_activities(
        table,
        index,
        today=today,
        earliest=date(settings.earliest_year, 1, 1),
        locked_months=locked_months(session=session, settings=settings, today=today),
        allowed_town=actor.town if actor.is_town else None,
        town=town,
        file_name=run.file_name,
        town_source="账号所属乡镇" if actor.is_town else "上传时选择",
    )
    rows = checked.rows
    first = ~rows.duplicated(subset=["unit_id", "date", "title_key"], keep="first")
    # The first of each key, already in key order for the insert: one gather of the text columns.
    unique_rows = rows.iloc[key_order(rows, np.flatnonzero(first.to_numpy()))]
    result = run.result
    result.rows = len(table.frame)
    result.rejected = len(checked.rejected)
    result.rejected_rows = rejected_rows(table.frame, table.headers, checked.errors, table.locate)
    result.errors = _placed(table, checked.errors)
    result.warnings = _placed(table, checked.warnings)
    pictures = in_file.place(described, rows)
    result.reading = _reading(table, checked, pictures.summary())
    return checked, unique_rows, pictures


def _store(run: _Import, unique_rows: pd.DataFrame, *, reported: int, pictures: in_file.Placed) -> None:
    """Store the rows, the batch that brought them, the pictures placed on them and the audit entry,
    and commit: `reported` rows in the file, of which these are the first of each key."""
    session, batch, result, actor = run.session, run.batch, run.result, run.actor
    session.add(batch)
    session.flush()
    assert batch.id is not None  # given by the flush
    stored = insert_activities(
        session,
        unique_rows,
        batch_id=batch.id,
        stored_at=datetime.now(UTC),
        ordered=True,
        progress=lambda f, t: run.progress(0.4 + 0.55 * f, t),
    )
    keep_as_written(session, unique_rows)
    pictures.attach(session, actor=actor, settings=run.settings, today=run.today)
    result.imported = stored
    result.duplicates = reported - stored
    batch.status = "imported"
    _fill(batch, result)
    session.add(batch)
    audit.record(
        session,
        actor=actor.name,
        action="import",
        target=batch.file_name,
        detail=f"导入记录 #{batch.id}",
        after={
            "rows": result.rows,
            "imported": stored,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "sha256": result.sha256,
        },
    )
    if stored:
        bump_version(session)
    session.commit()


def _placed(table: Table, issues: list[Issue]) -> list[Issue]:
    """Issues at the sheet and row number a clerk finds them on, instead of the row ids of the table."""
    out = []
    for found in issues:
        if found.row is None:
            out.append(found)
            continue
        sheet, row = table.locate(found.row)
        out.append(replace(found, sheet=sheet, row=row))
    return out


def _reading(table: Table, checked: Checked, photos: dict[str, int] | None) -> dict[str, object] | None:
    """识别结果 as the preview and `--json` show it, with the context found for the first sheet, the
    cells read as typed and the pictures found inside the file."""
    if table.reading is None:
        return None
    table.reading.as_typed = []
    for row, column, text, read in checked.as_typed:
        sheet, shown = table.locate(row)
        table.reading.as_typed.append({"sheet": sheet, "row": shown, "column": column, "value": text, "read": read})
    table.reading.photos = photos
    context = checked.contexts[0] if checked.contexts else None
    if context is not None:
        table.reading.context = {
            "year": context.year,
            "month": context.month,
            "town": context.town,
            "source": context.sources,
        }
    return table.reading.to_json({c.key: c.header for c in ACTIVITY_COLUMNS})


def _busy(
    session: Session,
    batch: ImportBatch,
    result: ImportResult,
    *,
    settings: Settings,
    data: bytes,
    fmt: str | None,
    dry_run: bool,
) -> ImportResult:
    """Another writer held the database too long: nothing stored, the attempt recorded when it can be."""
    refused = ImportResult(sha256=result.sha256, rows=result.rows)
    refused.file_error = Issue(code="busy", row=None, column=None, value="", message=BUSY_MESSAGE)
    if dry_run:
        return refused
    fresh = ImportBatch.model_validate(batch.model_dump(exclude={"id"}))
    try:
        _record(session, fresh, refused, status="refused", settings=settings, data=data, fmt=fmt)
    except Exception as exc:  # still locked: the refusal is told to the user, the record cannot be written
        session.rollback()
        if not is_busy(exc):
            raise
    return refused


def _fill(batch, result: ImportResult) -> None:  # type: ignore[no-untyped-def]
    batch.rows = result.rows
    batch.imported = result.imported
    batch.duplicates = result.duplicates
    batch.rejected = result.rejected
    if result.file_error is not None:
        batch.message = result.file_error.message


def _record(
    session: Session,
    batch: ImportBatch,
    result: ImportResult,
    *,
    status: str,
    settings: Settings,
    data: bytes,
    fmt: str | None,
) -> None:
    """Record a refused file: who tried what, and keep the file for the reviewers."""
    batch.status = status
    _fill(batch, result)
    session.add(batch)
    audit.record(
        session,
        actor=batch.user,
        action="import_refused",
        target=batch.file_name,
        detail=result.file_error.message if result.file_error else f"{result.rejected} 行有问题（整份不导入）",
    )
    session.commit()
    result.batch_id = batch.id
    keep_original(data, uploads_dir=settings.uploads_dir, digest=result.sha256, fmt=fmt)


def read_path(path: str, *, limit_bytes: int) -> bytes:
    """A file's bytes, read no further than one byte past the limit: a larger file is then refused
    as too_large by the reader without ever being held whole."""
    with open(path, "rb") as handle:
        return handle.read(limit_bytes + 1)
