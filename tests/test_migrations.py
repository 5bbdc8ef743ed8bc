"""A database made before migrations existed upgrades in place with every row intact, on both engines."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import BACKENDS, _pg_schema_url
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from monitor.core.config import Settings
from monitor.core.models import QuotaRule
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.counts import townmonths, unitmonths
from monitor.figures import metrics
from monitor.roster import grids
from monitor.store import references
from monitor.store.db import drop_all, get_engine, init_db
from monitor.store.schema import SchemaError, SchemaOutdated, _config, head, known_revisions, migrating

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
        doc = metrics.report(
            session=s, query=Query(actor=OPERATOR, settings=Settings(), start="2025-01", end="2025-02")
        ).to_json()
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
    # (monitor.store.references): those, and only those, differ from the models.
    by_trigger = {(fk.parent.name, fk.column_keys[0], fk.referred_table.name) for kind, fk in diff if kind == "add_fk"}
    assert by_trigger == (set(references.CHECKED) if backend == "postgresql" else set())
    assert [d for d in diff if d[0] != "add_fk"] == []
    assert "alembic_version" in inspect(engine).get_table_names()


# A database at each earlier version, with rows a user of that version could have left: five units
# (新建村站 active from 2025-03, 兰溪镇所 with a quota of its own), fourteen activities over
# February and March 2025 and, where the schema has them, decisions, feedback, photos and the
# counts that version kept. An audit trail names 活动 #20 and 导入记录 #7, since gone.
FEB_IN_TIME, FEB_LATE = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 6, tzinfo=UTC)  # deadline 03-05
MAR_IN_TIME, MAR_LATE = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 10, tzinfo=UTC)
EARLIER = datetime(2025, 3, 1, tzinfo=UTC)
UNITS = [
    (1, "ZX", "区新时代文明实践服务中心", "区", "center", "", None, None),
    (2, "NJK-S", "泥江口镇新时代文明实践所", "泥江口镇", "institute", "泥江口镇", None, None),
    (3, "NJK-YCT", "油草塘村新时代文明实践站", "油草塘村", "station", "泥江口镇", None, None),
    (4, "LX-S", "兰溪镇新时代文明实践所", "兰溪镇", "institute", "兰溪镇", 1, None),
    (5, "LX-XJ", "新建村新时代文明实践站", "新建村", "station", "兰溪镇", None, "2025-03"),
]
# (id, unit, day, stored at)
ACTIVITIES = [
    *[(i, 2, date(2025, 2, i), FEB_IN_TIME) for i in (1, 2, 3)],
    (4, 2, date(2025, 3, 4), MAR_LATE),
    (5, 2, date(2025, 3, 5), MAR_LATE),
    (6, 3, date(2025, 2, 6), FEB_IN_TIME),
    (7, 3, date(2025, 2, 7), FEB_LATE),
    (8, 4, date(2025, 2, 8), FEB_IN_TIME),
    (9, 4, date(2025, 3, 9), MAR_IN_TIME),
    (10, 5, date(2025, 2, 10), FEB_IN_TIME),  # before 新建村站's first month: counted, not held
    *[(i, 5, date(2025, 3, i), MAR_IN_TIME) for i in (11, 12)],
    *[(i, 1, date(2025, 3, i), MAR_IN_TIME) for i in (13, 14)],
]
DECISIONS = [
    (1, "recognised", ""),
    (2, "rejected", "照片与活动不符"),
    (7, "rejected", "无照片"),
    (11, "recognised", ""),
]
FEEDBACK = [(n, a, kind, why) for n, (a, kind, why) in enumerate(DECISIONS, start=1)] + [(5, 2, "reply", "已补充照片")]
# (month, unit, activities, on_time, recognised, not_recognised, not_recognised_on_time)
UNIT_MONTHS = [
    ("2025-02", 2, 3, 3, 1, 1, 1),
    ("2025-02", 3, 2, 1, 0, 1, 0),
    ("2025-02", 4, 1, 1, 0, 0, 0),
    ("2025-02", 5, 1, 1, 0, 0, 0),
    ("2025-03", 1, 2, 2, 0, 0, 0),
    ("2025-03", 2, 2, 0, 0, 0, 0),
    ("2025-03", 4, 1, 1, 0, 0, 0),
    ("2025-03", 5, 2, 2, 1, 0, 0),
]
# (month, town, type, held, not_recognised, capped, met, on_time_met); quotas 8 / 3 (兰溪镇所 1) / 2
TOWN_MONTHS = [
    ("2025-02", "兰溪镇", "institute", 1, 0, 1, 1, 1),
    ("2025-02", "泥江口镇", "institute", 2, 1, 2, 0, 0),  # 3 less 1 不予认定, against 3
    ("2025-02", "泥江口镇", "station", 1, 1, 1, 0, 0),
    ("2025-03", "", "center", 2, 0, 2, 0, 0),
    ("2025-03", "兰溪镇", "institute", 1, 0, 1, 1, 1),
    ("2025-03", "兰溪镇", "station", 2, 0, 2, 1, 1),
    ("2025-03", "泥江口镇", "institute", 2, 0, 2, 0, 0),
]
# Before decisions existed (0001-0003) every activity is held: 泥江口镇所 held 3 of 3 in February,
# its station 2 of 2 (1 by the deadline).
UNIT_MONTHS_UNDECIDED = [(*row[:4], 0, 0, 0) for row in UNIT_MONTHS]
UNDECIDED = {("2025-02", "泥江口镇", "institute"): (3, 0, 3, 1, 1), ("2025-02", "泥江口镇", "station"): (2, 0, 2, 1, 0)}
TOWN_MONTHS_UNDECIDED = [row[:3] + UNDECIDED.get(row[:3], row[3:]) for row in TOWN_MONTHS]
EARLIER_VERSIONS = sorted(known_revisions() - {head()})


def _add(connection, name: str, rows: list[dict[str, object]]) -> None:
    """Rows into a table as the schema of the time has it: only the columns given."""
    model = SQLModel.metadata.tables[name]
    table = sa.table(name, *[sa.column(c, model.c[c].type) for c in rows[0]])
    connection.execute(table.insert(), rows)


def _fill(connection, version: str) -> None:
    def since(revision: str) -> bool:
        return version >= revision

    _add(
        connection,
        "unit",
        [
            dict(
                zip(
                    ("id", "code", "name", "short_name", "type", "town", "quota", "active_from"),
                    unit,
                    strict=True,
                )
            )
            | {"head": "", "phone": "", "active_to": None}
            for unit in UNITS
        ],
    )
    _add(
        connection, "typequota", [{"type": t, "quota": q} for t, q in (("center", 8), ("institute", 3), ("station", 2))]
    )
    if since("0002"):  # the quota rules the upgrade to 0002 made of the quotas above
        rules = [("center", None, 8), ("institute", None, 3), ("station", None, 2), ("", 4, 1)]
        _add(
            connection,
            "quotarule",
            [
                {
                    "id": n,
                    "unit_type": t,
                    "unit_id": u,
                    "from_month": "",
                    "quota": q,
                    "set_by": "升级",
                    "set_at": EARLIER,
                }
                for n, (t, u, q) in enumerate(rules, start=1)
            ],
        )
    batch = {"kind": "activities", "user": "", "created_at": EARLIER, "file_name": "台账.csv", "sha256": "0" * 64}
    _add(
        connection,
        "importbatch",
        [
            batch
            | {"id": 1, "town": "", "size": 100, "status": "imported", "rows": 14, "imported": 14}
            | {"duplicates": 0, "rejected": 0, "message": ""}
        ],
    )
    _add(
        connection,
        "activity",
        [
            {"id": i, "unit_id": u, "date": day, "month": f"{day:%Y-%m}", "title": f"活动{i}", "title_key": f"活动{i}"}
            | {"category": "", "participants": None, "volunteers": None, "location": "", "photos": None, "notes": ""}
            | {"batch_id": 1, "stored_at": stored}
            | ({"as_written": '{"参与人数": "30余人"}' if i == 1 else ""} if since("0008") else {})
            for i, u, day, stored in ACTIVITIES
        ],
    )
    audit = {"at": EARLIER, "actor": "审核员", "target": "", "before": "", "after": ""}
    _add(
        connection,
        "auditevent",
        [
            audit | {"id": 1, "action": "review", "detail": "活动 #20"},
            audit | {"id": 2, "action": "rollback", "detail": "导入记录 #7"},
        ],
    )
    if since("0004"):
        _add(
            connection,
            "review",
            [
                {"activity_id": a, "decision": d, "reason": r, "reviewer": "审核员", "decided_at": EARLIER}
                for a, d, r in DECISIONS
            ],
        )
        _add(
            connection,
            "feedback",
            [
                {"id": n, "activity_id": a, "at": EARLIER, "author": "审核员", "kind": k, "text": t}
                for n, a, k, t in FEEDBACK
            ],
        )
        photo = {"phash": "0" * 16, "taken_at": "", "width": 4, "height": 3, "size": 9, "uploaded_by": "经办人"}
        _add(
            connection,
            "photo",
            [
                photo
                | {"id": n, "activity_id": a, "sha256": f"{n}" * 64, "file_name": f"{n}.jpg", "uploaded_at": EARLIER}
                for n, a in ((1, 1), (2, 11))
            ],
        )
    if since("0005"):  # the counts that version kept (0005 stamped the deadline day they follow: 5)
        counts = ("month", "unit_id", "activities", "on_time", "recognised", "not_recognised", "not_recognised_on_time")
        _add(connection, "unitmonth", [dict(zip(counts, row, strict=True)) for row in UNIT_MONTHS])
    if since("0006"):
        sums = ("month", "town", "unit_type", "held", "not_recognised", "capped", "met", "on_time_met")
        _add(connection, "townmonth", [dict(zip(sums, row, strict=True)) for row in TOWN_MONTHS])
    if connection.dialect.name == "postgresql":  # as used: 活动 #20 and 导入记录 #7 took their numbers
        used = {"activity": 20, "importbatch": 7, "auditevent": 2, "feedback": 5, "photo": 2, "quotarule": 4, "unit": 5}
        for name, last in used.items():
            if name in inspect(connection).get_table_names():
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {last})"))


def _database_at(version: str, backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'v{version}.db'}"
    else:
        url = _pg_schema_url("t_migrate")
        drop_all(get_engine(url))
    with migrating(get_engine(url)) as connection:  # as an upgrade runs: 0009 needs SQLite's foreign keys off
        command.upgrade(_config(connection), version)
        _fill(connection, version)
    return url


def _live_code_refused(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("an upgrade ran code that later versions may change")


def test_every_migration_carries_its_own_code():
    """A migration run on an old database years later must do what it did then: it imports nothing
    from the program, whose modules follow the newest schema."""
    versions = Path(__file__).resolve().parents[1] / "monitor" / "store" / "migrations" / "versions"
    revisions = sorted(versions.glob("0*.py"))
    assert len(revisions) >= 9, "the revisions are where the test looks"
    for path in revisions:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert not {m for m in imported if m == "monitor" or m.startswith("monitor.")}, path.name


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_of_every_earlier_version_upgrades_with_its_figures(backend, version, tmp_path, monkeypatch):
    url = _database_at(version, backend, tmp_path)
    engine = get_engine(url)
    with monkeypatch.context() as live:
        for module, name in (
            (townmonths, "rebuild"),
            (townmonths, "compute"),
            (references, "install"),
            (grids, "quota_grid"),
            (unitmonths, "deadlines"),
            (unitmonths, "rebuild"),
        ):
            live.setattr(module, name, _live_code_refused)
        done = init_db(engine, backups_dir=tmp_path / "backups")
    assert (done.before, done.after) == (version, head())

    decided = version >= "0004"
    with Session(engine) as s:
        connection = s.connection()
        counts = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("activity", "unit")}
        assert counts == {"activity": 14, "unit": 5}
        if decided:
            attached = {
                t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("review", "feedback", "photo")
            }
            assert attached == {"review": 4, "feedback": 5, "photo": 2}
        written = connection.execute(text("SELECT id, as_written FROM activity WHERE as_written <> ''")).all()
        assert [tuple(r) for r in written] == ([(1, '{"参与人数": "30余人"}')] if version >= "0008" else [])
        stored = unitmonths.stored(s).sort_values(["month", "unit_id"])
        assert [tuple(r) for r in stored[["month", "unit_id", *unitmonths.COUNTS]].itertuples(index=False)] == (
            UNIT_MONTHS if decided else UNIT_MONTHS_UNDECIDED
        )
        sums = townmonths.stored(s).sort_values(list(townmonths.KEY))
        assert [tuple(r) for r in sums.itertuples(index=False)] == (TOWN_MONTHS if decided else TOWN_MONTHS_UNDECIDED)
        found = unitmonths.check(session=s, actor=OPERATOR, settings=Settings())
        assert (found.differences, found.sums, found.deadline_day) == ([], [], 5)
        doc = metrics.report(
            session=s, query=Query(actor=OPERATOR, settings=Settings(), start="2025-02", end="2025-03")
        ).to_json()
        # Held: February 2 + 1 + 1 (新建村站 not yet active), March 2 + 2 + 1 + 2; before decisions
        # existed the two 不予认定 were held too.
        # Required: February 8 + 3 + 2 + 1 (兰溪镇所's own quota), March the same and 新建村站's 2.
        assert (doc["held"], doc["required"]) == ((11, 30) if decided else (13, 30))

        # Numbers once used are not given again: the next activity and batch come after those the
        # audit trail names (活动 #20, 导入记录 #7).
        new = {
            "unit_id": 3,
            "date": date(2025, 3, 20),
            "title": "新活动",
            "stored_at": MAR_IN_TIME,
        }
        next_activity = connection.execute(
            text(
                "INSERT INTO activity (unit_id, date, month, title, title_key, category, location, notes, "
                "stored_at) VALUES (:unit_id, :date, '2025-03', :title, :title, '', '', '', :stored_at) RETURNING id"
            ).bindparams(
                sa.bindparam("date", type_=sa.Date()), sa.bindparam("stored_at", type_=sa.DateTime(timezone=True))
            ),
            new,
        ).scalar_one()
        next_batch = connection.execute(
            text(
                'INSERT INTO importbatch (kind, "user", created_at, file_name, sha256, town, size, status, rows, '
                "imported, duplicates, rejected, message) VALUES ('activities', '', :at, 'b.csv', '', '', 0, "
                "'imported', 0, 0, 0, 0, '') RETURNING id"
            ).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True))),
            {"at": MAR_IN_TIME},
        ).scalar_one()
        if backend == "sqlite" and version >= "0009":
            # Made at 0009 or later, the database never freed an id: its counters follow its own rows.
            assert (next_activity, next_batch) == (counts["activity"] + 1, 2)
        else:
            assert (next_activity, next_batch) == (21, 8)
        s.rollback()

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        if backend == "sqlite":  # the tables whose numbers name things never reuse one
            made = dict(connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all())
            assert {t for t in made if "AUTOINCREMENT" in made[t]} == {"activity", "importbatch", "photo", "feedback"}
    by_trigger = {(fk.parent.name, fk.column_keys[0], fk.referred_table.name) for kind, fk in diff if kind == "add_fk"}
    assert by_trigger == (set(references.CHECKED) if backend == "postgresql" else set())
    assert [d for d in diff if d[0] != "add_fk"] == []


def test_an_upgrade_that_finds_a_broken_reference_leaves_the_database_as_it_was(tmp_path):
    """SQLite: the rebuild of 0009 runs with foreign keys off; every reference is checked before the
    commit, and a failed upgrade leaves the old version whole, table changes included."""
    url = _database_at("0008", "sqlite", tmp_path)
    engine = get_engine(url)
    with engine.connect() as connection:  # a photo of an activity that is not there, slipped in unchecked
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.exec_driver_sql("UPDATE photo SET activity_id = 99 WHERE id = 2")
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
    with engine.connect() as connection:
        before = connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").all()
    with pytest.raises(SchemaError, match="photo"):
        init_db(engine, backups_dir=tmp_path / "backups")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0008"
        assert connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").all() == before
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
