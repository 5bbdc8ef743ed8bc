"""`python -m monitor activities add | correct | withdraw`: 活动登记 from a shell (SPEC §10).

`activities add --unit CODE --date D --title T [--category C] [--participants N] [--location L]
[--notes N] [--photo FILE ...] --user NAME [--json]` prints `{"activity_id", "batch_id", "unit",
"date", "title", "photos", "warnings"}`; `correct ID [--date D] [--title T] ... [--photo FILE ...]`
and `withdraw ID` change a registration not yet reviewed. A refusal is told as every refused
command is (`{"error": {"code", "message"}}`, exit 2), with the import's codes and messages.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from sqlmodel import Session

from monitor.cli import common
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.evidence.photo_files import UploadRefused
from monitor.ingest.importer import read_path
from monitor.ingest.register import register_activity, registration
from monitor.ingest.register_check import Entry, RegisterRefused
from monitor.ingest.register_edit import correct_registration, withdraw_registration

ACTIONS = {"add", "correct", "withdraw"}
EDITABLE = ("date", "title", "category", "participants", "location", "notes")


def register(activities: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    add = activities.add_parser("add", help="register one activity (活动登记), with its photos")
    add.add_argument("--unit", required=True, help="the unit's code")
    add.add_argument("--date", required=True)
    add.add_argument("--title", required=True)
    add.add_argument("--category", default="")
    add.add_argument("--participants", type=int)
    add.add_argument("--location", default="")
    add.add_argument("--notes", default="")
    _common(add)

    correct = activities.add_parser("correct", help="correct a registered activity not yet reviewed")
    correct.add_argument("id", type=int)
    for name in EDITABLE:
        correct.add_argument(f"--{name}", type=int if name == "participants" else str)
    _common(correct)

    withdraw = activities.add_parser("withdraw", help="withdraw a registered activity not yet reviewed")
    withdraw.add_argument("id", type=int)
    withdraw.add_argument("--user", required=True)
    withdraw.add_argument("--json", action="store_true")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--photo", action="extend", nargs="+", default=[], metavar="FILE", help="JPEG, PNG or HEIC")
    parser.add_argument("--user", required=True)
    parser.add_argument("--json", action="store_true")


def _photos(paths: list[str], settings: Settings) -> list[tuple[str, bytes]]:
    """Each photo file read no further than one byte past the limit of one photo (a larger one is then
    refused by name), the whole within the limit of one upload; the path names nothing stored."""
    photos, total = [], 0
    for path in paths:
        data = read_path(path, limit_bytes=settings.photo_limit_bytes)
        total += len(data)
        if total > settings.photo_upload_limit_bytes:
            raise UploadRefused(f"本次上传超过 {settings.photo_upload_limit_mb} MB 的上限，请分几次上传。")
        photos.append((Path(path).name, data))
    return photos


def _add(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    actor = common.acting(session, args.user, "import")
    entry = Entry(args.date, args.title, args.category, args.participants, args.location, args.notes)
    done = register_activity(
        session=session,
        actor=actor,
        settings=settings,
        unit=args.unit,
        entry=entry,
        photos=_photos(args.photo, settings),
        today=today_in(settings),
    )
    if args.json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
    else:
        print(f"activity {done.activity_id} registered (batch {done.batch_id}): {done.unit} {done.day} {done.title}")
        print(f"photos {done.photos}")
        for warning in done.warnings:
            print(f"  提示：{warning.message}")
    return 0


def _correct(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    actor = common.acting(session, args.user, "import")
    today = today_in(settings)
    current = registration(session=session, actor=actor, settings=settings, activity_id=args.id, today=today)
    if current is None:
        raise RegisterRefused(code="not_found", what=f"登记的活动（编号 {args.id}）")
    given = {name: getattr(args, name) for name in EDITABLE if getattr(args, name) is not None}
    entry = replace(current.entry, **{("day" if k == "date" else k): v for k, v in given.items()})
    done = correct_registration(
        session=session,
        actor=actor,
        settings=settings,
        activity_id=args.id,
        entry=entry,
        photos=_photos(args.photo, settings),
        seen=current.entry,
        today=today,
    )
    if args.json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
    else:
        changed = "，".join(f"{k}: {done.before[k]} → {done.after[k]}" for k in done.before) or "no field changed"
        print(f"activity {done.activity_id} corrected: {changed}; photos added {done.photos}")
    return 0


def _withdraw(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    actor = common.acting(session, args.user, "import")
    done = withdraw_registration(
        session=session, actor=actor, settings=settings, activity_id=args.id, today=today_in(settings)
    )
    if args.json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
    else:
        print(
            f"activity {done.activity_id} withdrawn (batch {done.batch_id} rolled back): {done.removed} removed, "
            f"{done.photos} photo links removed, {done.files_deleted} photo files deleted"
        )
    return 0


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    handlers = {"add": _add, "correct": _correct, "withdraw": _withdraw}
    return handlers[args.action](args, session, settings)
