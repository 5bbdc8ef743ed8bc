"""Backups: SQLite's online backup (safe while the dashboard runs); PostgreSQL is pg_dump's job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

PG_HELP = (
    "PostgreSQL 数据库请用 pg_dump 备份、pg_restore 恢复，例如：\n"
    "  pg_dump --format=custom --file=monitor-$(date +%F).dump 'postgresql://USER@HOST/DB'\n"
    "  pg_restore --clean --if-exists --dbname='postgresql://USER@HOST/DB' monitor-YYYY-MM-DD.dump"
)
REQUIRED_TABLES = {"unit", "activity", "importbatch"}


class BackupError(Exception):
    """A backup or restore that cannot be done here; the message says what to do instead."""


def _sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(PG_HELP)
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("内存数据库无法备份。")
    return Path(parsed.database)


def backup(url: str, target: Path) -> Path:
    """Copy the live SQLite database to target with the online backup API (consistent, no downtime)."""
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"数据库文件 {source} 不存在。")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with sqlite3.connect(source) as live, sqlite3.connect(partial) as copy:
        live.backup(copy)
    partial.replace(target)
    return target


def restore(url: str, source: Path) -> None:
    """Replace the live SQLite database's content with a backup, after checking it is one of ours."""
    target = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"备份文件 {source} 不存在。")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("备份文件已损坏（integrity_check 未通过）。")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} 不是 SQLite 数据库文件。") from exc
    if not REQUIRED_TABLES <= tables:
        raise BackupError(f"{source} 不是本系统的备份（缺少数据表）。")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as copy, sqlite3.connect(target) as live:
        copy.backup(live)
