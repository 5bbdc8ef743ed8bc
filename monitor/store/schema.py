"""The schema's version: a new database is made at the newest revision, an older one is upgraded
in place after a copy of it is put aside. Revisions live in monitor/store/migrations/versions."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import SQLModel

import monitor.core.models  # noqa: F401  (the tables)
from monitor.core.errors import Refusal
from monitor.store import references

SCRIPTS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of databases made before migrations existed
OUR_TABLES = {"unit", "activity", "importbatch"}


class SchemaError(Refusal):
    """The database is not one of ours, or is newer than this program."""

    code = "schema"


class SchemaOutdated(SchemaError):
    """The database is at an older version: `python -m monitor init` upgrades it."""


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # None: the database was new
    after: str
    copy: Path | None = None  # where the database was put aside before the upgrade
    note: str = ""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def revision_of(connection: Connection) -> str | None:
    """The revision a database is at; the baseline for one made before migrations; None when empty."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        return MigrationContext.configure(connection).get_current_revision()
    if OUR_TABLES <= tables:
        return BASELINE
    if tables:
        raise SchemaError("该数据库不是本系统的数据库（缺少单位、活动或导入记录表）。")
    return None


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection to run migrations on, in one transaction.

    SQLite: a migration that rebuilds a table other tables refer to (0009) drops it, which SQLite
    refuses while it enforces foreign keys, and enforcement can only be switched outside a
    transaction. So it is off for the migrations, every reference is checked before the commit
    (SchemaError, and nothing committed, if one names a row that does not exist), and it is on again
    before the connection goes back to the pool. The transaction is begun at once, so that the
    migrations' table changes are part of it too (the driver would run those before the first row
    written each on its own).
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        try:
            with connection.begin():
                raw = connection.connection.driver_connection
                if sqlite and not raw.in_transaction:  # type: ignore[union-attr]
                    raw.execute("BEGIN")  # type: ignore[union-attr]
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
                if broken:
                    table, row, parent, _ = broken[0]
                    raise SchemaError(
                        f"升级后 {len(broken)} 行引用了不存在的记录（如 {table} 第 {row} 行引用的 {parent}），"
                        "升级未提交，数据库保持原样。"
                    )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()


def _copy_aside(engine: Engine, backups_dir: Path, before: str, after: str) -> tuple[Path | None, str]:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    backups_dir.mkdir(parents=True, exist_ok=True)
    url = make_url(engine.url)
    if url.get_backend_name() == "sqlite":
        target = backups_dir / f"pre-upgrade-{before}-to-{after}-{stamp}.db"
        with sqlite3.connect(str(url.database)) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        return target, ""
    # PostgreSQL: the upgrade runs in one transaction; pg_dump keeps a copy of the schema as well.
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None, "未找到 pg_dump，升级前未另存副本（升级在一个事务中进行，失败时数据库保持原样）。"
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    target = backups_dir / f"pre-upgrade-{before}-to-{after}-{stamp}.dump"
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        [pg_dump, "--format=custom", f"--file={target}", f"--schema={schema}", libpq],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SchemaError(f"升级前备份失败，未做任何改动：{done.stderr.strip()[:300]}")
    return target, ""


def prepare(engine: Engine, *, backups_dir: Path, upgrade: bool = True) -> Upgrade:
    """Make a new database at the newest revision, or upgrade an older one (upgrade=False: refuse it)."""
    newest = head()
    with engine.connect() as connection:
        before = revision_of(connection)
    if before is None:
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            references.install(connection)
            command.stamp(_config(connection), newest)
        return Upgrade(before=None, after=newest)
    if before == newest:
        return Upgrade(before=before, after=newest)
    if before not in known_revisions():
        raise SchemaError(f"数据库版本 {before} 比本程序新，请先升级程序。")
    if not upgrade:
        raise SchemaOutdated(
            f"数据库版本为 {before}，本程序需要 {newest}："
            "请先运行 python -m monitor init 升级（升级前会自动另存副本）。"
        )
    copy, note = _copy_aside(engine, backups_dir, before, newest)
    with migrating(engine) as connection:
        config = _config(connection)
        if not inspect(connection).has_table("alembic_version"):
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    return Upgrade(before=before, after=newest, copy=copy, note=note)
