"""On PostgreSQL the references of the two bulk tables are checked once per statement, not once per row.

activity.unit_id and activity.batch_id point at unit and importbatch, unitmonth.unit_id at unit. A
foreign key checks every row it is given on its own: an import of a million activities spent 13 of
its insert's 28 seconds in those checks, longer than the whole raw COPY it is measured against.

Here the same rule is kept per statement. After an INSERT or UPDATE of activity or unitmonth, one
trigger locks the units and batches the new rows name (FOR KEY SHARE, the lock a foreign key takes,
so neither can be deleted before this transaction ends) and refuses the statement if any of them
does not exist, in one join over the statement's rows. After a DELETE or an UPDATE of unit or
importbatch, another refuses the statement if a row it removed or renumbered is still named by an
activity or a unit-month, and after a TRUNCATE if any is named at all. A refusal is a
foreign_key_violation, as a foreign key's would be.

The models keep the foreign keys: SQLite enforces them as declared, where a check is an index probe
in the same process. On PostgreSQL `install` replaces the three with these triggers for a new
database (monitor.store.schema); migration 0007 installed them on existing ones from its own copy of
these statements, so a change here ships with a migration that installs it there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# (table, column, referenced table): kept by the triggers below on PostgreSQL.
CHECKED = (("activity", "unit_id", "unit"), ("activity", "batch_id", "importbatch"), ("unitmonth", "unit_id", "unit"))

_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
{declare}BEGIN
{body}
    RETURN NULL;
END
$$"""

_CHILD_DECLARE = "DECLARE\n    named integer[];\n    locked bigint;\n"

# One pass over the statement's rows per reference: the distinct ids named, then those rows locked;
# fewer rows locked than ids named means one of them does not exist (or was just deleted).
_LOCK_AND_CHECK = """
    SELECT array_agg(d.id) INTO named FROM (SELECT DISTINCT n.{column} AS id FROM new_rows n) d WHERE d.id IS NOT NULL;
    PERFORM 1 FROM {parent} p WHERE p.id = ANY(named) FOR KEY SHARE OF p;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < coalesce(cardinality(named), 0) THEN
        RAISE foreign_key_violation USING MESSAGE = '{table}.{column} names a {parent} row that does not exist';
    END IF;"""

# Only when a row is gone (deleted, or renumbered by an update) is the child table looked at: an
# update of a township or a name costs one lookup per row in the parent table.
_GONE = """
    IF NOT EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = o.id)) THEN
        RETURN NULL;
    END IF;"""

_STILL_NAMED = """
    IF EXISTS (SELECT 1 FROM old_rows o JOIN {table} c ON c.{column} = o.id
               WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = o.id)) THEN
        RAISE foreign_key_violation USING MESSAGE = '{parent} row still named by {table}.{column}';
    END IF;"""


# TRUNCATE fires no delete trigger: once it is done (with every table it named), a table still
# naming a row of the emptied one refuses it, as a foreign key would.
_STILL_FILLED = """
    IF EXISTS (SELECT 1 FROM {table} c WHERE c.{column} IS NOT NULL) THEN
        RAISE foreign_key_violation USING MESSAGE = '{parent} emptied while {table}.{column} still names its rows';
    END IF;"""


def _statements() -> list[str]:
    statements = []
    children = sorted({table for table, _, _ in CHECKED})
    parents = sorted({parent for _, _, parent in CHECKED})
    for table in children:
        body = "".join(_LOCK_AND_CHECK.format(table=t, column=c, parent=p) for t, c, p in CHECKED if t == table)
        statements.append(_FUNCTION.format(name=f"monitor_{table}_references", declare=_CHILD_DECLARE, body=body))
        for event in ("INSERT", "UPDATE"):  # a trigger with a transition table takes one event
            name = f"{table}_references_{event.lower()}"
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING NEW TABLE AS new_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION monitor_{table}_references()"
            )
    for parent in parents:
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


def foreign_keys(connection: Connection) -> list[tuple[str, str, str, str]]:
    """The foreign keys among CHECKED still on the database: (table, column, referenced table, name)."""
    found = connection.execute(
        text(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.conname "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
        )
    ).all()
    wanted = set(CHECKED)
    return [
        (t.strip('"'), col, p.strip('"'), name)
        for t, col, p, name in found
        if (t.strip('"'), col, p.strip('"')) in wanted
    ]


def install(connection: Connection) -> None:
    """PostgreSQL: the per-statement checks in place of the foreign keys in CHECKED (idempotent).
    SQLite: nothing (its foreign keys stay)."""
    if connection.dialect.name != "postgresql":
        return
    for table, _, _, name in foreign_keys(connection):
        connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for statement in _statements():
        connection.execute(text(statement))


def uninstall(connection: Connection) -> None:
    """PostgreSQL: the foreign keys back in place of the triggers (a downgrade)."""
    if connection.dialect.name != "postgresql":
        return
    for table in sorted({t for t, _, _ in CHECKED}):
        for event in ("insert", "update"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_references_{event} ON {table}"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS monitor_{table}_references()"))
    for parent in sorted({p for _, _, p in CHECKED}):
        for event in ("delete", "update", "truncate"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {parent}_referenced_{event} ON {parent}"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS monitor_{parent}_referenced()"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS monitor_{parent}_truncated()"))
    present = {(t, c, p) for t, c, p, _ in foreign_keys(connection)}
    for table, column, parent in CHECKED:
        if (table, column, parent) not in present:
            connection.execute(
                text(
                    f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey "
                    f"FOREIGN KEY ({column}) REFERENCES {parent} (id)"
                )
            )
