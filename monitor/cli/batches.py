"""`python -m monitor batches ...`: see and roll back imports when the pages cannot be used."""

from __future__ import annotations

import argparse
import json

import pandas as pd
from sqlmodel import Session

from monitor.cli import common
from monitor.core.calendar import today_in
from monitor.core.clock import local_text
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.figures import views
from monitor.ingest.rollback import ACTIVITY_KINDS, RollbackRefused, rollback_batch

LIST_KEYS = ["id", "file_name", "user", "created_at", "rows", "imported", "duplicates", "rejected", "status"]


COMMANDS = {"batches"}


class BatchError(Refusal):
    """A batch command refused, told in one line."""

    code = "refused"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    batches = sub.add_parser("batches", help="import batches").add_subparsers(dest="action", required=True)
    listing = batches.add_parser("list", help="import batches, newest first")
    listing.add_argument("--town")
    listing.add_argument("--json", action="store_true")
    rollback = batches.add_parser("rollback", help="roll an activity import back")
    rollback.add_argument("id", type=int)
    rollback.add_argument("--user", default="")
    rollback.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    actor = common.acting(session, getattr(args, "user", None), "rollback")
    if args.action == "list":
        frame = views.batches(session=session, actor=actor, town=args.town, limit=100_000)
        frame = frame[frame["kind"].isin(ACTIVITY_KINDS)]  # activity logs and registrations (登记)
        if args.json:
            records = [
                {
                    **{
                        k: (int(v) if k in ("id", "rows", "imported", "duplicates", "rejected") else v)
                        for k, v in r.items()
                    },
                    "created_at": pd.Timestamp(r["created_at"]).isoformat(),
                }
                for r in frame[LIST_KEYS].to_dict("records")
            ]
            print(json.dumps({"batches": records}, ensure_ascii=False))
        elif frame.empty:
            print("(none)")
        else:
            shown = frame.assign(created_at=frame["created_at"].map(lambda t: local_text(t, settings.timezone)))
            print(shown[LIST_KEYS].to_string(index=False))
        return 0
    try:
        done = rollback_batch(
            session=session, actor=actor, settings=settings, batch_id=args.id, today=today_in(settings)
        )
    except RollbackRefused as exc:
        raise BatchError(str(exc)) from exc
    if args.json:
        print(json.dumps({"id": done.batch_id, **done.counts()}))
    else:
        print(
            f"batch {done.batch_id} rolled back: {done.removed} activities removed, {done.kept} kept; "
            f"with them {done.recognised} recognised and {done.not_recognised} not recognised decisions, "
            f"{done.feedback} feedback entries, {done.photos} photo links"
        )
    return 0
