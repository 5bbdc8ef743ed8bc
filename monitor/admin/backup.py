"""Backups: SQLite's online backup (safe while the dashboard runs); PostgreSQL is pg_dump's job.

A restore never trusts the file it is given: the backup is checked whole (SQLite, integrity,
schema revision, every table of that revision, an active admin) before anything is written;
it is staged and upgraded beside the live database; the live database is copied aside; then
the live content is replaced in one transaction that also keeps the audit events newer than the
backup, records the restore, and moves the data version on so every cache refreshes.

Accounts are not data to roll back: the live accounts stay as they are (one created, disabled or
given a new password after the backup stays so, as the carried-over audit events say), with the
failed sign-in counts; every sign-in session ends, so everyone signs in again.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import monitor.core.models  # noqa: F401  (the tables)
from monitor.core.errors import Refusal
from monitor.core.permissions import Actor, Forbidden
from monitor.store.db import get_engine, init_db
from monitor.store.schema import SCRIPTS, SchemaError, head, known_revisions, revision_of

PG_HELP = (
    "PostgreSQL 数据库请用 pg_dump 备份、pg_restore 恢复，例如：\n"
    "  pg_dump --format=custom --file=monitor-$(date +%F).dump 'postgresql://USER@HOST/DB'\n"
    "  pg_restore --clean --if-exists --dbname='postgresql://USER@HOST/DB' monitor-YYYY-MM-DD.dump"
)
SQLITE_MAGIC = b"SQLite format 3\x00"
# How SQLAlchemy stores a DateTime in SQLite; the restore event is written with plain sqlite3.
SQLITE_MOMENT = "%Y-%m-%d %H:%M:%S.%f"


# Tables the live database keeps through a restore: accounts, failed sign-in counts, sign-in sessions.
LIVE_TABLES = frozenset({"user", "loginthrottle", "signinsession"})


class BackupError(Refusal):
    """A backup or restore that cannot be done here; the message says what to do instead."""

    code = "refused"


@dataclass(frozen=True)
class Checked:
    """What a backup file was found to hold."""

    revision: str
    last_event: int  # the highest audit event id in the backup (0 when none)


@dataclass(frozen=True)
class Restored:
    source: Path
    copy: Path | None  # the live database as it was before the restore (None: there was none)
    revision: str  # the backup's schema revision
    upgraded_to: str | None  # the revision the restored data was upgraded to, when older
    carried: int  # audit events newer than the backup, kept
    data_version: int
    accounts: tuple[str, ...] = ()  # accounts that differ from the backup's, kept as they were: "name（what）"
    sessions_ended: int = 0  # sign-in sessions open before the restore, all ended by it


@dataclass(frozen=True)
class _Swapped:
    carried: int
    data_version: int
    accounts: tuple[str, ...]
    sessions_ended: int


def _sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(PG_HELP)
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("内存数据库无法备份。")
    return Path(parsed.database)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _online_copy(source: Path, target: Path, *, standalone: bool = False) -> None:
    """SQLite's online backup of source into target (created, or overwritten in one transaction).

    standalone: the copy leaves write-ahead logging, so it is one self-contained file that opens
    read-only anywhere (a copy of a WAL database is in WAL mode too).
    """
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
        if standalone:
            copy.execute("PRAGMA journal_mode=DELETE")


def backup(url: str, target: Path) -> Path:
    """Copy the live SQLite database to target with the online backup API (consistent, no downtime)."""
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"数据库文件 {source} 不存在。")
    partial = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _online_copy(source, partial, standalone=True)
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise BackupError(f"无法写入备份文件 {target}（{_reason(exc)}），请换一个有写权限的位置。") from exc
    return target


def _readonly_engine(path: Path) -> Engine:
    uri = f"file:{path.resolve()}?mode=ro"
    return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)


def _file_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}", poolclass=NullPool)


@lru_cache(maxsize=16)
def tables_at(revision: str) -> frozenset[str]:
    """The tables of the current models that a database at that revision holds: its migrations, replayed in memory."""
    engine = create_engine("sqlite://", poolclass=NullPool)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(SCRIPTS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        made = set(inspect(connection).get_table_names())
    engine.dispose()
    return frozenset(made & set(SQLModel.metadata.tables))


def check(source: Path) -> Checked:
    """Refuse, with BackupError, a file that is not a whole backup of ours; nothing is written."""
    if not source.is_file():
        raise BackupError(f"备份文件 {source} 不存在。")
    with source.open("rb") as head_bytes:
        if head_bytes.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{source} 不是 SQLite 数据库文件。")
    engine = _readonly_engine(source)
    try:
        with engine.connect() as connection:
            if connection.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
                raise BackupError(f"备份文件 {source} 已损坏（integrity_check 未通过），未做任何改动。")
            try:
                revision = revision_of(connection)
            except SchemaError as exc:
                raise BackupError(f"{source} 不是本系统的备份（缺少单位、活动或导入记录表）。") from exc
            if revision is None:
                raise BackupError(f"{source} 不是本系统的备份（没有数据表，或没有数据库版本）。")
            if revision not in known_revisions():
                raise BackupError(
                    f"备份的数据库版本 {revision} 比本程序新（本程序最高为 {head()}），请先升级程序再恢复。"
                )
            present = set(inspect(connection).get_table_names())
            missing = sorted(tables_at(revision) - present)
            if missing:
                raise BackupError(f"{source} 不是完整的备份，缺少数据表：{'、'.join(missing)}。未做任何改动。")
            admins = connection.exec_driver_sql(
                "SELECT count(*) FROM \"user\" WHERE role = 'admin' AND NOT disabled"
            ).scalar()
            if not admins:
                raise BackupError(f"{source} 中没有可用的管理员账户，恢复后将无人能管理系统。未做任何改动。")
            last_event = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM auditevent").scalar()
    except (sqlite3.Error, DBAPIError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise BackupError(f"备份文件 {source} 已损坏或无法读取（{reason}），未做任何改动。") from exc
    finally:
        engine.dispose()
    return Checked(revision=revision, last_event=int(last_event or 0))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _free(folder: Path, stem: str) -> Path:
    path = folder / f"{stem}.db"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.db"
        n += 1
    return path


@contextmanager
def _staged(source: Path, folder: Path) -> Iterator[tuple[Path, str | None]]:
    """The backup copied into a scratch folder beside the live database and upgraded to head there."""
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=folder) as scratch:
        staged = Path(scratch) / "staged.db"
        _online_copy(source, staged)
        engine = _file_engine(staged)
        try:
            done = init_db(engine, backups_dir=Path(scratch))
        except SchemaError as exc:
            raise BackupError(f"备份无法升级到本程序的数据库版本：{exc}。未做任何改动。") from exc
        finally:
            engine.dispose()
        yield staged, (done.after if done.changed else None)


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _account_changes(db: sqlite3.Connection) -> list[str]:
    """The live accounts that differ from the backup's, each as "name（what changed）"; then the
    backup's accounts the live database does not have (a database from another server)."""
    changes = []
    rows = db.execute(
        "SELECT m.name, r.id IS NULL, m.disabled, m.disabled <> r.disabled, m.role <> r.role, m.town <> r.town, "
        'm.password_hash <> r.password_hash FROM main."user" m LEFT JOIN restored."user" r ON r.name = m.name'
    )
    for name, new, disabled, *changed in rows:
        if new:
            changes.append(f"{name}（新增）")
            continue
        labels = ["停用" if disabled else "启用", "角色", "所属乡镇", "密码"]
        what = [label for label, differs in zip(labels, changed, strict=True) if differs]
        if what:
            changes.append(f"{name}（{'、'.join(what)}）")
    only_backup = db.execute(
        'SELECT name FROM restored."user" WHERE name NOT IN (SELECT name FROM main."user") ORDER BY name'
    )
    return sorted(changes) + [f"{name}（从备份补入）" for (name,) in only_backup]


def _swap(live: Path, staged: Path, *, last_event: int, actor: Actor, source: Path, copy: Path | None) -> _Swapped:
    """Replace the live content with the staged one in one write transaction.

    Live audit events with an id above the backup's last one stay, as does their id; the live
    accounts, sign-in counts and sessions stay (LIVE_TABLES), the backup's accounts the live
    database lacks are added, and every open session ends; the restore is added as one more event,
    saying all this; the data version becomes max(live, backup) + 1.
    """
    with closing(sqlite3.connect(live, isolation_level=None, timeout=30)) as db:
        db.execute("ATTACH DATABASE ? AS restored", (str(staged),))
        db.execute("BEGIN IMMEDIATE")
        try:
            version = "SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM {}.meta WHERE key = 'data_version'"
            versions = [db.execute(version.format(schema)).fetchone()[0] for schema in ("main", "restored")]
            data_version = max(versions) + 1
            carried = db.execute("SELECT count(*) FROM main.auditevent WHERE id > ?", (last_event,)).fetchone()[0]
            accounts = _account_changes(db)
            tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in LIVE_TABLES]
            for table in reversed(tables):
                older = f" WHERE id <= {int(last_event)}" if table.name == "auditevent" else ""
                db.execute(f'DELETE FROM main."{table.name}"{older}')
            for table in tables:
                columns = _quoted([c.name for c in table.columns])
                db.execute(f'INSERT INTO main."{table.name}" ({columns}) SELECT {columns} FROM restored."{table.name}"')
            account_columns = _quoted([c.name for c in SQLModel.metadata.tables["user"].columns if c.name != "id"])
            db.execute(
                f'INSERT INTO main."user" ({account_columns}) SELECT {account_columns} FROM restored."user" '
                'WHERE name NOT IN (SELECT name FROM main."user") ORDER BY id'
            )
            now = datetime.now(UTC).strftime(SQLITE_MOMENT)
            ended = db.execute(
                "UPDATE main.signinsession SET ended_at = ?, ended_reason = 'restore' WHERE ended_at IS NULL", (now,)
            ).rowcount
            db.execute(
                "INSERT INTO main.meta (key, value) VALUES ('data_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(data_version),),
            )
            aside = f"恢复前的数据库已另存为 {copy}" if copy else "恢复前没有数据库"
            kept = f"备份之后有变动的账号：{'、'.join(accounts)}" if accounts else "备份之后账号没有变动"
            detail = (
                f"{aside}；保留备份之后的操作记录 {carried} 条；账号保持恢复前的状态（{kept}）；"
                f"结束登录会话 {ended} 个，所有人须重新登录"
            )
            db.execute(
                'INSERT INTO main.auditevent (at, actor, action, target, "before", "after", detail) '
                "VALUES (?, ?, 'restore', ?, '', '', ?)",
                (now, actor.name, source.name, detail),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return _Swapped(carried=carried, data_version=data_version, accounts=tuple(accounts), sessions_ended=ended)


def _live_revision(live: Path) -> str | None:
    """The live database's revision; None when it does not exist yet or holds no tables."""
    if not live.exists():
        return None
    engine = _file_engine(live)
    try:
        with engine.connect() as connection:
            return revision_of(connection)
    finally:
        engine.dispose()


def restore(url: str, source: Path, *, actor: Actor) -> Restored:
    """Replace the live SQLite database's content with a checked backup; the live one is copied aside first."""
    if actor.role != "admin":
        raise Forbidden("只有管理员可以恢复备份。")
    live = _sqlite_path(url)
    checked = check(source)
    folder = live.resolve().parent / "backups"
    copy: Path | None = None
    try:
        live_revision = _live_revision(live)
        if live_revision not in (None, head()):
            raise BackupError(
                f"当前数据库版本为 {live_revision}，与本程序（{head()}）不一致："
                "请先运行 python -m monitor init，再恢复。未做任何改动。"
            )
        folder.mkdir(parents=True, exist_ok=True)
        with _staged(source, folder) as (staged, upgraded_to):
            if live.exists():
                copy = _free(folder, f"pre-restore-{_stamp()}")
                _online_copy(live, copy, standalone=True)
            if live_revision is None:  # nothing to keep: the staged file becomes the database
                _online_copy(staged, live)
            swapped = _swap(live, staged, last_event=checked.last_event, actor=actor, source=source, copy=copy)
    except (OSError, sqlite3.Error, DBAPIError, SchemaError) as exc:
        raise BackupError(f"恢复未完成，当前数据库未改动：{_reason(exc)}") from exc
    finally:
        get_engine(url).dispose()
    return Restored(
        source=source,
        copy=copy,
        revision=checked.revision,
        upgraded_to=upgraded_to,
        carried=swapped.carried,
        data_version=swapped.data_version,
        accounts=swapped.accounts,
        sessions_ended=swapped.sessions_ended,
    )
