"""SQLite: the ids of activities, import batches, photos and feedback are never given to another row.

Revision ID: 0009
Revises: 0008

Without AUTOINCREMENT, SQLite gives the next row the highest id in the table plus one: rolling back
the newest import freed its activities' ids for the next import, and "活动 #35535" in the audit
trail could name two activities. Each of the four tables is rebuilt with AUTOINCREMENT (its
columns, indexes, constraints, foreign keys, server defaults and rows as they were), and its
counter starts past the highest id in use or named in the audit trail (活动 #N, 导入记录 #N), so an
id an older version freed is not handed out again either.

The rebuild drops tables other tables refer to: it needs SQLite's foreign keys off, which
monitor.store.schema sees to (they are checked whole once the upgrade is done).

PostgreSQL: nothing to do, a sequence never hands out a number twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("importbatch", "activity", "photo", "feedback")
# The audit trail's names for rows by id: (table, the words before the number).
NAMED = {"activity": "活动 #", "importbatch": "导入记录 #"}


def _rebuild(autoincrement: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("0009 rebuilds tables other tables refer to: run it with SQLite's foreign keys off")
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def _named(connection: sa.Connection, words: str) -> int:
    """The highest id the audit trail names after `words` (0 for none)."""
    named = connection.execute(
        sa.text(
            "SELECT max(CAST(substr(detail, :start) AS INTEGER)) FROM auditevent "
            "WHERE substr(detail, 1, :length) = :words"
        ),
        {"start": len(words) + 1, "length": len(words), "words": words},
    ).scalar()
    return int(named or 0)


def upgrade() -> None:
    _rebuild(autoincrement=True)
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for table in TABLES:
        used = int(connection.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one())
        start = max(used, _named(connection, NAMED[table]) if table in NAMED else 0)
        connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :table"), {"table": table})
        if start:
            connection.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :start)"),
                {"table": table, "start": start},
            )


def downgrade() -> None:
    _rebuild(autoincrement=False)
