"""`python -m monitor ...`: a thin layer over the same functions the pages call.

Each command group is a module of its own (its arguments, its commands); this one builds the
parser, opens the database, hands the command to its group and tells every refusal.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import nullcontext, redirect_stdout
from dataclasses import replace
from typing import NoReturn

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from monitor.cli import admin, batches, check, evidence, figures, imports, missing
from monitor.cli.common import UsageError
from monitor.core.config import Settings
from monitor.core.errors import CATALOGUE, EXIT, INTERNAL_ERROR, Refusal
from monitor.core.permissions import shell_actor
from monitor.store.db import Busy, get_engine, init_db, is_busy

GROUPS = (imports, figures, admin, batches, missing, evidence, check)


class BadArguments(UsageError):
    """What argparse refuses (a missing, unknown or malformed argument), with the usage to show."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(f"参数不对：{message}")
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse whose refusals reach main() as BadArguments, so that --json can tell them as JSON."""

    def error(self, message: str) -> NoReturn:
        raise BadArguments(message, self.format_usage())


def _actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """Every argument of the parser and of its subcommands, however deep."""
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _actions(child)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m monitor", description="文明实践活动监测")
    parser.add_argument("--db", help="SQLAlchemy URL (default: $MONITOR_DATABASE_URL or sqlite:///data/monitor.db)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the database tables")
    sub.add_parser("demo", help="load the bundled synthetic district (示例数据)")
    for group in GROUPS:
        group.register(sub)
    for action in _actions(parser):
        if "--user" in action.option_strings:
            action.default = None  # left out: the operator acts; given, it must name an account
    return parser


def _named(args: argparse.Namespace) -> None:
    """A --user that is given names an account: blank is refused, never taken for the operator."""
    name = getattr(args, "user", None)
    if name is not None and not name.strip():
        raise UsageError("--user 不能为空，请写出账号名。")


def _init(engine: Engine, settings: Settings) -> int:
    done = init_db(engine, upgrade=True, backups_dir=settings.data_dir / "backups")
    where = engine.url.render_as_string(hide_password=True)
    if done.before is None:
        print(f"database created at schema version {done.after}: {where}")
    elif done.changed:
        print(f"database upgraded from schema version {done.before} to {done.after}: {where}")
        if done.copy is not None:
            print(f"the database before the upgrade was copied to {done.copy}")
        if done.note:
            print(done.note)
    else:
        print(f"database ready at schema version {done.after}: {where}")
    return 0


def _demo(session: Session, settings: Settings) -> int:
    from monitor.demo.district import load_demo
    from monitor.evidence.photo_store import open_store

    summary = load_demo(session=session, actor=shell_actor(), store=open_store(settings))
    print(f"demo district loaded: {summary['units']} units, {summary['activities']} activities")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    engine = get_engine(settings.database_url)
    if args.command == "init":
        return _init(engine, settings)
    init_db(engine, backups_dir=settings.data_dir / "backups")
    with Session(engine) as session:
        if args.command == "demo":
            return _demo(session, settings)
        group = next(g for g in GROUPS if args.command in g.COMMANDS)
        return group.run(args, session, settings)


def _refusal(exc: BaseException) -> tuple[str, str] | None:
    """(code, Chinese message) of a refusal the command line tells; None for an unexpected error.
    A busy database and a missing right keep their code whichever refusal wrapped them."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, Busy) or (isinstance(cause, DBAPIError) and is_busy(cause)):
            return "busy", CATALOGUE["busy"].template
        if isinstance(cause, Refusal) and cause.code == "forbidden":
            return "forbidden", str(cause)
        cause = cause.__cause__
    if isinstance(exc, FileNotFoundError):
        return "file_not_found", CATALOGUE["file_not_found"].message(name=exc.filename)
    if isinstance(exc, IsADirectoryError):
        return "not_a_file", CATALOGUE["not_a_file"].message(name=exc.filename)
    if isinstance(exc, PermissionError):
        return "no_permission", CATALOGUE["no_permission"].message(name=exc.filename)
    if isinstance(exc, Refusal):
        return exc.code, str(exc)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. With --json every outcome is one JSON document on stdout: the command's own,
    or {"error": {"code", "message"}} when it was refused (exit 2) or failed unexpectedly (exit 3);
    the message goes to stderr as well."""
    words = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in words
    shown = io.StringIO()
    try:
        args = _parser().parse_args(words)
        as_json = bool(getattr(args, "json", False))
        _named(args)
        settings = Settings.from_env()
        if args.db:
            settings = replace(settings, database_url=args.db)
        with redirect_stdout(shown) if as_json else nullcontext():
            code = run(args, settings)
    except Exception as exc:  # every outcome is told; an unexpected one with its traceback
        refusal = _refusal(exc)
        if refusal is None:
            kind, message = (
                "internal_error",
                CATALOGUE["internal_error"].message(detail=getattr(exc, "orig", None) or exc),
            )
        else:
            kind, message = refusal
        print(f"错误：{message}", file=sys.stderr)
        if isinstance(exc, BadArguments):
            print(exc.usage, end="", file=sys.stderr)
        if refusal is None:
            traceback.print_exc(file=sys.stderr)
        if as_json:
            print(json.dumps({"error": {"code": kind, "message": message}}, ensure_ascii=False))
        # A refusal raised turns the whole command down (Refusal.exit_code), a row's code included.
        return EXIT["request"] if refusal is not None else INTERNAL_ERROR
    sys.stdout.write(shown.getvalue())
    return code
