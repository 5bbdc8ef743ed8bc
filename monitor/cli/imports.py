"""`units import|list` and `activities import`: the roster and the activity logs from files; `activities add`,
`correct` and `withdraw` (活动登记) are in monitor.cli.registration."""

from __future__ import annotations

import argparse
import json

import pandas as pd
from sqlmodel import Session

from monitor.admin.accounts import UserError
from monitor.cli import common, registration
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.permissions import Forbidden
from monitor.ingest.importer import import_activities, read_path
from monitor.ingest.roster_file import import_units
from monitor.roster.units import list_units

COMMANDS = {"units", "activities"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    registration.register(activities)


def _import(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    """Either import: the account named must be allowed, the file is read within the upload limit."""
    roster = args.command == "units"
    try:
        actor = common.acting(session, args.user, "roster" if roster else "import")
    except (UserError, Forbidden) as exc:
        common.print_import(common.refused_import(args.user, exc), args.json)
        return 2
    data = read_path(args.file, limit_bytes=settings.upload_limit_bytes)
    if roster:
        today = today_in(settings)
        result = import_units(
            session=session,
            actor=actor,
            data=data,
            file_name=args.file,
            settings=settings,
            today=today,
            strict=args.strict,
        )
    else:
        result = import_activities(
            session=session,
            data=data,
            file_name=args.file,
            settings=settings,
            actor=actor,
            strict=args.strict,
            town=common.town(session, args.town),
        )
    common.print_import(result, args.json)
    return result.exit_code


def _list(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    units = list_units(  # each unit's own quota in force this month
        session=session,
        month=today_in(settings).strftime("%Y-%m"),
        town=common.town(session, args.town),
        unit_type=common.unit_type(args.type),
    )
    if args.json:
        print(json.dumps({"units": units}, ensure_ascii=False))
    else:
        common.table(pd.DataFrame(units))
    return 0


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    if args.command == "activities" and args.action in registration.ACTIONS:
        return registration.run(args, session, settings)
    return _import(args, session, settings) if args.action == "import" else _list(args, session, settings)
