"""PostgreSQL: the references of activity and unitmonth checked once per statement, not once per row.

Revision ID: 0007
Revises: 0006

The foreign keys activity.unit_id → unit, activity.batch_id → importbatch and unitmonth.unit_id →
unit give way to statement-level triggers that keep the same rule (monitor.store.references explains
them). The statements are written out here as this version installs them, so that an upgrade
made later installs these, whatever the program's module has become. SQLite keeps its foreign keys.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, column, referenced table)
CHECKED = (("activity", "unit_id", "unit"), ("activity", "batch_id", "importbatch"), ("unitmonth", "unit_id", "unit"))

_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
{declare}BEGIN
{body}
    RETURN NULL;
END
$$"""

_CHILD_DECLARE = "DECLARE\n    named integer[];\n    locked bigint;\n"

# After an INSERT or UPDATE of a child table: the distinct ids its new rows name, locked FOR KEY
# SHARE; fewer rows locked than ids named means one of them does not exist.
_LOCK_AND_CHECK = """
    SELECT array_agg(d.id) INTO named FROM (SELECT DISTINCT n.{column} AS id FROM new_rows n) d WHERE d.id IS NOT NULL;
    PERFORM 1 FROM {parent} p WHERE p.id = ANY(named) FOR KEY SHARE OF p;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < coalesce(cardinality(named), 0) THEN
        RAISE foreign_key_violation USING MESSAGE = '{table}.{column} names a {parent} row that does not exist';
    END IF;"""

# After a DELETE or UPDATE of a parent table: only when a row is gone is a child table looked at.
_GONE = """
    IF NOT EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = o.id)) THEN
        RETURN NULL;
    END IF;"""

_STILL_NAMED = """
    IF EXISTS (SELECT 1 FROM old_rows o JOIN {table} c ON c.{column} = o.id
               WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = o.id)) THEN
        RAISE foreign_key_violation USING MESSAGE = '{parent} row still named by {table}.{column}';
    END IF;"""

# After a TRUNCATE of a parent table (which fires no delete trigger).
_STILL_FILLED = """
    IF EXISTS (SELECT 1 FROM {table} c WHERE c.{column} IS NOT NULL) THEN
        RAISE foreign_key_violation USING MESSAGE = '{parent} emptied while {table}.{column} still names its rows';
    END IF;"""


def _statements() -> list[str]:
    statements = []
    for table in sorted({table for table, _, _ in CHECKED}):
        body = "".join(_LOCK_AND_CHECK.format(table=t, column=c, parent=p) for t, c, p in CHECKED if t == table)
        statements.append(_FUNCTION.format(name=f"monitor_{table}_references", declare=_CHILD_DECLARE, body=body))
        for event in ("INSERT", "UPDATE"):  # a trigger with a transition table takes one event
            name = f"{table}_references_{event.lower()}"
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING NEW TABLE AS new_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION monitor_{table}_references()"
            )
    for parent in sorted({parent for _, _, parent in CHECKED}):
        body = _GONE.format(parent=parent) + "".join(
            _STILL_NAMED.format(table=t, column=c, parent=p) for t, c, p in CHECKED if p == parent
        )
        statements.append(_FUNCTION.format(name=f"monitor_{parent}_referenced", declare="", body=body))
        for event in ("DELETE", "UPDATE"):
            name = f"{parent}_referenced_{event.lower()}"
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {parent}")
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {parent} REFERENCING OLD TABLE AS old_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION monitor_{parent}_referenced()"
            )
        body = "".join(_STILL_FILLED.format(table=t, column=c, parent=p) for t, c, p in CHECKED if p == parent)
        statements.append(_FUNCTION.format(name=f"monitor_{parent}_truncated", declare="", body=body))
        statements.append(f"DROP TRIGGER IF EXISTS {parent}_referenced_truncate ON {parent}")
        statements.append(
            f"CREATE TRIGGER {parent}_referenced_truncate AFTER TRUNCATE ON {parent} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION monitor_{parent}_truncated()"
        )
    return statements


def _foreign_keys(connection: sa.Connection) -> list[tuple[str, str, str, str]]:
    """The foreign keys among CHECKED on the database: (table, column, referenced table, name)."""
    found = connection.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.conname "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
        )
    ).all()
    return [
        (t.strip('"'), column, p.strip('"'), name)
        for t, column, p, name in found
        if (t.strip('"'), column, p.strip('"')) in set(CHECKED)
    ]


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    for table, _, _, name in _foreign_keys(connection):
        connection.execute(sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for statement in _statements():
        connection.execute(sa.text(statement))


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    for table in sorted({t for t, _, _ in CHECKED}):
        for event in ("insert", "update"):
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_references_{event} ON {table}"))
        connection.execute(sa.text(f"DROP FUNCTION IF EXISTS monitor_{table}_references()"))
    for parent in sorted({p for _, _, p in CHECKED}):
        for event in ("delete", "update", "truncate"):
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {parent}_referenced_{event} ON {parent}"))
        connection.execute(sa.text(f"DROP FUNCTION IF EXISTS monitor_{parent}_referenced()"))
        connection.execute(sa.text(f"DROP FUNCTION IF EXISTS monitor_{parent}_truncated()"))
    present = {(t, c, p) for t, c, p, _ in _foreign_keys(connection)}
    for table, column, parent in CHECKED:
        if (table, column, parent) not in present:
            connection.execute(
                sa.text(
                    f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey "
                    f"FOREIGN KEY ({column}) REFERENCES {parent} (id)"
                )
            )
