"""An activity or a unit-month names a unit (and an activity its import batch) that exists, and a unit or
batch still named cannot be deleted: by SQLite's foreign keys, by PostgreSQL's per-statement checks
(monitor.store.references). The same refusals on both engines."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

import pandas as pd
import psycopg
import pytest
from alembic import command
from factories import TODAY, checked_rows, hold, load_roster
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.ingest import inserts
from monitor.store import references, schema
from monitor.store.db import get_engine, is_busy
from monitor.store.schema import _config

STORED = datetime(2025, 3, 5, tzinfo=UTC)


def _unit_id(session: Session, code: str) -> int:
    return int(session.connection().execute(text("SELECT id FROM unit WHERE code = :c"), {"c": code}).scalar_one())


def _batch_id(session: Session) -> int:
    return int(session.connection().execute(text("SELECT max(id) FROM importbatch")).scalar_one())


def _insert_activity(session: Session, *, unit_id: int, batch_id: int | None, title: str = "手工写入") -> None:
    session.connection().execute(
        text(
            "INSERT INTO activity (unit_id, date, month, title, title_key, category, location, notes, batch_id, "
            "stored_at) VALUES (:u, :d, '2025-03', :t, :t, '', '', '', :b, :s)"
        ),
        {"u": unit_id, "d": date(2025, 3, 9), "t": title, "b": batch_id, "s": STORED},
    )


@pytest.fixture
def held(session: Session, settings: Settings) -> Session:
    """The small roster, and two activities of 油草塘村 in March 2025 from one import."""
    load_roster(session, settings)
    hold(session, settings, {("NJK-YCT", "2025-03"): 2}, today=TODAY)
    return session


def test_an_activity_naming_no_unit_is_refused(held: Session):
    batch = _batch_id(held)
    with pytest.raises(IntegrityError):
        _insert_activity(held, unit_id=999_999, batch_id=batch)
    held.rollback()
    assert held.connection().execute(text("SELECT count(*) FROM activity")).scalar_one() == 2


def _bulk(unit_ids: list[int], titles: list[str | None]) -> pd.DataFrame:
    """Rows for monitor.ingest.inserts.insert_activities: one a day from 2025-03-10."""
    return checked_rows(unit_ids, [date(2025, 3, 10 + i) for i in range(len(unit_ids))], titles)


@pytest.mark.parametrize("fault", ["no unit in the last chunk", "no title in the second chunk"])
def test_a_bulk_insert_refused_in_a_later_chunk_stores_nothing(held: Session, monkeypatch, fault: str):
    """The chunks are sent while the next is being written (PostgreSQL): a refusal of one sent
    earlier, or of the statement as a whole at its end, still fails the insert, and nothing of it stays."""
    monkeypatch.setattr(inserts, "CHUNK", 2)
    unit = _unit_id(held, "NJK-YCT")
    units, titles = [unit] * 9, [f"批量{i}" for i in range(9)]
    if fault == "no unit in the last chunk":
        units[-1] = 999_999
    else:
        titles[2] = None
    with pytest.raises((IntegrityError, sqlite3.IntegrityError, psycopg.errors.IntegrityError)):
        inserts.insert_activities(held, _bulk(units, titles), batch_id=_batch_id(held), stored_at=STORED)
    held.rollback()
    assert held.connection().execute(text("SELECT count(*) FROM activity")).scalar_one() == 2
    stored = inserts.insert_activities(
        held, _bulk([unit] * 9, [f"批量{i}" for i in range(9)]), batch_id=_batch_id(held), stored_at=STORED
    )
    assert stored == 9


def test_an_activity_naming_no_batch_is_refused(held: Session):
    with pytest.raises(IntegrityError):
        _insert_activity(held, unit_id=_unit_id(held, "NJK-YCT"), batch_id=999_999)
    held.rollback()
    _insert_activity(held, unit_id=_unit_id(held, "NJK-YCT"), batch_id=None)  # no batch named: allowed
    held.commit()
    assert held.connection().execute(text("SELECT count(*) FROM activity")).scalar_one() == 3


def test_a_unit_month_naming_no_unit_is_refused(held: Session):
    with pytest.raises(IntegrityError):
        held.connection().execute(
            text(
                "INSERT INTO unitmonth (month, unit_id, activities, on_time, recognised, not_recognised, "
                "not_recognised_on_time) VALUES ('2025-03', 999999, 1, 1, 0, 0, 0)"
            )
        )
    held.rollback()


def test_moving_an_activity_to_no_unit_is_refused(held: Session):
    with pytest.raises(IntegrityError):
        held.connection().execute(text("UPDATE activity SET unit_id = 999999"))
    held.rollback()
    assert held.connection().execute(text("SELECT count(DISTINCT unit_id) FROM activity")).scalar_one() == 1


def test_a_unit_still_named_cannot_be_deleted_or_renumbered(held: Session):
    named = _unit_id(held, "NJK-YCT")
    with pytest.raises(IntegrityError):
        held.connection().execute(text("DELETE FROM unit WHERE id = :u"), {"u": named})
    held.rollback()
    with pytest.raises(IntegrityError):
        held.connection().execute(text("UPDATE unit SET id = 999999 WHERE id = :u"), {"u": named})
    held.rollback()
    # A unit nothing names is deleted; an update that keeps the ids passes.
    spare = _unit_id(held, "LX-HP")
    held.connection().execute(text("DELETE FROM quotarule WHERE unit_id = :u"), {"u": spare})
    held.connection().execute(text("DELETE FROM unitmonth WHERE unit_id = :u"), {"u": spare})
    held.connection().execute(text("DELETE FROM unit WHERE id = :u"), {"u": spare})
    held.connection().execute(text("UPDATE unit SET name = name || '（改）'"))
    held.commit()
    assert held.connection().execute(text("SELECT count(*) FROM unit WHERE id = :u"), {"u": named}).scalar_one() == 1
    assert held.connection().execute(text("SELECT count(*) FROM unit WHERE id = :u"), {"u": spare}).scalar_one() == 0


def test_a_batch_still_named_cannot_be_deleted(held: Session):
    with pytest.raises(IntegrityError):
        held.connection().execute(text("DELETE FROM importbatch WHERE id = :b"), {"b": _batch_id(held)})
    held.rollback()
    assert held.connection().execute(text("SELECT count(*) FROM importbatch")).scalar_one() >= 1


@pytest.mark.parametrize("parent", ["unit", "importbatch"])
def test_emptying_units_or_batches_still_named_is_refused(held: Session, parent: str):
    """PostgreSQL's TRUNCATE ... CASCADE empties the tables that have a foreign key to it, and fires
    no delete trigger; SQLite empties a table with DELETE."""
    postgres = held.connection().dialect.name == "postgresql"
    with pytest.raises(IntegrityError):
        held.connection().execute(text(f"TRUNCATE {parent} CASCADE" if postgres else f"DELETE FROM {parent}"))
    held.rollback()
    assert held.connection().execute(text(f"SELECT count(*) FROM {parent}")).scalar_one() > 0
    assert held.connection().execute(text("SELECT count(*) FROM activity")).scalar_one() == 2


def test_a_unit_named_by_an_open_insert_waits_for_it(held: Session, settings: Settings):
    """The insert locks the unit it names until it ends: a delete in between waits (and gives up at
    its time limit), and once the insert is committed the delete is refused."""
    spare = _unit_id(held, "LX-HP")
    held.connection().execute(text("DELETE FROM quotarule WHERE unit_id = :u"), {"u": spare})
    held.connection().execute(text("DELETE FROM unitmonth WHERE unit_id = :u"), {"u": spare})
    held.commit()
    _insert_activity(held, unit_id=spare, batch_id=None)  # open, not committed
    other_engine = get_engine(settings.database_url)
    with other_engine.connect() as other:
        if other.dialect.name == "postgresql":
            other.exec_driver_sql("SET lock_timeout = 300")
        else:
            other.exec_driver_sql("PRAGMA busy_timeout = 300")
        with pytest.raises(Exception) as waited:
            other.execute(text("DELETE FROM unit WHERE id = :u"), {"u": spare})
        assert is_busy(waited.value)
        other.rollback()
        held.commit()
        with pytest.raises(IntegrityError):
            other.execute(text("DELETE FROM unit WHERE id = :u"), {"u": spare})
        other.rollback()


def test_postgresql_checks_by_statement_and_sqlite_by_foreign_key(session: Session):
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        assert references.foreign_keys(connection) == []
        triggers = set(
            connection.execute(
                text(
                    "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
                )
            ).scalars()
        )
        assert triggers == {
            "activity_references_insert",
            "activity_references_update",
            "unitmonth_references_insert",
            "unitmonth_references_update",
            "unit_referenced_delete",
            "unit_referenced_update",
            "importbatch_referenced_delete",
            "importbatch_referenced_update",
            "unit_referenced_truncate",
            "importbatch_referenced_truncate",
        }
    else:
        named = {
            (table, row[3], row[2])
            for table in ("activity", "unitmonth")
            for row in connection.exec_driver_sql(f"PRAGMA foreign_key_list({table})").all()
        }
        assert set(references.CHECKED) <= named


def test_downgrading_0007_puts_the_foreign_keys_back(held: Session):
    connection = held.connection()
    held.commit()
    with schema.migrating(connection.engine) as migrating:
        command.downgrade(_config(migrating), "0006")
        if migrating.dialect.name == "postgresql":
            assert {(t, c, p) for t, c, p, _ in references.foreign_keys(migrating)} == set(references.CHECKED)
        command.upgrade(_config(migrating), "head")
        if migrating.dialect.name == "postgresql":
            assert references.foreign_keys(migrating) == []
    with pytest.raises(IntegrityError):
        _insert_activity(held, unit_id=999_999, batch_id=None)
    held.rollback()
