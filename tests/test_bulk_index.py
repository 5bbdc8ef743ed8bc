"""SQLite: a file as large as the table it goes into has the month index made again after its rows
are in (monitor.ingest.inserts). The index comes back exactly as declared, is used by the figures'
month queries, and a failed import leaves it as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_settings
from factories import TODAY, checked_rows, hold, load_roster
from sqlalchemy import text
from sqlmodel import Session

from monitor.ingest import inserts
from monitor.store.db import begin_write, get_engine

STORED = datetime(2025, 3, 5, tzinfo=UTC)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Session]:
    """SQLite only, which alone makes the index again: the small roster and two activities of 油草塘村."""
    settings = make_settings("sqlite", tmp_path, "t_fresh")
    with Session(get_engine(settings.database_url)) as session:
        load_roster(session, settings)
        hold(session, settings, {("NJK-YCT", "2025-03"): 2}, today=TODAY)
        session.commit()
        yield session


def _index_sql(session: Session) -> str | None:
    return (
        session.connection()
        .execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'ix_activity_month_unit'"))
        .scalar_one_or_none()
    )


def _rows(session: Session, count: int, *, untitled: int | None = None) -> pd.DataFrame:
    """`count` activities of 油草塘村 over 2025 (row i in month 1 + i % 12); row `untitled` has no title."""
    unit = int(session.connection().execute(text("SELECT id FROM unit WHERE code = 'NJK-YCT'")).scalar_one())
    days = [date(2025, 1 + i % 12, 1 + i % 28) for i in range(count)]
    titles: list[str | None] = [None if i == untitled else f"大批量{i}" for i in range(count)]
    return checked_rows([unit] * count, days, titles)


def _batch(session: Session) -> int:
    return int(session.connection().execute(text("SELECT max(id) FROM importbatch")).scalar_one())


def test_a_file_larger_than_the_table_leaves_the_month_index_as_declared(held: Session, monkeypatch):
    declared = _index_sql(held)
    assert declared is not None and "month, unit_id, stored_at" in declared
    monkeypatch.setattr(inserts, "REBUILD_MIN_ROWS", 10)
    begin_write(held, busy_seconds=5)  # as the import does
    stored = inserts.insert_activities(held, _rows(held, 40), batch_id=_batch(held), stored_at=STORED)
    held.commit()
    assert stored == 40
    assert _index_sql(held) == declared
    connection = held.connection()
    plan = " ".join(
        str(row[-1])
        for row in connection.execute(
            text("EXPLAIN QUERY PLAN SELECT unit_id, stored_at FROM activity WHERE month = '2025-03'")
        )
    )
    assert "ix_activity_month_unit" in plan
    # Every row is in the index: counted through it, the months hold what was stored.
    by_index = dict(
        connection.execute(
            text("SELECT month, count(*) FROM activity INDEXED BY ix_activity_month_unit GROUP BY month")
        ).all()
    )
    assert by_index["2025-03"] == 6  # the 2 held before, and rows 2, 14, 26 and 38
    assert sum(by_index.values()) == 42
    assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"


def test_a_failed_large_file_leaves_the_month_index_and_stores_nothing(held: Session, monkeypatch):
    declared = _index_sql(held)
    monkeypatch.setattr(inserts, "REBUILD_MIN_ROWS", 10)
    monkeypatch.setattr(inserts, "CHUNK", 8)
    rows = _rows(held, 40, untitled=30)  # NOT NULL: refused in the fourth chunk
    begin_write(held, busy_seconds=5)
    with pytest.raises(sqlite3.IntegrityError):
        inserts.insert_activities(held, rows, batch_id=_batch(held), stored_at=STORED)
    held.rollback()
    assert _index_sql(held) == declared
    assert held.connection().execute(text("SELECT count(*) FROM activity")).scalar_one() == 2


def test_a_file_smaller_than_the_table_or_outside_a_transaction_keeps_the_index(held: Session, monkeypatch):
    monkeypatch.setattr(inserts, "REBUILD_MIN_ROWS", 1)
    raw = held.connection().connection.driver_connection
    cursor = raw.cursor()
    try:
        assert not raw.in_transaction
        assert inserts._dropped_for_rebuild(raw, cursor, 5) is None  # the drop would not be undone
        assert _index_sql(held) is not None
        begin_write(held, busy_seconds=5)
        assert inserts._dropped_for_rebuild(raw, cursor, 1) is None  # 1 row into a table of 2
        assert _index_sql(held) is not None
        assert inserts._dropped_for_rebuild(raw, cursor, 2) is not None  # as large as the table: dropped
        assert _index_sql(held) is None
    finally:
        cursor.close()
        held.rollback()
    assert _index_sql(held) is not None
