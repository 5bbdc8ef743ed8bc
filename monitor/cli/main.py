"""`python -m monitor ...`: a thin layer over the same functions the pages call."""

from __future__ import annotations

import argparse
import io
import json
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import nullcontext, redirect_stdout
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import NoReturn, TypedDict

import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from monitor.admin.accounts import UserError, actor_for
from monitor.cli import admin as cli_admin
from monitor.cli import batches as cli_batches
from monitor.cli import check as cli_check
from monitor.cli import evidence as cli_evidence
from monitor.cli import missing as cli_missing
from monitor.core import calendar
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.issues import Issue
from monitor.core.permissions import Actor, Forbidden, require, shell_actor
from monitor.figures import metrics
from monitor.ingest.batches import ImportResult
from monitor.ingest.importer import import_activities, read_path
from monitor.ingest.roster_file import import_units
from monitor.roster.units import UnknownType, list_units, parse_type, towns
from monitor.store.db import BUSY_MESSAGE, Busy, get_engine, init_db, is_busy
from monitor.store.schema import SchemaError

ADMIN_COMMANDS = {"users", "months", "audit", "backup", "restore"}


class UsageError(Exception):
    """A wrong argument, told to the user in one line."""


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

    units = sub.add_parser("units", help="the roster").add_subparsers(dest="action", required=True)
    units_import = units.add_parser("import", help="import a roster file (CSV/XLSX/XLS)")
    units_import.add_argument("file")
    units_import.add_argument("--user", default="")
    units_import.add_argument("--strict", action="store_true")
    units_import.add_argument("--json", action="store_true")
    units_list = units.add_parser("list", help="list units")
    units_list.add_argument("--town")
    units_list.add_argument("--type")
    units_list.add_argument("--json", action="store_true")

    activities = sub.add_parser("activities", help="activity logs").add_subparsers(dest="action", required=True)
    act_import = activities.add_parser("import", help="import an activity log (CSV/XLSX/XLS)")
    act_import.add_argument("file")
    act_import.add_argument("--strict", action="store_true")
    act_import.add_argument("--user", default="")
    act_import.add_argument("--town", help="the township the file is for: settles village names found in several")
    act_import.add_argument("--json", action="store_true")

    report = sub.add_parser("report", help="held against required over a period")
    report.add_argument("--start", required=True)
    report.add_argument("--end", required=True)
    report.add_argument("--town")
    report.add_argument("--type")
    report.add_argument("--json", action="store_true")

    interviews = sub.add_parser("interviews", help="units due for interview (约谈)")
    interviews.add_argument("--month", required=True)
    interviews.add_argument("--min-streak", type=int, default=None)
    interviews.add_argument("--json", action="store_true")

    laggards = sub.add_parser("laggards", help="units with fewer than N activities over a period")
    laggards.add_argument("--start", required=True)
    laggards.add_argument("--end", required=True)
    laggards.add_argument("--below", type=int, required=True)
    laggards.add_argument("--type")
    laggards.add_argument("--json", action="store_true")
    bulletin = sub.add_parser("bulletin", help="the 通报 of a period as a Word document")
    bulletin.add_argument("--start", required=True)
    bulletin.add_argument("--end", required=True)
    bulletin.add_argument("--town")
    bulletin.add_argument("--type")
    bulletin.add_argument("-o", "--output", required=True, help="the .docx file to write")
    bulletin.add_argument("--no-charts", action="store_true", help="tables only, no chart pictures")
    cli_admin.register(sub)
    cli_batches.register(sub)
    cli_missing.register(sub)
    cli_evidence.register(sub)
    cli_check.register(sub)
    for action in _actions(parser):
        if "--user" in action.option_strings:
            action.default = None  # left out: the operator acts; given, it must name an account
    return parser


def _named(args: argparse.Namespace) -> None:
    """A --user that is given names an account: blank is refused, never taken for the operator."""
    name = getattr(args, "user", None)
    if name is not None and not name.strip():
        raise UsageError("--user 不能为空，请写出账号名。")


def _acting(session: Session, name: str | None, action: str) -> Actor:
    """Who a command acts as: the named account (active, and its role allows the action); the operator
    when --user was left out (None)."""
    if name is None:
        return shell_actor()
    actor = actor_for(session=session, name=name)
    require(actor, action)
    return actor


def _town(session: Session, text: str | None) -> str | None:
    if not text:
        return None
    if text not in towns(session=session):
        raise UsageError(f"名册中没有乡镇（街道）“{text}”。")
    return text


def _type(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_type(text)
    except UnknownType as exc:
        raise UsageError(f"单位类型“{text}”无法识别，应为 center、institute 或 station。") from exc


def _pct(rate: object) -> str:
    return f"{rate * 100:.2f}%" if isinstance(rate, float) else "—"


def _print_import(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if result.file_error is not None:
        print(f"文件未导入：{result.file_error.message}", file=sys.stderr)
        return
    print(f"rows {result.rows}  imported {result.imported}  duplicates {result.duplicates}  rejected {result.rejected}")
    for item in result.errors:
        print(f"  第 {item.row} 行 [{item.column}] {item.code}: {item.message}")
    for item in result.warnings:
        print(f"  提示 第 {item.row} 行: {item.message}")


def _table(frame: pd.DataFrame) -> None:
    print(frame.to_string(index=False) if not frame.empty else "(none)")


class Period(TypedDict):
    start: str
    end: str
    town: str | None
    unit_type: str | None


def _period(args: argparse.Namespace, session: Session, settings: Settings) -> Period:
    """--start, --end, --town and --type, each checked (exit 2 on nonsense), as a report's keywords."""
    today = today_in(settings)
    return {
        "start": calendar.check_month(args.start, settings, today=today),
        "end": calendar.check_month(args.end, settings, today=today),
        "town": _town(session, getattr(args, "town", None)),
        "unit_type": _type(args.type),
    }


def _refused(name: str, exc: Exception) -> ImportResult:
    return ImportResult(file_error=Issue(code="unknown_user", row=None, column=None, value=name, message=str(exc)))


def run(args: argparse.Namespace, settings: Settings) -> int:
    engine = get_engine(settings.database_url)
    done = init_db(engine, upgrade=args.command == "init", backups_dir=settings.data_dir / "backups")
    today = today_in(settings)
    with Session(engine) as session:
        if args.command in ADMIN_COMMANDS:
            return cli_admin.run(args, session, settings)
        if args.command == "batches":
            return cli_batches.run(
                args, session, settings, actor=_acting(session, getattr(args, "user", None), "rollback")
            )
        if args.command == "check":
            actor = _acting(session, args.user, "repair" if args.repair else "view")
            return cli_check.run(args, session, settings, actor=actor)
        if args.command in cli_evidence.COMMANDS:
            town = _town(session, getattr(args, "town", None))
            return cli_evidence.run(args, session, settings, town=town, acting=partial(_acting, session))
        if args.command == "missing":
            return cli_missing.run(args, session, settings, today=today, town=_town(session, args.town))
        if args.command == "init":
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
        operator = shell_actor()
        if args.command == "demo":
            from monitor.demo.district import load_demo
            from monitor.evidence.photo_store import open_store

            summary = load_demo(session=session, actor=operator, store=open_store(settings))
            print(f"demo district loaded: {summary['units']} units, {summary['activities']} activities")
            return 0
        if args.command == "units" and args.action == "import":
            try:
                actor = _acting(session, args.user, "roster")
            except (UserError, Forbidden) as exc:
                _print_import(_refused(args.user, exc), args.json)
                return 2
            result = import_units(
                session=session,
                actor=actor,
                data=read_path(args.file, limit_bytes=settings.upload_limit_bytes),
                file_name=args.file,
                settings=settings,
                today=today,
                strict=args.strict,
            )
            _print_import(result, args.json)
            return result.exit_code
        if args.command == "units":
            units = list_units(  # each unit's own quota in force this month
                session=session,
                month=today.strftime("%Y-%m"),
                town=_town(session, args.town),
                unit_type=_type(args.type),
            )
            if args.json:
                print(json.dumps({"units": units}, ensure_ascii=False))
            else:
                _table(pd.DataFrame(units))
            return 0
        if args.command == "activities":
            try:
                actor = _acting(session, args.user, "import")
            except (UserError, Forbidden) as exc:
                _print_import(_refused(args.user, exc), args.json)
                return 2
            result = import_activities(
                session=session,
                data=read_path(args.file, limit_bytes=settings.upload_limit_bytes),
                file_name=args.file,
                settings=settings,
                actor=actor,
                strict=args.strict,
                town=_town(session, args.town),
            )
            _print_import(result, args.json)
            return result.exit_code
        if args.command == "bulletin":
            from monitor.reports.bulletin import bulletin
            from monitor.reports.bulletin_docx import bulletin_docx

            content = bulletin(
                session=session, actor=operator, settings=settings, today=today, **_period(args, session, settings)
            )
            output = Path(args.output)
            try:
                output.write_bytes(bulletin_docx(content, with_charts=not args.no_charts))
            except OSError as exc:
                raise UsageError(f"无法写入 {output}：{exc.strerror or exc}") from exc
            print(f"bulletin written: {output} ({content.title})")
            for note in (content.overall[0] if content.no_data else "", content.open_note):
                if note:
                    print(note)
            return 0
        if args.command == "report":
            from monitor.figures.periods import day_words, has_activities, judged

            # Only months whose reporting is over are counted (a period all open is refused, exit 2).
            asked = _period(args, session, settings)
            period = judged(start=asked["start"], end=asked["end"], settings=settings, today=today)
            doc = metrics.report(
                session=session,
                actor=operator,
                settings=settings,
                start=asked["start"],
                end=period.end,
                town=asked["town"],
                unit_type=asked["unit_type"],
            ).to_json()
            doc.update(period.to_json(), no_data=not has_activities(session=session, months=period.months))
            if args.json:
                print(json.dumps(doc, ensure_ascii=False))
            else:
                print(
                    f"{doc['start']}..{doc['end']}  units {doc['units']}  "
                    f"held {doc['held']}  required {doc['required']}"
                )
                print(
                    f"completion {_pct(doc['completion_rate'])}  capped {_pct(doc['capped_rate'])}  "
                    f"compliance {_pct(doc['compliance_rate'])}"
                )
                if period.open_months:
                    print(f"截至{day_words(period.as_of)}；{period.open_note()}，未计入。")
                if doc["no_data"]:
                    print("该时段没有任何活动记录。")
            return 0
        if args.command == "interviews":
            min_streak = args.min_streak if args.min_streak is not None else settings.interview_min_streak
            month = calendar.check_month(args.month, settings, today=today, finished=True)
            frame = metrics.interviews(
                session=session, actor=operator, settings=settings, month=month, min_streak=min_streak
            )
            keys = ["code", "name", "type", "town", "streak", "head", "phone", "held", "quota"]
            if args.json:
                units = [
                    {k: (int(v) if k in ("streak", "held", "quota") else v) for k, v in r.items()}
                    for r in frame[keys].to_dict("records")
                ]
                print(
                    json.dumps(
                        {"month": month, "min_streak": min_streak, "units": units},
                        ensure_ascii=False,
                    )
                )
            else:
                _table(frame[keys])
            return 0
        if args.command == "laggards":
            frame = metrics.laggards(
                session=session, actor=operator, settings=settings, below=args.below, **_period(args, session, settings)
            )
            keys = ["code", "name", "type", "town", "held"]
            if args.json:
                units = [{**r, "held": int(r["held"])} for r in frame[keys].to_dict("records")]
                print(
                    json.dumps(
                        {
                            "start": calendar.parse_month_arg(args.start),
                            "end": calendar.parse_month_arg(args.end),
                            "below": args.below,
                            "units": units,
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                _table(frame[keys])
            return 0
    raise UsageError(f"unknown command {args.command}")


# The refusals the command line tells, each with its code in the JSON error document (exit 2).
# Busy and Forbidden keep their code whichever command's own refusal wrapped them; a file that
# cannot be read is file_not_found, not_a_file or no_permission.
REFUSALS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    ((UsageError, calendar.BadPeriod, cli_admin.BadArgument), "bad_argument"),
    (UserError, "unknown_user"),
    (SchemaError, "schema"),
    ((cli_admin.AdminError, cli_batches.BatchError, cli_evidence.EvidenceError), "refused"),
)
INTERNAL_ERROR = 3  # the exit code of an error no refusal above describes


def _refusal(exc: BaseException) -> tuple[str, str] | None:
    """(code, Chinese message) of a refusal the command line tells; None for an unexpected error."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, Busy) or (isinstance(cause, DBAPIError) and is_busy(cause)):
            return "busy", BUSY_MESSAGE
        if isinstance(cause, Forbidden):
            return "forbidden", str(cause)
        cause = cause.__cause__
    if isinstance(exc, FileNotFoundError):
        return "file_not_found", f"找不到文件 {exc.filename}"
    if isinstance(exc, IsADirectoryError):
        return "not_a_file", f"{exc.filename} 是文件夹，不是文件"
    if isinstance(exc, PermissionError):
        return "no_permission", f"没有权限读取 {exc.filename}"
    for kinds, code in REFUSALS:
        if isinstance(exc, kinds):
            return code, str(exc)
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
            kind, message = "internal_error", f"意外错误，命令未完成：{getattr(exc, 'orig', None) or exc}"
        else:
            kind, message = refusal
        print(f"错误：{message}", file=sys.stderr)
        if isinstance(exc, BadArguments):
            print(exc.usage, end="", file=sys.stderr)
        if refusal is None:
            traceback.print_exc(file=sys.stderr)
        if as_json:
            print(json.dumps({"error": {"code": kind, "message": message}}, ensure_ascii=False))
        return 2 if refusal is not None else INTERNAL_ERROR
    sys.stdout.write(shown.getvalue())
    return code
