"""Administrative commands: users, month locks, the audit trail, backup and restore."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from sqlmodel import Session

from monitor.admin.accounts import UserError, actor_for, add_user, disable_user, enable_user, set_password, users_frame
from monitor.admin.backup import BackupError, backup, restore
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.permissions import Actor, Forbidden, shell_actor
from monitor.store import audit
from monitor.store.locks import LockError, lock_month, locks_frame, unlock_month

COMMANDS = {"users", "months", "audit", "backup", "restore"}


class AdminError(Refusal):
    """An administrative command refused, told in one line."""

    code = "refused"


class BadArgument(AdminError):
    """An administrative command's argument that cannot be read (a date, a limit, no password)."""

    code = "bad_argument"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="accounts").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="add an account (password read from standard input)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "reviewer", "town"])
    add.add_argument("--town", default="")
    add.add_argument("--password-stdin", action="store_true", required=True)
    listing = users.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true")
    disable = users.add_parser("disable", help="disable an account")
    disable.add_argument("name")
    enable = users.add_parser("enable", help="let a disabled account sign in again")
    enable.add_argument("name")
    passwd = users.add_parser("passwd", help="set a password (read from standard input)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", required=True)

    months = sub.add_parser("months", help="month locks").add_subparsers(dest="action", required=True)
    for verb in ("lock", "unlock"):
        parser = months.add_parser(verb, help=f"{verb} a reviewed month")
        parser.add_argument("month")
        parser.add_argument("--user", default="")
    months_list = months.add_parser("list", help="locked months")
    months_list.add_argument("--json", action="store_true")

    trail = sub.add_parser("audit", help="the audit trail")
    trail.add_argument("--since", help="YYYY-MM-DD, from local midnight (Settings.timezone)")
    trail.add_argument("--until", help="YYYY-MM-DD, to the end of that local day")
    trail.add_argument("--limit", type=int, default=1000, help="newest events shown (default 1000)")
    trail.add_argument("--json", action="store_true")

    for verb in ("backup", "restore"):
        parser = sub.add_parser(verb, help=f"{verb} the SQLite database")
        parser.add_argument("path")


def _password() -> str:
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise BadArgument("标准输入中没有密码。")
    return text


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadArgument(f"日期“{text}”格式不对，应为 YYYY-MM-DD。") from exc


def _actor(session: Session, name: str | None) -> Actor:
    """The account --user names; the operator when it was left out."""
    return shell_actor() if name is None else actor_for(session=session, name=name)


def _users(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    operator = shell_actor()
    if args.action == "add":
        add_user(
            session=session,
            actor=operator,
            name=args.name,
            role=args.role,
            town=args.town,
            password=_password(),
        )
        print(f"user {args.name} added")
    elif args.action == "disable":
        disable_user(session=session, actor=operator, name=args.name)
        print(f"user {args.name} disabled")
    elif args.action == "enable":
        enable_user(session=session, actor=operator, name=args.name)
        print(f"user {args.name} enabled")
    elif args.action == "passwd":
        set_password(session=session, actor=operator, name=args.name, password=_password())
        print(f"password of {args.name} changed")
    else:
        frame = users_frame(session=session, actor=operator)
        if args.json:
            print(json.dumps({"users": frame.drop(columns=["created_at"]).to_dict("records")}, ensure_ascii=False))
        else:
            print(frame.to_string(index=False) if not frame.empty else "(none)")
    return 0


def _months(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    if args.action == "list":
        frame = locks_frame(session=session, actor=shell_actor())
        if args.json:
            print(json.dumps({"locked": frame["month"].tolist()}))
        else:
            print(frame.to_string(index=False) if not frame.empty else "(none)")
        return 0
    actor = _actor(session, args.user)
    (lock_month if args.action == "lock" else unlock_month)(session=session, month=args.month, actor=actor)
    print(f"{args.month} {'locked' if args.action == 'lock' else 'unlocked'}")
    return 0


def _audit(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    if args.limit < 1:
        raise BadArgument("--limit 至少为 1。")
    page = audit.events(
        session=session,
        actor=shell_actor(),
        timezone=settings.timezone,
        since=_day(args.since),
        until=_day(args.until),
        limit=args.limit,
    )
    frame = page.frame
    if args.json:
        records = frame.assign(at=frame["at"].map(lambda t: t.isoformat())).to_dict("records")
        print(json.dumps({"events": records, "total": page.total}, ensure_ascii=False))
    else:
        print(frame.to_string(index=False) if not frame.empty else "(none)")
        if page.total > len(frame):
            print(f"(showing the newest {len(frame)} of {page.total}; use --limit for more)")
    return 0


def _backup(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    print(f"backup written: {backup(settings.database_url, Path(args.path))}")
    if not settings.photo_store_url:
        print(
            f"photos are files, not in this backup: copy {settings.photos_dir} as well "
            "(named by content, so a plain incremental copy such as rsync is enough)"
        )
    return 0


def _restore(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    session.close()
    done = restore(settings.database_url, Path(args.path), actor=shell_actor())
    print(f"已从 {done.source} 恢复（备份的数据库版本 {done.revision}）。")
    if done.copy is not None:
        print(f"恢复前的数据库已另存为：{done.copy}")
    if done.upgraded_to:
        print(f"恢复后的数据已升级到版本 {done.upgraded_to}。")
    print(f"保留了备份之后的操作记录 {done.carried} 条；本次恢复已记入操作记录。")
    if done.accounts:
        print(f"账号保持恢复前的状态，备份之后有变动的账号：{'、'.join(done.accounts)}。")
    print(f"已结束登录会话 {done.sessions_ended} 个，所有人须重新登录。")
    return 0


HANDLERS = {"users": _users, "months": _months, "audit": _audit, "backup": _backup, "restore": _restore}


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    try:
        return HANDLERS[args.command](args, session, settings)
    except (UserError, LockError, BackupError, Forbidden) as exc:
        raise AdminError(str(exc)) from exc
