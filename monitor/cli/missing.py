"""`python -m monitor missing --month M`: the 催报 list, as the message text or as JSON."""

from __future__ import annotations

import argparse
import json

from sqlmodel import Session

from monitor.cli import common
from monitor.core import calendar
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.permissions import shell_actor
from monitor.core.query import Query
from monitor.figures.missing import message, missing_reports

COMMANDS = {"missing"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    missing = sub.add_parser("missing", help="units with no activity in a finished month (催报)")
    missing.add_argument("--month", required=True)
    missing.add_argument("--town")
    missing.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    today, town = today_in(settings), common.town(session, args.town)
    month = calendar.check_month(args.month, settings, today=today, finished=True)
    found = missing_reports(
        session=session, query=Query.month_of(shell_actor(), settings, month, town=town), today=today
    )
    if args.json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        print(message(found))
    return 0
