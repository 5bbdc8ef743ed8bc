"""The bulk insert of an import's checked rows and of their unit × month counts, on SQLite and PostgreSQL.

SQLite: one INSERT ... ON CONFLICT DO NOTHING, in the unique key's order, under the transaction's
write lock. PostgreSQL, under the writers' lock (monitor.store.db.begin_write): a file into unit-months
that hold no activity is copied straight into the table, others go through a staging table.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import text
from sqlmodel import Session

from monitor.counts import unitmonths

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
STAGED_TYPES = {
    "batch_id": pa.int64(),
    "unit_id": pa.int64(),
    "date": pa.date32(),
    "participants": pa.int64(),
    "volunteers": pa.int64(),
    "photos": pa.int64(),
}
CHUNK = 50_000
AHEAD_BUFFERS = 128  # COPY buffers (of 128 KiB) the sending thread may hold: 16 MiB, about two chunks
SQLITE_BULK_CACHE_KIB = 128 * 1024  # page cache of SQLite during a bulk insert
MONTH_INDEX = "ix_activity_month_unit"
REBUILD_MIN_ROWS = 100_000  # SQLite: a file this large, and as large as the table, rebuilds MONTH_INDEX


def no_progress(_fraction: float, _text: str) -> None:
    return None


def key_order(rows: pd.DataFrame, keep: np.ndarray | None = None) -> np.ndarray:
    """Positions of the rows (of those at `keep`, when given) in the unique key's (unit, date) order.

    Rows inserted in that order fill each index page while it is in memory instead of reading it
    back for every row: a fifth less time on a large file.
    """
    units = rows["unit_id"].to_numpy()
    days = pd.factorize(rows["date"], sort=True)[0]
    if keep is None:
        return np.lexsort((days, units))
    return keep[np.lexsort((days[keep], units[keep]))]


def _unordered(rows: pd.DataFrame, ordered: bool) -> np.ndarray | None:
    """key_order of the rows, or None when they are in that order already: said by the caller
    (`ordered`, as import_activities gives them), or found so."""
    if ordered:
        return None
    order = key_order(rows)
    return None if np.array_equal(order, np.arange(len(rows))) else order


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


class _SentAhead(QueuedLibpqWriter):
    """A COPY writer whose buffers a thread sends while the next chunk is being written: the server
    stores one chunk while this process makes the next. The queue is bounded (AHEAD_BUFFERS), so a
    slow server holds back the writer instead of letting the whole file pile up in memory."""

    def __init__(self, cursor: Any) -> None:
        super().__init__(cursor)
        self._queue = type(self._queue)(maxsize=AHEAD_BUFFERS)  # psycopg's own queue, bounded


def _copy_chunks(
    cursor: Any,
    statement: str,
    rows: pd.DataFrame,
    order: np.ndarray | None,
    constants: Mapping[str, object] | None,
    progress: Progress,
) -> None:
    """One COPY of the rows (in `order`, when given), written a chunk at a time."""
    total = len(rows)
    with cursor.copy(statement, writer=_SentAhead(cursor)) as copy:
        for start in range(0, total, CHUNK):
            part = rows.iloc[start : start + CHUNK] if order is None else rows.iloc[order[start : start + CHUNK]]
            copy.write(_csv(part, constants))
            progress(min(1.0, (start + CHUNK) / total), "写入数据库")


def _insert_postgres(
    cursor: Any, rows: pd.DataFrame, *, batch_id: int | None, stored_at: datetime, ordered: bool, progress: Progress
) -> int:
    """PostgreSQL: the rows sent with COPY; returns rows stored. Their counts per unit-month are left
    in the temporary table STAGED_KEYS (month, unit_id, activities).

    The transaction holds the writers' lock (monitor.store.db.begin_write). A file none of whose
    unit-months holds a stored activity is copied straight into the table, in key order: no row can
    meet a stored one, and no other writer can store one meanwhile. Otherwise the rows are staged
    in a temporary table and each is inserted unless its (unit, date, title) is stored already.
    Rows are sent as CSV written by pyarrow: a Python call per row would take longer than the
    server's insert.
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
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {STAGED_KEYS} k JOIN activity a ON a.month = k.month AND a.unit_id = k.unit_id)"
    )
    if not cursor.fetchone()[0]:
        order = _unordered(rows, ordered)
        constants = {"batch_id": batch_id, "stored_at": stored_at.isoformat()}
        names = ", ".join([*STAGED_COLUMNS, *constants])
        _copy_chunks(cursor, f"COPY activity ({names}) FROM STDIN (FORMAT csv)", rows, order, constants, progress)
        return total
    staged = ", ".join(STAGED_COLUMNS)
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
    cursor.execute(f"CREATE TEMP TABLE {STAGING} ON COMMIT DROP AS SELECT {staged} FROM activity WITH NO DATA")
    _copy_chunks(cursor, f"COPY {STAGING} ({staged}) FROM STDIN (FORMAT csv)", rows, None, None, progress)
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
    session: Session,
    rows: pd.DataFrame,
    *,
    batch_id: int,
    stored_at: datetime,
    ordered: bool = False,
    progress: Progress = no_progress,
) -> int:
    """Store the rows not stored yet (by unit, date and title) in the session's transaction, and the unit
    × month counts of those stored; returns rows stored. `ordered`: the rows are in key_order already,
    and are not sorted again."""
    connection = session.connection()
    total = len(rows)
    if total == 0:
        return 0
    postgres = connection.dialect.name == "postgresql"
    floor = int(connection.execute(text("SELECT coalesce(max(id), 0) FROM activity")).scalar_one())
    raw = connection.connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        if postgres:
            stored = _insert_postgres(
                cursor, rows, batch_id=batch_id, stored_at=stored_at, ordered=ordered, progress=progress
            )
        else:
            stored = _insert_sqlite(
                raw, cursor, rows, batch_id=batch_id, stored_at=stored_at, ordered=ordered, progress=progress
            )
    finally:
        cursor.close()
    if stored == total and postgres:  # every row given is new: counted before they were sent
        months = set(rows["month"].unique().tolist())
        unitmonths.add_staged(session, grouped=STAGED_KEYS, stored_at=stored_at, months=months)
    elif stored == total:  # every row given is new: their counts come from the rows in hand
        counts = rows.groupby(["month", "unit_id"], sort=True).size()
        unitmonths.add_counted(session, counts=counts, stored_at=stored_at)
    elif stored:  # the rows this batch stored first carry its id: their counts, in one grouped statement
        months = set(rows["month"].tolist())
        unitmonths.add_stored(session, batch_id=batch_id, floor=floor, stored_at=stored_at, months=months)
    return stored


def _insert_sqlite(
    raw: Any,
    cursor: Any,
    rows: pd.DataFrame,
    *,
    batch_id: int | None,
    stored_at: datetime,
    ordered: bool,
    progress: Progress,
) -> int:
    """SQLite: INSERT ... ON CONFLICT DO NOTHING of the rows, in chunks; returns rows stored. The
    transaction already holds SQLite's write lock (monitor.store.db.begin_write)."""
    total = len(rows)
    stored = 0
    # The rows become Python values one chunk at a time, in the loop below: a million rows of
    # Python strings and tuples held at once would add half a gigabyte to the import.
    iso = {day: day.isoformat() for day in set(rows["date"].tolist())}  # a year has 365 dates
    sql = _sqlite_insert(batch_id, stored_at)
    # The unique and month indexes take the rows in random key order: with SQLite's default
    # 2 MiB page cache most inserts miss it. A larger cache for the bulk insert, then back.
    cache_size = cursor.execute("PRAGMA cache_size").fetchone()[0]
    cursor.execute(f"PRAGMA cache_size = {-SQLITE_BULK_CACHE_KIB}")
    # In the unique key's order (key_order), sorted once, then sliced.
    order = _unordered(rows, ordered)
    in_order = rows if order is None else rows.take(order)
    # A file as large as the table it goes into (a province's first load): the month index is
    # made again once the rows are in, from a sort of the whole table, instead of taking each row
    # into one of a dozen places in it (a fifth of the insert). The drop is part of this
    # transaction: a failed import leaves the index as it was, and readers keep their snapshot.
    month_index = _dropped_for_rebuild(raw, cursor, total)
    try:
        for start in range(0, total, CHUNK):
            part = in_order.iloc[start : start + CHUNK]
            columns = [part[c].tolist() for c in INSERT_COLUMNS[:-2]]
            columns[1] = [iso[day] for day in columns[1]]
            before = raw.total_changes
            cursor.executemany(sql, zip(*columns, strict=True))
            stored += raw.total_changes - before
            progress(min(1.0, (start + CHUNK) / total), "写入数据库")
        if batch_id is not None and stored < total:
            _sqlite_reported_too(cursor, rows, batch_id=batch_id, iso=iso)
        if month_index is not None:
            cursor.execute(month_index)
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
    return stored


def _sqlite_insert(batch_id: int | None, stored_at: datetime) -> str:
    """SQLite's INSERT ... ON CONFLICT DO NOTHING of one row, binding every column but the last two.

    batch_id and stored_at are the same on every row: written into the statement once (an integer
    and the timestamp as text) instead of bound on each of a million rows.
    """
    names = ", ".join(INSERT_COLUMNS)
    stamp = stored_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    marks = ", ".join("?" * (len(INSERT_COLUMNS) - 2))
    batch = "NULL" if batch_id is None else str(int(batch_id))
    return (
        f"INSERT INTO activity ({names}) VALUES ({marks}, {batch}, '{stamp}') "
        "ON CONFLICT (unit_id, date, title_key) DO NOTHING"
    )


def _sqlite_reported_too(cursor: Any, rows: pd.DataFrame, *, batch_id: int, iso: dict[Any, str]) -> None:
    """SQLite: the rows already stored by another batch are linked to this one, which reported them
    too (`iso`: each date's text)."""
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


def _dropped_for_rebuild(raw: Any, cursor: Any, total: int) -> str | None:
    """SQLite: drop MONTH_INDEX for an insert of `total` rows when that is at least REBUILD_MIN_ROWS
    and at least the rows already stored (by the highest id, never fewer); the statement that makes
    it again, or None when it stays.

    Only inside a transaction begun already (monitor.store.db.begin_write): the driver would run the
    DROP on its own, outside any transaction, and a failed insert would then leave no index."""
    if total < REBUILD_MIN_ROWS or not raw.in_transaction:
        return None
    if total < int(cursor.execute("SELECT coalesce(max(id), 0) FROM activity").fetchone()[0]):
        return None
    found = cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (MONTH_INDEX,)).fetchone()
    if found is None or not found[0]:
        return None
    cursor.execute(f'DROP INDEX "{MONTH_INDEX}"')
    return str(found[0])


def keep_as_written(session: Session, rows: pd.DataFrame) -> None:
    """The text as written of the rows that have one (a count read from words, a date typed with
    words around it), on the activity stored for each; an activity that has one already keeps it."""
    written = rows[rows["as_written"] != ""] if "as_written" in rows else rows.iloc[:0]
    if written.empty:
        return
    session.execute(
        text(
            "UPDATE activity SET as_written = :written "
            "WHERE unit_id = :unit AND date = :day AND title_key = :key AND as_written = ''"
        ),
        [
            {"written": w, "unit": int(u), "day": d, "key": k}
            for w, u, d, k in zip(
                written["as_written"].tolist(),
                written["unit_id"].tolist(),
                written["date"].tolist(),
                written["title_key"].tolist(),
                strict=True,
            )
        ],
    )
