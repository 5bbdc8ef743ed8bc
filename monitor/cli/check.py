"""`python -m monitor check [--repair]`: prove the unit × month counts equal the activity rows and the
township sums equal the counts, or rebuild both. A town account checks its own township's counts;
repairing is for admins and reviewers."""

from __future__ import annotations

import argparse
import json

from sqlmodel import Session, select

from monitor.cli import common
from monitor.core.config import Settings
from monitor.core.labels import town_label
from monitor.core.models import Unit
from monitor.counts.unitmonths import check

COMMANDS = {"check"}
SHOWN = 20  # differences printed without --json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("check", help="compare the unit × month counts with the activity rows")
    parser.add_argument("--repair", action="store_true", help="rebuild the counts from the activity rows")
    parser.add_argument("--user", default="")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    actor = common.acting(session, args.user, "repair" if args.repair else "view")
    done = check(session=session, actor=actor, settings=settings, repair=args.repair)
    codes = {int(i): str(c) for i, c in session.exec(select(Unit.id, Unit.code)).all() if i is not None}
    stale = done.deadline_day != settings.deadline_day
    if args.json:
        print(json.dumps(done.to_json(codes, settings.deadline_day), ensure_ascii=False))
    else:
        print(
            f"unit-month rows {done.rows}  differences {len(done.differences)}  "
            f"township sums differences {len(done.sums)}" + ("  (repaired)" if done.repaired else "")
        )
        for d in done.differences[:SHOWN]:
            print(f"  {d.month} {codes.get(d.unit_id, d.unit_id)} {d.column}: stored {d.stored}, actual {d.actual}")
        for s in done.sums[:SHOWN]:
            print(f"  {s.month} {town_label(s.town)} {s.unit_type} {s.column}: stored {s.stored}, actual {s.actual}")
        if len(done.differences) > SHOWN or len(done.sums) > SHOWN:
            print("  … more (--json lists them all)")
        if stale:
            print(
                f"the on-time counts follow deadline day {done.deadline_day}, the settings say "
                f"{settings.deadline_day}: run with --repair to count them for the settings' day"
            )
    return 0 if done.repaired or not (done.differences or done.sums or stale) else 1
