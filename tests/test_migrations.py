"""A database made before migrations existed upgrades in place with every row intact, on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import BACKENDS, _pg_schema_url
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from monitor import metrics, references, townmonths, unitmonths
from monitor.auth import Actor
from monitor.config import Settings
from monitor.db import drop_all, get_engine, init_db
from monitor.models import QuotaRule
from monitor.schema import SchemaOutdated, head

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "main_v0"
ROWS = json.loads((FIXTURE / "rows.json").read_text(encoding="utf-8"))
OPERATOR = Actor(name="test", role="admin")
# Columns the upgrade removes: the sign-in throttle moved to its own table.
DROPPED = {"user": {"failed_logins", "last_failed_at"}}
ADDED = {"activity": {"as_written": ""}}  # columns later versions add, with the value an upgrade gives old rows


def _old_database(backend: str, tmp_path: Path) -> str:
    """A database as the code before migrations left it: its own DDL, then its rows."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = _pg_schema_url("t_migrate")
        drop_all(get_engine(url))
    engine = get_engine(url)
    ddl = (FIXTURE / f"schema_{backend}.sql").read_text(encoding="utf-8")
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    with engine.begin() as connection:
        for statement in filter(str.strip, ddl.split(";")):
            connection.execute(text(statement))
        for name in (
            "unit",
            "importbatch",
            "user",
            "auditevent",
            "meta",
            "monthlock",
            "typequota",
            "activity",
            "interview",
        ):
            rows = ROWS[name]
            if not rows:
                continue
            columns = list(rows[0])
            quoted = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join(f":{c}" for c in columns)
            connection.execute(text(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})'), rows)
        if backend == "postgresql":  # ids were given: move the sequences past them
            for name in tables:
                if "id" in tables[name].c and ROWS.get(name):
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), :n)"),
                        {"n": max(r["id"] for r in ROWS[name])},
                    )
    return url


def _rows(url: str, name: str) -> list[dict[str, object]]:
    with get_engine(url).connect() as connection:
        table = SQLModel.metadata.tables[name]
        found = connection.execute(table.select().order_by(*table.primary_key.columns)).mappings().all()
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in found]


def _moment(value: object) -> object:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        return value[:19].replace("T", " ")
    return value


def _normal(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Stored moments compared to the second, as text without a zone (SQLite hands back naive UTC)."""
    out = []
    for row in rows:
        out.append(
            {
                k: (
                    v[:19].replace("T", " ")
                    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in " T"
                    else v
                )
                for k, v in row.items()
            }
        )
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_old_database_upgrades_with_every_row_intact(backend, tmp_path):
    url = _old_database(backend, tmp_path)
    engine = get_engine(url)
    with pytest.raises(SchemaOutdated, match="monitor init"):
        init_db(engine, upgrade=False)

    done = init_db(engine, backups_dir=tmp_path / "backups")
    assert (done.before, done.after) == ("0001", head())
    if backend == "sqlite":
        assert done.copy is not None and done.copy.exists()  # the old file, put aside first

    for name, expected in ROWS.items():
        dropped = DROPPED.get(name, set())
        kept = [{k: v for k, v in row.items() if k not in dropped} | ADDED.get(name, {}) for row in expected]
        found = _rows(url, name)
        if name == "meta":  # the upgrade gives the database an id of its own, and stamps its month table
            assert [r["key"] for r in found].count("database_id") == 1
            assert {"key": "unitmonth_deadline_day", "value": "5"} in found
            found = [r for r in found if r["key"] not in {"database_id", "unitmonth_deadline_day"}]
        assert _normal(found) == _normal(kept), name
    # The quotas in force before the upgrade hold from the beginning: past figures do not move.
    with Session(engine) as s:
        rules = s.exec(select(QuotaRule.unit_type, QuotaRule.from_month, QuotaRule.quota)).all()
        assert sorted(r for r in rules if r[0]) == [("center", "", 8), ("institute", "", 3), ("station", "", 2)]
        doc = metrics.report(session=s, actor=OPERATOR, settings=Settings(), start="2025-01", end="2025-02").to_json()
    # Held 8 + 2 + 3 + 1; required per month: center 8, two institutes 3, three stations 2
    # (新建村 starts in 2025-03), over two months. The figures read the month table the upgrade filled.
    assert (doc["held"], doc["required"]) == (14, 40)
    with Session(engine) as s:
        assert int(unitmonths.stored(s)["activities"].sum()) == len(ROWS["activity"])
        assert unitmonths.differences(s) == []
        # The township sums the report read were filled by the upgrade (0006) from those counts.
        assert int(townmonths.stored(s, ["2025-01", "2025-02"])["held"].sum()) == 14
        assert townmonths.differences(s) == []
    # A second init changes nothing.
    again = init_db(engine, backups_dir=tmp_path / "backups")
    assert not again.changed


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_upgraded_schema_is_the_models_schema(backend, tmp_path):
    url = _old_database(backend, tmp_path)
    engine = get_engine(url)
    init_db(engine, backups_dir=tmp_path / "backups")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # On PostgreSQL three references are checked per statement instead of by a foreign key
    # (monitor.references): those, and only those, differ from the models.
    by_trigger = {(fk.parent.name, fk.column_keys[0], fk.referred_table.name) for kind, fk in diff if kind == "add_fk"}
    assert by_trigger == (set(references.CHECKED) if backend == "postgresql" else set())
    assert [d for d in diff if d[0] != "add_fk"] == []
    assert "alembic_version" in inspect(engine).get_table_names()
