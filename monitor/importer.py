"""Activity import: one transaction per file, duplicates stored once, the batch recorded."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import select as core_select
from sqlalchemy import text
from sqlmodel import Session, col

from monitor import audit, unitmonths
from monitor.access import scope
from monitor.auth import Actor
from monitor.batches import ImportResult, keep_original, new_batch, rejected_rows, sha256_of
from monitor.config import Settings
from monitor.db import BUSY_MESSAGE, Busy, begin_write, bump_version, fetch_tuples, is_busy
from monitor.issues import Issue
from monitor.locks import locked_months
from monitor.models import Activity, ImportBatch
from monitor.readers import FileError, Table, read_table
from monitor.units import units_frame
from monitor.validate import ACTIVITY_COLUMNS, UNIT_ANCHORS, UNIT_KEYS, Checked, UnitIndex, check_activities

Progress = Callable[[float, str], None]

INSERT_COLUMNS = (
    "unit_id",
    "date",
    "month",
    "title",
    "title_key",
    "category",
    "participants",
    "volunteers",
    "location",
    "photos",
    "notes",
    "batch_id",
    "stored_at",
)
STAGED_COLUMNS = INSERT_COLUMNS[:-2]  # PostgreSQL's staging table is sent these; batch and time are constants
STAGING = "activity_in"
STAGED_KEYS = "activity_in_keys"  # the staged rows counted per (month, unit_id)
WRITERS_LOCK = 72_310_006  # PostgreSQL advisory lock: writers of activities take turns
STAGED_TYPES = {
    "batch_id": pa.int64(),
    "unit_id": pa.int64(),
    "date": pa.date32(),
    "participants": pa.int64(),
    "volunteers": pa.int64(),
    "photos": pa.int64(),
}
CHUNK = 50_000
SQLITE_BULK_CACHE_KIB = 256 * 1024  # page cache of SQLite during a bulk insert


def _quiet(_fraction: float, _text: str) -> None:
    return None


def today_in(settings: Settings) -> date:
    return datetime.now(settings.timezone).date()


def _csv(part: pd.DataFrame, constants: Mapping[str, object] | None = None) -> bytes:
    """The rows' STAGED_COLUMNS (then `constants`, the same on every row) as PostgreSQL's COPY (FORMAT
    csv) reads them: every text quoted (an empty one as ""), a missing count as an unquoted empty
    field, which COPY reads as NULL."""
    columns = {
        name: pa.array(part[name], type=STAGED_TYPES.get(name, pa.string()), from_pandas=True)
        for name in STAGED_COLUMNS
    }
    for name, value in (constants or {}).items():
        columns[name] = pa.repeat(pa.scalar(value, type=STAGED_TYPES.get(name, pa.string())), len(part))
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue()


def _insert_postgres(
    cursor: Any, rows: pd.DataFrame, *, batch_id: int | None, stored_at: datetime, progress: Progress
) -> int:
    """PostgreSQL: the rows sent with COPY; returns rows stored. Their counts per unit-month are left
    in the temporary table STAGED_KEYS (month, unit_id, activities).

    Writers of activities take turns (a transaction-scoped advisory lock, waited for no longer than
    the write's lock_timeout). Holding it, a file none of whose unit-months holds a stored activity
    is copied straight into the table, in key order: no row can meet a stored one, and no other
    writer can store one meanwhile. Otherwise the rows are staged in a temporary table and each is
    inserted unless its (unit, date, title) is stored already. Rows are sent as CSV written by
    pyarrow: a Python call per row would take longer than the server's insert.
    """
    total = len(rows)
    counts = rows.groupby(["month", "unit_id"], sort=True).size().rename("activities").reset_index()
    cursor.execute(f"DROP TABLE IF EXISTS {STAGED_KEYS}")
    cursor.execute(
        f"CREATE TEMP TABLE {STAGED_KEYS} (month varchar(7), unit_id integer, activities integer) ON COMMIT DROP"
    )
    with cursor.copy(f"COPY {STAGED_KEYS} FROM STDIN (FORMAT csv)") as copy:
        keys = pa.table(
            {
                "month": pa.array(counts["month"], type=pa.string()),
                "unit_id": pa.array(counts["unit_id"], type=pa.int64()),
                "activities": pa.array(counts["activities"], type=pa.int64()),
            }
        )
        out = io.BytesIO()
        pacsv.write_csv(keys, out, pacsv.WriteOptions(include_header=False))
        copy.write(out.getvalue())
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (WRITERS_LOCK,))
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {STAGED_KEYS} k JOIN activity a ON a.month = k.month AND a.unit_id = k.unit_id)"
    )
    if not cursor.fetchone()[0]:
        # In the unique key's order, each index page is filled while it is in memory.
        order = np.lexsort((pd.factorize(rows["date"], sort=True)[0], rows["unit_id"].to_numpy()))
        constants = {"batch_id": batch_id, "stored_at": stored_at.isoformat()}
        names = ", ".join([*STAGED_COLUMNS, *constants])
        for start in range(0, total, CHUNK):
            with cursor.copy(f"COPY activity ({names}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(_csv(rows.iloc[order[start : start + CHUNK]], constants))
            progress(min(1.0, (start + CHUNK) / total), "写入数据库")
        return total
    staged = ", ".join(STAGED_COLUMNS)
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    cursor.execute(f"CREATE TEMP TABLE {STAGING} ON COMMIT DROP AS SELECT {staged} FROM activity WITH NO DATA")
    for start in range(0, total, CHUNK):
        with cursor.copy(f"COPY {STAGING} ({staged}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(_csv(rows.iloc[start : start + CHUNK]))
        progress(min(1.0, (start + CHUNK) / total), "写入数据库")
    # In key order: each index page is filled while it is in memory. The sort of a large file fits
    # in memory for this transaction instead of spilling to disk.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute(
        f"INSERT INTO activity ({', '.join(INSERT_COLUMNS)}) SELECT {staged}, %s, %s FROM {STAGING} "
        "ORDER BY unit_id, date, title_key ON CONFLICT (unit_id, date, title_key) DO NOTHING",
        (batch_id, stored_at),
    )
    stored = int(cursor.rowcount)
    if batch_id is not None and stored < total:
        cursor.execute(
            "INSERT INTO activitybatch (activity_id, batch_id) SELECT a.id, %s FROM activity a "
            f"JOIN {STAGING} i ON a.unit_id = i.unit_id AND a.date = i.date AND a.title_key = i.title_key "
            "WHERE a.batch_id IS DISTINCT FROM %s ON CONFLICT DO NOTHING",
            (batch_id, batch_id),
        )
    return stored


def insert_activities(
    session: Session, rows: pd.DataFrame, *, batch_id: int, stored_at: datetime, progress: Progress = _quiet
) -> int:
    """Bulk INSERT ... ON CONFLICT DO NOTHING in the session's transaction, and the unit × month counts
    of the rows stored; returns rows stored."""
    connection = session.connection()
    total = len(rows)
    if total == 0:
        return 0
    postgres = connection.dialect.name == "postgresql"
    floor = int(connection.execute(text("SELECT coalesce(max(id), 0) FROM activity")).scalar_one())
    # The rows become Python values one chunk at a time, in the loops below: a million rows of
    # Python strings and tuples held at once would add half a gigabyte to the import.
    if not postgres:
        iso = {day: day.isoformat() for day in set(rows["date"].tolist())}  # a year has 365 dates
        stamp = stored_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    names = ", ".join(INSERT_COLUMNS)
    raw = connection.connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    stored = 0
    try:
        if postgres:
            stored = _insert_postgres(cursor, rows, batch_id=batch_id, stored_at=stored_at, progress=progress)
        else:
            # batch_id and stored_at are the same on every row: written into the statement once (an
            # integer and the timestamp text made above) instead of bound on each of a million rows.
            marks = ", ".join("?" * (len(INSERT_COLUMNS) - 2))
            batch = "NULL" if batch_id is None else str(int(batch_id))
            sql = (
                f"INSERT INTO activity ({names}) VALUES ({marks}, {batch}, '{stamp}') "
                "ON CONFLICT (unit_id, date, title_key) DO NOTHING"
            )
            # The unique and month indexes take the rows in random key order: with SQLite's default
            # 2 MiB page cache most inserts miss it. A larger cache for the bulk insert, then back.
            cache_size = cursor.execute("PRAGMA cache_size").fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = {-SQLITE_BULK_CACHE_KIB}")
            # In the unique key's order, each index page is filled while it is in the cache instead of
            # being read back for every row: a fifth less time on a large file. Sorted once, then
            # sliced: taking each chunk by positions would gather the text columns anew every time.
            order = np.lexsort((pd.factorize(rows["date"], sort=True)[0], rows["unit_id"].to_numpy()))
            ordered = rows.take(order)
            try:
                for start in range(0, total, CHUNK):
                    part = ordered.iloc[start : start + CHUNK]
                    columns = [part[c].tolist() for c in INSERT_COLUMNS[:-2]]
                    columns[1] = [iso[day] for day in columns[1]]
                    before = raw.total_changes  # type: ignore[union-attr]
                    cursor.executemany(sql, zip(*columns, strict=True))
                    stored += raw.total_changes - before  # type: ignore[union-attr]
                    progress(min(1.0, (start + CHUNK) / total), "写入数据库")
                if batch_id is not None and stored < total:
                    # The rows already stored by another batch: this batch reported them too.
                    cursor.executemany(
                        "INSERT OR IGNORE INTO activitybatch (activity_id, batch_id) SELECT id, ? FROM activity "
                        "WHERE unit_id = ? AND date = ? AND title_key = ? AND batch_id IS NOT ?",
                        (
                            (batch_id, unit, iso[day], key, batch_id)
                            for unit, day, key in zip(
                                rows["unit_id"].tolist(), rows["date"].tolist(), rows["title_key"].tolist(), strict=True
                            )
                        ),
                    )
            finally:
                cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
    finally:
        cursor.close()
    if stored == total and postgres:  # every row given is new: counted from the staging table
        months = set(rows["month"].unique().tolist())
        unitmonths.add_staged(session, grouped=STAGED_KEYS, stored_at=stored_at, months=months)
    elif stored == total:  # every row given is new: their counts come from the rows in hand
        counts = rows.groupby(["month", "unit_id"], sort=True).size()
        unitmonths.add_counted(session, counts=counts, stored_at=stored_at)
    elif stored:  # the rows this batch stored first carry its id: their counts, in one grouped statement
        months = set(rows["month"].tolist())
        unitmonths.add_stored(session, batch_id=batch_id, floor=floor, stored_at=stored_at, months=months)
    return stored


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
    progress: Progress = _quiet,
) -> ImportResult:
    """Validate and store one activity log. A dry run reports the same counts, writes nothing and
    takes no write lock.

    A township's staff may only report the township's own institute and stations (other rows
    are refused with forbidden_unit). The checks against the roster and the month locks run
    inside the write transaction that stores the rows, so a month locked meanwhile takes nothing.
    """
    town = scope(actor, "import", town)  # a township's staff report for their own township only
    today = today or today_in(settings)
    digest = sha256_of(data)
    result = ImportResult(sha256=digest)
    batch = new_batch(kind="activities", user=actor.name, file_name=file_name, digest=digest, size=len(data))
    batch.town = actor.town if actor.is_town else ""
    progress(0.0, "读取文件")
    fmt = None
    try:
        table = read_table(
            data,
            ACTIVITY_COLUMNS,
            preferred_sheet="活动台账",
            one_of=UNIT_KEYS,
            anchors=UNIT_ANCHORS,
            limit_bytes=settings.upload_limit_bytes,
        )
        fmt = table.format
    except FileError as exc:
        result.file_error = Issue(code=exc.code, row=None, column=None, value="", message=exc.message)
        if not dry_run:
            _record(session, batch, result, status="refused", settings=settings, data=data, fmt=fmt)
        return result

    try:
        if not dry_run:
            begin_write(session, busy_seconds=settings.busy_seconds)
        progress(0.2, "校验数据")
        index = UnitIndex.build(units_frame(session=session))
        checked = check_activities(
            table,
            index,
            today=today,
            earliest=date(settings.earliest_year, 1, 1),
            locked_months=locked_months(session=session, settings=settings, today=today),
            allowed_town=actor.town if actor.is_town else None,
            town=town,
            file_name=file_name,
        )
        rows = checked.rows
        first = ~rows.duplicated(subset=["unit_id", "date", "title_key"], keep="first")
        unique_rows = rows[first]
        result.rows = len(table.frame)
        result.rejected = len(checked.rejected)
        result.rejected_rows = rejected_rows(table.frame, table.headers, checked.errors, table.locate)
        result.errors = _placed(table, checked.errors)
        result.warnings = _placed(table, checked.warnings)
        result.reading = _reading(table, checked)

        if dry_run:
            result.imported = len(unique_rows) - already_stored(session, unique_rows)
            result.duplicates = len(rows) - result.imported
            session.rollback()
            return result
        if strict and checked.errors:
            session.rollback()
            result.duplicates = int((~first).sum())
            _record(session, batch, result, status="refused", settings=settings, data=data, fmt=fmt)
            return result

        progress(0.4, "写入数据库")
        reported = len(rows)
        # The sheet as read and its checked copy are no longer needed: a million rows of them would
        # stay in memory beside the insert's own.
        del table, checked, rows, first
        session.add(batch)
        session.flush()
        assert batch.id is not None  # given by the flush
        stored = insert_activities(
            session,
            unique_rows,
            batch_id=batch.id,
            stored_at=datetime.now(UTC),
            progress=lambda f, t: progress(0.4 + 0.55 * f, t),
        )
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
                "sha256": digest,
            },
        )
        if stored:
            bump_version(session)
        session.commit()
    except Exception as exc:
        session.rollback()
        if not (isinstance(exc, Busy) or is_busy(exc)):
            raise
        return _busy(session, batch, result, settings=settings, data=data, fmt=fmt, dry_run=dry_run)
    result.batch_id = batch.id
    keep_original(data, uploads_dir=settings.uploads_dir, digest=digest, fmt=fmt)
    progress(1.0, "完成")
    return result


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


def _reading(table: Table, checked: Checked) -> dict[str, object] | None:
    """识别结果 as the preview and `--json` show it, with the context found for the first sheet."""
    if table.reading is None:
        return None
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
