"""`python -m monitor ...`: a thin layer over the same functions the pages call."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
from sqlmodel import Session

from monitor import cli_admin, metrics
from monitor.auth import UserError, actor_for, shell_actor
from monitor.batches import ImportResult
from monitor.config import Settings
from monitor.db import get_engine, init_db
from monitor.importer import import_activities, read_path
from monitor.issues import Issue
from monitor.roster import import_units
from monitor.units import UnknownType, list_units, parse_type

ADMIN_COMMANDS = {"users", "months", "audit", "backup", "restore"}


class UsageError(Exception):
    """A wrong argument, told to the user in one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m monitor", description="文明实践活动监测")
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
    cli_admin.register(sub)
    return parser


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


def run(args: argparse.Namespace, settings: Settings) -> int:
    engine = get_engine(settings.database_url)
    init_db(engine)
    with Session(engine) as session:
        if args.command in ADMIN_COMMANDS:
            return cli_admin.run(args, session, settings)
        if args.command == "init":
            print(f"database ready: {engine.url.render_as_string(hide_password=True)}")
            return 0
        if args.command == "demo":
            from monitor.demo import load_demo

            summary = load_demo(session=session)
            print(f"demo district loaded: {summary['units']} units, {summary['activities']} activities")
            return 0
        if args.command == "units" and args.action == "import":
            result = import_units(
                session=session,
                data=read_path(args.file),
                file_name=args.file,
                settings=settings,
                user=args.user,
                strict=args.strict,
            )
            _print_import(result, args.json)
            return result.exit_code
        if args.command == "units":
            units = list_units(session=session, town=args.town, unit_type=_type(args.type))
            if args.json:
                print(json.dumps({"units": units}, ensure_ascii=False))
            else:
                _table(pd.DataFrame(units))
            return 0
        if args.command == "activities":
            try:
                actor = actor_for(session=session, name=args.user) if args.user else shell_actor()
            except UserError as exc:
                refused = ImportResult(
                    file_error=Issue(code="unknown_user", row=None, column=None, value=args.user, message=str(exc))
                )
                _print_import(refused, args.json)
                return refused.exit_code
            result = import_activities(
                session=session,
                data=read_path(args.file),
                file_name=args.file,
                settings=settings,
                actor=actor,
                strict=args.strict,
            )
            _print_import(result, args.json)
            return result.exit_code
        if args.command == "report":
            doc = metrics.report(
                session=session, start=args.start, end=args.end, town=args.town, unit_type=_type(args.type)
            ).to_json()
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
            return 0
        if args.command == "interviews":
            min_streak = args.min_streak if args.min_streak is not None else settings.interview_min_streak
            frame = metrics.interviews(session=session, month=args.month, min_streak=min_streak)
            keys = ["code", "name", "type", "town", "streak", "head", "phone", "held", "quota"]
            if args.json:
                units = [
                    {k: (int(v) if k in ("streak", "held", "quota") else v) for k, v in r.items()}
                    for r in frame[keys].to_dict("records")
                ]
                print(
                    json.dumps(
                        {"month": metrics.parse_month_arg(args.month), "min_streak": min_streak, "units": units},
                        ensure_ascii=False,
                    )
                )
            else:
                _table(frame[keys])
            return 0
        if args.command == "laggards":
            frame = metrics.laggards(
                session=session, start=args.start, end=args.end, below=args.below, unit_type=_type(args.type)
            )
            keys = ["code", "name", "type", "town", "held"]
            if args.json:
                units = [{**r, "held": int(r["held"])} for r in frame[keys].to_dict("records")]
                print(
                    json.dumps(
                        {
                            "start": metrics.parse_month_arg(args.start),
                            "end": metrics.parse_month_arg(args.end),
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    if args.db:
        settings = replace(settings, database_url=args.db)
    try:
        return run(args, settings)
    except (UsageError, metrics.BadPeriod, cli_admin.AdminError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"错误：找不到文件 {exc.filename}", file=sys.stderr)
        return 2
    except IsADirectoryError as exc:
        print(f"错误：{exc.filename} 是文件夹，不是文件", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"错误：没有权限读取 {exc.filename}", file=sys.stderr)
        return 2
