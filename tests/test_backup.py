"""Backup and restore, and the administrative commands of `python -m monitor` (users, months, audit)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cli_runner import run_main, run_process
from conftest import PG_URL, make_settings
from factories import hold, load_roster
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, col, select

from monitor.admin.accounts import AuthError, add_user, authenticate, disable_user, set_password
from monitor.admin.backup import BackupError, backup, restore
from monitor.admin.sessions import end_session, session_actor, start_session
from monitor.core.config import Settings
from monitor.core.models import AuditEvent, MonthLock, User
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.store import audit
from monitor.store.db import bump_version, data_version, get_engine, init_db
from monitor.store.schema import head, revision_of

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "main_v0"
TODAY = date(2026, 11, 26)
JAN_FEB = {("ZX", "2025-01"): 8, ("NJK-S", "2025-01"): 3, ("NJK-S", "2025-02"): 2, ("LX-HP", "2025-02"): 2}
MORE = {("LX-S", "2025-02"): 3, ("NJK-HP", "2025-01"): 1}
ADMIN = Actor(name="管理员", role="admin")


class Cli:
    """`python -m monitor` on the database of the given settings: in this process (main() with an
    environment of its own), or, for a restore, which replaces the database file under the program,
    in a process of its own as an operator runs it."""

    def __init__(self, settings: Settings, *, in_process: bool = True) -> None:
        self.in_process = in_process
        self.env = {
            **os.environ,
            "MONITOR_DATABASE_URL": settings.database_url,
            "MONITOR_DATA_DIR": str(settings.data_dir),
        }

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        run = run_main if self.in_process else run_process
        return run(args, env=self.env, stdin=stdin)

    def json(self, *args: str) -> dict:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    init_db(get_engine(url))
    return Settings(database_url=url, data_dir=tmp_path / "data")


def _loaded(settings: Settings) -> dict[str, object]:
    """An admin account, the small roster and January-February 2025; returns the report of those months."""
    with Session(get_engine(settings.database_url)) as session:
        session.add(User(name=ADMIN.name, role="admin", created_at=datetime.now(UTC)))
        session.commit()
        load_roster(session, settings)
        hold(session, settings, JAN_FEB, today=TODAY)
        return _report(settings)


def _report(settings: Settings) -> dict[str, object]:
    with Session(get_engine(settings.database_url)) as session:
        return metrics.report(
            session=session, query=Query(actor=ADMIN, settings=settings, start="2025-01", end="2025-02")
        ).to_json()


def _add_more(settings: Settings) -> None:
    with Session(get_engine(settings.database_url)) as session:
        hold(session, settings, MORE, today=TODAY)


def _events(settings: Settings) -> list[tuple[int, str, str, str]]:
    with Session(get_engine(settings.database_url)) as session:
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        return [(e.id or 0, e.actor, e.action, e.target) for e in rows]


def _version(settings: Settings) -> int:
    with Session(get_engine(settings.database_url)) as session:
        return data_version(session)


def _database_path(settings: Settings) -> Path:
    return Path(str(make_url(settings.database_url).database))


def _state(settings: Settings) -> tuple[str, dict[str, int]]:
    """The live file's bytes (hashed, with any write-ahead log) and each table's row count."""
    get_engine(settings.database_url).dispose()  # the last connection out checkpoints the log
    path = _database_path(settings)
    digest = hashlib.sha256(path.read_bytes())
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in SQLModel.metadata.tables}
    return digest.hexdigest(), counts


def _copies(settings: Settings) -> list[Path]:
    return sorted((_database_path(settings).parent / "backups").glob("pre-restore-*.db"))


def test_backup_then_restore_gives_the_same_figures(sqlite_settings: Settings, tmp_path: Path) -> None:
    before = _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "backups" / "monitor-2025-03-01.db")
    assert copy.exists() and not copy.with_name(copy.name + ".part").exists()
    assert copy.read_bytes()[18:20] == b"\x01\x01"  # one self-contained file, not write-ahead logged
    _add_more(sqlite_settings)
    assert _report(sqlite_settings)["held"] == before["held"] + 4
    restore(sqlite_settings.database_url, copy, actor=ADMIN)
    assert _report(sqlite_settings) == before


def test_restore_keeps_the_events_after_the_backup_and_records_itself(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    before = _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "monitor-2025-03-01.db")
    events_at_backup = _events(sqlite_settings)
    version_at_backup = _version(sqlite_settings)
    _add_more(sqlite_settings)
    with Session(get_engine(sqlite_settings.database_url)) as session:
        audit.record(session, actor="审核员", action="lock", target="2025-02")
        session.commit()
    later = _events(sqlite_settings)[len(events_at_backup) :]
    assert [e[2] for e in later] == ["import", "lock"]
    live_version = _version(sqlite_settings)
    assert live_version > version_at_backup

    done = restore(sqlite_settings.database_url, copy, actor=ADMIN)

    assert _report(sqlite_settings) == before
    events = _events(sqlite_settings)
    assert events[: len(events_at_backup)] == events_at_backup
    assert events[len(events_at_backup) : -1] == later  # carried over with their ids
    last_id, actor, action, target = events[-1]
    assert (actor, action, target) == (ADMIN.name, "restore", "monitor-2025-03-01.db")
    assert last_id > later[-1][0]
    with Session(get_engine(sqlite_settings.database_url)) as session:
        event = session.get(AuditEvent, last_id)
        assert event is not None and str(done.copy) in event.detail and "2 条" in event.detail
        assert abs(event.at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=5)
        admins = session.exec(select(User).where(User.role == "admin", col(User.disabled).is_(False))).all()
        assert [u.name for u in admins] == [ADMIN.name]
    assert done.carried == 2 and done.revision == head() and done.upgraded_to is None
    assert _version(sqlite_settings) == done.data_version == live_version + 1

    # The live database as it was just before, put aside beside it.
    assert _copies(sqlite_settings) == [done.copy] and done.copy.read_bytes()[18:20] == b"\x01\x01"
    aside = Settings(database_url=f"sqlite:///{done.copy}", data_dir=tmp_path / "data")
    assert _report(aside)["held"] == before["held"] + 4
    assert _events(aside) == events_at_backup + later


def test_restore_into_a_newer_database_moves_the_version_past_the_backups(tmp_path: Path) -> None:
    old = make_settings("sqlite", tmp_path / "old", "")
    before = _loaded(old)
    _add_more(old)
    with Session(get_engine(old.database_url)) as session:
        for _ in range(5):
            bump_version(session)
        session.commit()
    copy = backup(old.database_url, tmp_path / "old.db")
    fresh = make_settings("sqlite", tmp_path / "fresh", "")
    assert _version(fresh) < _version(old)
    done = restore(fresh.database_url, copy, actor=ADMIN)
    assert _version(fresh) == done.data_version == _version(old) + 1
    assert _report(fresh)["held"] == before["held"] + 4


def test_restore_onto_a_server_without_a_database(sqlite_settings: Settings, tmp_path: Path) -> None:
    before = _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "backup.db")
    empty = Settings(database_url=f"sqlite:///{tmp_path / 'new' / 'monitor.db'}", data_dir=tmp_path / "data")
    done = restore(empty.database_url, copy, actor=ADMIN)
    assert done.copy is None and done.carried == 0
    assert _report(empty) == before
    assert _events(empty)[-1][1:] == (ADMIN.name, "restore", "backup.db")


def _without(table: str):
    def make(path: Path) -> None:
        with sqlite3.connect(path) as db:
            db.execute(f'DROP TABLE "{table}"')

    return make


def _sql(statement: str):
    def make(path: Path) -> None:
        with sqlite3.connect(path) as db:
            db.execute(statement)

    return make


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (_without("user"), "缺少数据表：user"),
        (_without("auditevent"), "缺少数据表：auditevent"),
        (_without("quotarule"), "缺少数据表：quotarule"),
        (_sql('UPDATE "user" SET disabled = 1'), "没有可用的管理员账户"),
        (_sql("UPDATE \"user\" SET role = 'reviewer'"), "没有可用的管理员账户"),
        (_sql("UPDATE alembic_version SET version_num = '9999'"), "版本 9999 比本程序新"),
        (_sql("DELETE FROM alembic_version"), "不是本系统的备份"),
    ],
)
def test_restore_refuses_a_backup_that_is_not_whole(sqlite_settings: Settings, tmp_path: Path, spoil, words) -> None:
    before = _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "backup.db")
    spoil(copy)
    _add_more(sqlite_settings)
    state = _state(sqlite_settings)
    with pytest.raises(BackupError, match=words):
        restore(sqlite_settings.database_url, copy, actor=ADMIN)
    assert _state(sqlite_settings) == state
    assert _copies(sqlite_settings) == []
    assert _report(sqlite_settings)["held"] == before["held"] + 4


def test_restore_refuses_a_damaged_file(sqlite_settings: Settings, tmp_path: Path) -> None:
    _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "backup.db")
    with sqlite3.connect(copy) as db:
        db.execute("PRAGMA journal_mode=DELETE")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ix_activity_month_unit'").fetchone()[0]
    data = bytearray(copy.read_bytes())
    offset = (root - 1) * page_size
    data[offset + 8 : offset + page_size] = b"\xff" * (page_size - 8)  # an index page overwritten
    copy.write_bytes(bytes(data))
    state = _state(sqlite_settings)
    with pytest.raises(BackupError, match="已损坏"):
        restore(sqlite_settings.database_url, copy, actor=ADMIN)
    assert _state(sqlite_settings) == state


def _not_sqlite(path: Path) -> Path:
    path.write_text("单位编码,单位名称\nZX,中心\n", encoding="utf-8")
    return path


def _other_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [(_not_sqlite, "不是 SQLite 数据库文件"), (_other_sqlite, "不是本系统的备份"), (lambda p: p, "不存在")],
)
def test_restore_refuses_a_file_that_is_not_ours(sqlite_settings: Settings, tmp_path: Path, make, words) -> None:
    before = _loaded(sqlite_settings)
    state = _state(sqlite_settings)
    with pytest.raises(BackupError, match=words):
        restore(sqlite_settings.database_url, make(tmp_path / "backup.db"), actor=ADMIN)
    assert _state(sqlite_settings) == state
    assert _report(sqlite_settings) == before


@pytest.mark.parametrize("role", ["reviewer", "town"])
def test_only_an_admin_restores(sqlite_settings: Settings, tmp_path: Path, role: str) -> None:
    _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "backup.db")
    _add_more(sqlite_settings)
    state = _state(sqlite_settings)
    with pytest.raises(Forbidden):
        restore(sqlite_settings.database_url, copy, actor=Actor(name="someone", role=role, town="泥江口镇"))
    assert _state(sqlite_settings) == state


def _pre_migration_backup(path: Path) -> Path:
    """A backup of a database made before migrations existed (revision 0001, no alembic_version)."""
    rows = json.loads((FIXTURE / "rows.json").read_text(encoding="utf-8"))
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURE / "schema_sqlite.sql").read_text(encoding="utf-8"))
        for name, table_rows in rows.items():
            for row in table_rows:
                columns = ", ".join(f'"{c}"' for c in row)
                db.execute(f'INSERT INTO "{name}" ({columns}) VALUES ({", ".join("?" * len(row))})', list(row.values()))
    return path


def test_a_backup_from_before_migrations_is_upgraded_after_restoring(sqlite_settings: Settings, tmp_path: Path) -> None:
    _loaded(sqlite_settings)
    old = _pre_migration_backup(tmp_path / "old-backup.db")
    with get_engine(f"sqlite:///{old}").connect() as connection:
        assert revision_of(connection) == "0001"
    get_engine(f"sqlite:///{old}").dispose()
    old_bytes = old.read_bytes()
    done = restore(sqlite_settings.database_url, old, actor=ADMIN)
    assert (done.revision, done.upgraded_to) == ("0001", head())
    assert old.read_bytes() == old_bytes  # the backup file itself is left as it was
    with get_engine(sqlite_settings.database_url).connect() as connection:
        assert revision_of(connection) == head()
    with Session(get_engine(sqlite_settings.database_url)) as session:
        # The live account stays; the backup's accounts, from another database, are added.
        assert [u.name for u in session.exec(select(User).order_by(col(User.id))).all()] == ["管理员", "admin", "njk"]
    assert done.accounts == ("管理员（新增）", "admin（从备份补入）", "njk（从备份补入）")
    report = _report(sqlite_settings)
    assert report["held"] == 14
    assert _events(sqlite_settings)[-1][1:] == (ADMIN.name, "restore", "old-backup.db")


def test_backup_to_a_place_that_cannot_be_written_says_so(sqlite_settings: Settings, tmp_path: Path) -> None:
    _loaded(sqlite_settings)
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    for target in (blocker / "x.db", Path("/proc/monitor-backup.db")):
        with pytest.raises(BackupError, match="无法写入备份文件"):
            backup(sqlite_settings.database_url, target)
    done = Cli(sqlite_settings)("backup", str(blocker / "x.db"))
    assert done.returncode == 2
    assert done.stderr.startswith("错误：") and "无法写入备份文件" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["postgresql+psycopg://monitor@db.example/monitor", "postgresql://u@localhost/m"])
def test_postgresql_backups_are_left_to_pg_dump(url: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump") as refused:
        backup(url, tmp_path / "copy.db")
    assert "pg_restore" in str(refused.value)
    with pytest.raises(BackupError, match="pg_dump"):
        restore(url, tmp_path / "copy.db", actor=ADMIN)
    assert not (tmp_path / "copy.db").exists()


def test_cli_backup_then_restore_gives_the_same_report(sqlite_settings: Settings, tmp_path: Path) -> None:
    cli = Cli(sqlite_settings, in_process=False)
    _loaded(sqlite_settings)
    report = ("report", "--start", "2025-01", "--end", "2025-02")
    before = cli.json(*report)
    path = str(tmp_path / "monitor-backup.db")
    done = cli("backup", path)
    assert (done.returncode, done.stderr) == (0, "")
    _add_more(sqlite_settings)
    assert cli.json(*report)["held"] == before["held"] + 4
    done = cli("restore", path)
    assert (done.returncode, done.stderr) == (0, "")
    (copy,) = _copies(sqlite_settings)
    assert f"恢复前的数据库已另存为：{copy}" in done.stdout
    assert "已结束登录会话 0 个，所有人须重新登录。" in done.stdout
    assert cli.json(*report) == before
    events = _events(sqlite_settings)
    assert events[-1][2:] == ("restore", "monitor-backup.db") and events[-1][1].startswith("命令行:")
    assert events[-2][2] == "import"  # the import after the backup is still on record


def test_cli_restore_of_a_foreign_file_exits_2_in_chinese(sqlite_settings: Settings, tmp_path: Path) -> None:
    cli = Cli(sqlite_settings, in_process=False)
    before = _loaded(sqlite_settings)
    done = cli("restore", str(_other_sqlite(tmp_path / "other.db")))
    assert done.returncode == 2
    assert done.stderr.startswith("错误：") and "不是本系统的备份" in done.stderr
    assert "Traceback" not in done.stderr
    assert _report(sqlite_settings) == before


@pytest.mark.skipif(not PG_URL, reason="needs MONITOR_TEST_DATABASE_URL")
def test_cli_backup_of_postgresql_explains_pg_dump(tmp_path: Path) -> None:
    settings = make_settings("postgresql", tmp_path, "t_fresh")
    assert make_url(settings.database_url).get_backend_name() == "postgresql"
    done = Cli(settings)("backup", str(tmp_path / "copy.db"))
    assert done.returncode == 2
    assert "pg_dump" in done.stderr and "Traceback" not in done.stderr


def test_cli_users_add_reads_the_password_from_stdin(settings: Settings, session: Session) -> None:
    load_roster(session, settings)
    cli = Cli(settings)
    done = cli(
        "users", "add", "clerk", "--role", "town", "--town", "泥江口镇", "--password-stdin", stdin="clerk-password-1\n"
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert authenticate(session=session, name="clerk", password="clerk-password-1").town == "泥江口镇"
    refused = cli("users", "add", "other", "--role", "admin", "--password-stdin", stdin="")
    assert refused.returncode == 2 and "标准输入中没有密码" in refused.stderr


def test_cli_users_list_json_has_no_password(settings: Settings, session: Session) -> None:
    load_roster(session, settings)
    add_user(session=session, actor=ADMIN, name="clerk", role="town", town="泥江口镇", password="clerk-password-1")
    add_user(session=session, actor=ADMIN, name="审核员", role="reviewer", password="reviewer-password")
    done = Cli(settings)("users", "list", "--json")
    assert done.returncode == 0, done.stderr
    users = json.loads(done.stdout)["users"]
    assert [(u["name"], u["role"], u["town"], u["disabled"]) for u in users] == [
        ("clerk", "town", "泥江口镇", False),
        ("审核员", "reviewer", "", False),
    ]
    assert not any("password" in key for user in users for key in user)
    assert "argon2" not in done.stdout and "password-" not in done.stdout


def test_cli_months_lock_by_a_town_user_exits_2(settings: Settings, session: Session) -> None:
    load_roster(session, settings)
    add_user(session=session, actor=ADMIN, name="clerk", role="town", town="泥江口镇", password="clerk-password-1")
    add_user(session=session, actor=ADMIN, name="审核员", role="reviewer", password="reviewer-password")
    cli = Cli(settings)
    done = cli("months", "lock", "2025-03", "--user", "clerk")
    assert done.returncode == 2
    assert done.stderr.startswith("错误：") and "无权锁定月份" in done.stderr
    assert "Traceback" not in done.stderr
    session.expire_all()
    assert session.exec(select(MonthLock)).all() == []
    assert cli("months", "lock", "2025-03", "--user", "审核员").returncode == 0
    assert cli.json("months", "list") == {"locked": ["2025-03"]}


def test_cli_audit_json_lists_events(settings: Settings, session: Session) -> None:
    add_user(session=session, actor=ADMIN, name="审核员", role="reviewer", password="reviewer-password")
    cli = Cli(settings)
    assert cli("months", "lock", "2025-03", "--user", "审核员").returncode == 0
    events = cli.json("audit")["events"]
    assert [(e["action"], e["actor"], e["target"]) for e in events] == [
        ("lock", "审核员", "2025-03"),
        ("user_add", "管理员", "审核员"),
    ]
    assert json.loads(events[0]["after"]) == {"locked": True}
    recent = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    assert all(datetime.fromisoformat(e["at"]).replace(tzinfo=None) > recent for e in events)
    assert cli.json("audit", "--since", "2999-01-01")["events"] == []


def _accounts(settings: Settings) -> list[tuple[str, str, bool]]:
    with Session(get_engine(settings.database_url)) as session:
        return [(u.name, u.role, u.disabled) for u in session.exec(select(User).order_by(col(User.name))).all()]


def test_restore_ends_every_session_and_keeps_the_accounts_as_they_are(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    """Accounts and sign-ins are not part of the figures: a restore brings the figures back, not a
    signed-out session, a disabled account or an old password."""
    settings = sqlite_settings
    _loaded(settings)
    engine = get_engine(settings.database_url)
    actors = {name: Actor(name=name, role="reviewer") for name in ("clerk", "leaver", "resetter", "newcomer")}
    with Session(engine) as session:
        for name in ("clerk", "leaver", "resetter"):
            add_user(session=session, actor=ADMIN, name=name, role="reviewer", password=f"{name}-password-1")
        tokens = {
            name: start_session(session=session, actor=actors[name], settings=settings)
            for name in ("clerk", "leaver", "resetter")
        }
    copy = backup(settings.database_url, tmp_path / "backup.db")
    with Session(engine) as session:
        end_session(session=session, token=tokens["clerk"])  # signed out after the backup
        disable_user(session=session, actor=ADMIN, name="leaver")
        set_password(session=session, actor=ADMIN, name="resetter", password="resetter-password-2")
        add_user(session=session, actor=ADMIN, name="newcomer", role="reviewer", password="newcomer-password-1")
        tokens["newcomer"] = start_session(session=session, actor=actors["newcomer"], settings=settings)
        tokens["管理员"] = start_session(session=session, actor=ADMIN, settings=settings)
    accounts = _accounts(settings)
    assert accounts == [
        ("clerk", "reviewer", False),
        ("leaver", "reviewer", True),
        ("newcomer", "reviewer", False),
        ("resetter", "reviewer", False),
        ("管理员", "admin", False),
    ]

    done = restore(settings.database_url, copy, actor=ADMIN)

    assert _accounts(settings) == accounts
    with Session(engine) as session:
        # Everyone signs in again: the signed-out session stays out, and so does every other.
        signed_in = {name: session_actor(session=session, token=t, settings=settings) for name, t in tokens.items()}
        assert signed_in == dict.fromkeys(tokens)
        with pytest.raises(AuthError, match="已停用"):
            authenticate(session=session, name="leaver", password="leaver-password-1")
        with pytest.raises(AuthError):
            authenticate(session=session, name="resetter", password="resetter-password-1")
        assert authenticate(session=session, name="resetter", password="resetter-password-2").name == "resetter"
        assert authenticate(session=session, name="newcomer", password="newcomer-password-1").name == "newcomer"
        trail = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    # The audit trail says what the accounts are: leaver's disabling is on record, and the restore
    # event names the accounts it left as they were and the sessions it ended.
    disabling = [(e.action, e.target, e.after) for e in trail if e.action in ("user_disable", "user_enable")]
    assert disabling == [("user_disable", "leaver", '{"disabled": true}')]
    restored = next(e for e in trail if e.action == "restore")
    assert "leaver（停用）" in restored.detail and "resetter（密码）" in restored.detail
    assert "newcomer（新增）" in restored.detail and "clerk" not in restored.detail
    assert "结束登录会话 2 个" in restored.detail
    assert (done.sessions_ended, done.accounts) == (2, ("leaver（停用）", "newcomer（新增）", "resetter（密码）"))
