"""Backup and restore, and the administrative commands of `python -m monitor` (users, months, audit)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import PG_URL, make_settings
from factories import hold, load_roster
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from monitor import metrics
from monitor.auth import add_user, authenticate
from monitor.backup import BackupError, backup, restore
from monitor.config import Settings
from monitor.db import get_engine, init_db
from monitor.models import MonthLock

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 26)
JAN_FEB = {("ZX", "2025-01"): 8, ("NJK-S", "2025-01"): 3, ("NJK-S", "2025-02"): 2, ("LX-HP", "2025-02"): 2}
MORE = {("LX-S", "2025-02"): 3, ("NJK-HP", "2025-01"): 1}


class Cli:
    """`python -m monitor` on the database of the given settings."""

    def __init__(self, settings: Settings) -> None:
        self.env = {
            **os.environ,
            "MONITOR_DATABASE_URL": settings.database_url,
            "MONITOR_DATA_DIR": str(settings.data_dir),
        }

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

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
    """The small roster and January-February 2025; returns the report of those months."""
    with Session(get_engine(settings.database_url)) as session:
        load_roster(session, settings)
        hold(session, settings, JAN_FEB, today=TODAY)
        return _report(settings)


def _report(settings: Settings) -> dict[str, object]:
    with Session(get_engine(settings.database_url)) as session:
        return metrics.report(session=session, start="2025-01", end="2025-02").to_json()


def _add_more(settings: Settings) -> None:
    with Session(get_engine(settings.database_url)) as session:
        hold(session, settings, MORE, today=TODAY)


def test_backup_then_restore_gives_the_same_figures(sqlite_settings: Settings, tmp_path: Path) -> None:
    before = _loaded(sqlite_settings)
    copy = backup(sqlite_settings.database_url, tmp_path / "backups" / "monitor-2025-03-01.db")
    assert copy.exists() and not copy.with_name(copy.name + ".part").exists()
    _add_more(sqlite_settings)
    assert _report(sqlite_settings)["held"] == before["held"] + 4
    restore(sqlite_settings.database_url, copy)
    assert _report(sqlite_settings) == before


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
    with pytest.raises(BackupError, match=words):
        restore(sqlite_settings.database_url, make(tmp_path / "backup.db"))
    assert _report(sqlite_settings) == before


@pytest.mark.parametrize("url", ["postgresql+psycopg://monitor@db.example/monitor", "postgresql://u@localhost/m"])
def test_postgresql_backups_are_left_to_pg_dump(url: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump") as refused:
        backup(url, tmp_path / "copy.db")
    assert "pg_restore" in str(refused.value)
    with pytest.raises(BackupError, match="pg_dump"):
        restore(url, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_cli_backup_then_restore_gives_the_same_report(sqlite_settings: Settings, tmp_path: Path) -> None:
    cli = Cli(sqlite_settings)
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
    assert cli.json(*report) == before
    assert [e["action"] for e in cli.json("audit")["events"]][0] == "restore"


def test_cli_restore_of_a_foreign_file_exits_2_in_chinese(sqlite_settings: Settings, tmp_path: Path) -> None:
    cli = Cli(sqlite_settings)
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
    cli = Cli(settings)
    done = cli(
        "users", "add", "clerk", "--role", "town", "--town", "泥江口镇", "--password-stdin", stdin="clerk-password-1\n"
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert authenticate(session=session, name="clerk", password="clerk-password-1").town == "泥江口镇"
    refused = cli("users", "add", "other", "--role", "admin", "--password-stdin", stdin="")
    assert refused.returncode == 2 and "标准输入中没有密码" in refused.stderr


def test_cli_users_list_json_has_no_password(settings: Settings, session: Session) -> None:
    add_user(session=session, name="clerk", role="town", town="泥江口镇", password="clerk-password-1")
    add_user(session=session, name="审核员", role="reviewer", password="reviewer-password")
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
    add_user(session=session, name="clerk", role="town", town="泥江口镇", password="clerk-password-1")
    add_user(session=session, name="审核员", role="reviewer", password="reviewer-password")
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
    add_user(session=session, name="审核员", role="reviewer", password="reviewer-password", by="管理员")
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
