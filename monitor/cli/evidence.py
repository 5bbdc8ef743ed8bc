"""`python -m monitor photos import | remove | gc`, `review`, `signals`: evidence from a shell (SPEC §8)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from sqlmodel import Session

from monitor.admin.accounts import UserError
from monitor.cli import common
from monitor.cli import photos as cli_photos
from monitor.core import calendar
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.permissions import Actor, Forbidden, shell_actor
from monitor.core.query import Query
from monitor.evidence.images import PhotoRefused
from monitor.evidence.photo_files import Incoming, UploadRefused, read_files, read_folder, read_zip
from monitor.evidence.photo_store import StoreError, open_store
from monitor.evidence.photos import STATUS_LABELS, attach_plan, plan_photos
from monitor.evidence.review import DECISIONS, ReviewRefused, decide, decisions_of
from monitor.evidence.signals import COLUMNS, UnknownSignal, signals, to_json
from monitor.ingest.importer import read_path
from monitor.store.db import Busy

COMMANDS = {"photos", "review", "signals"}


class EvidenceError(Refusal):
    """An evidence command refused, told in one line."""

    code = "refused"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    photos = sub.add_parser("photos", help="activity photos").add_subparsers(dest="action", required=True)
    photos_import = photos.add_parser(
        "import", help="attach the photos of a zip, a folder (its subfolders named as in a zip) or one photo"
    )
    photos_import.add_argument("file")
    photos_import.add_argument("--user", default="")
    photos_import.add_argument("--town", help="the township the photos are for")
    photos_import.add_argument("--json", action="store_true")
    cli_photos.register(photos)

    review = sub.add_parser("review", help="mark an activity 认定 (recognised) or 不予认定 (rejected)")
    review.add_argument("activity_id", type=int)
    review.add_argument("--decision", required=True, choices=sorted(DECISIONS))
    review.add_argument("--reason", default="")
    review.add_argument("--user", required=True)
    review.add_argument("--json", action="store_true")

    signals = sub.add_parser("signals", help="signals (疑点) that tell a reviewer where to look")
    signals.add_argument("--start", required=True)
    signals.add_argument("--end", required=True)
    signals.add_argument("--town")
    signals.add_argument("--code")
    signals.add_argument("--json", action="store_true")


Acting = Callable[[str, str], Actor]  # (account name, action) -> the account, checked; the operator for ""


def _refused(file: str, code: str, message: str, as_json: bool) -> int:
    if as_json:
        doc = {"photos": 0, "matched": 0, "stored": 0, "ambiguous": 0, "unmatched": 0, "duplicates": 0, "locked": 0}
        print(json.dumps({**doc, "errors": [{"file": file, "code": code, "message": message}]}, ensure_ascii=False))
    else:
        print(f"照片未导入：{message}", file=sys.stderr)
    return 2


def _incoming(path: str, settings: Settings) -> list[Incoming]:
    """The photos a path holds: a folder's files, a zip's entries, or one photo."""
    if Path(path).is_dir():
        return read_folder(Path(path), settings)
    data = read_path(path, limit_bytes=settings.photo_upload_limit_bytes)
    if len(data) > settings.photo_upload_limit_bytes:
        raise UploadRefused(f"文件超过 {settings.photo_upload_limit_mb} MB 的上限，请分几次导入。")
    if path.lower().endswith(".zip"):
        return read_zip(data, settings)
    return read_files([(path, data)], settings)


def _photos(args: argparse.Namespace, session: Session, settings: Settings, town: str | None, acting: Acting) -> int:
    """Every outcome is the import's document (with --json): refusals as its errors, exit 2."""
    try:
        actor = acting(args.user, "import")
    except (UserError, Forbidden) as exc:
        return _refused(args.file, "unknown_user", str(exc), args.json)
    if actor.is_town and town and town != actor.town:
        message = f"乡镇（街道）经办人只能为本乡镇（{actor.town}）上传照片，不能为{town}上传。"
        return _refused(args.file, "forbidden", message, args.json)
    try:
        incoming = _incoming(args.file, settings)
    except FileNotFoundError:
        return _refused(args.file, "file_not_found", f"找不到文件 {args.file}", args.json)
    except PermissionError:
        return _refused(args.file, "no_permission", f"没有权限读取 {args.file}", args.json)
    except UploadRefused as exc:
        return _refused(args.file, "refused", str(exc), args.json)
    try:
        plan = plan_photos(session=session, actor=actor, settings=settings, incoming=incoming, town=town)
        attach_plan(session=session, actor=actor, settings=settings, store=open_store(settings), plan=plan)
    except Forbidden as exc:
        return _refused(args.file, "forbidden", str(exc), args.json)
    except Busy as exc:
        return _refused(args.file, "busy", str(exc), args.json)
    except (PhotoRefused, StoreError) as exc:
        return _refused(args.file, "refused", str(exc), args.json)
    doc = plan.to_json()
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(
            f"photos {doc['photos']}  matched {doc['matched']}  stored {doc['stored']}  ambiguous {doc['ambiguous']}  "
            f"unmatched {doc['unmatched']}  duplicates {doc['duplicates']}  locked {doc['locked']}"
        )
        for item in plan.items:
            if item.status in {"ambiguous", "unmatched", "error", "locked"}:
                print(f"  {item.name}: {STATUS_LABELS[item.status]}，{item.message}")
    return 1 if doc["errors"] else 0


def _review(args: argparse.Namespace, session: Session, settings: Settings, acting: Acting) -> int:
    actor = acting(args.user, "review")
    try:
        done = decide(
            session=session,
            actor=actor,
            settings=settings,
            activity_id=args.activity_id,
            decision=args.decision,
            reason=args.reason,
            seen=decisions_of(session, [args.activity_id]).get(args.activity_id, ("", ""))[0],
            today=today_in(settings),
        )
    except (ReviewRefused, Busy) as exc:
        raise EvidenceError(str(exc)) from exc
    if args.json:
        doc = {
            "activity_id": done.activity_id,
            "decision": done.decision,
            "reason": done.reason,
            "reviewer": actor.name,
        }
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(f"activity {done.activity_id}: {done.decision} ({DECISIONS[done.decision]}) by {actor.name}")
    return 0


def _signals(args: argparse.Namespace, session: Session, settings: Settings, town: str | None) -> int:
    today = today_in(settings)
    start = calendar.check_month(args.start, settings, today=today)
    end = calendar.check_month(args.end, settings, today=today)
    try:
        asked = Query(actor=shell_actor(), settings=settings, start=start, end=end, town=town)
        frame = signals(session=session, query=asked, code=args.code)
    except UnknownSignal as exc:
        raise EvidenceError(str(exc)) from exc
    frame = frame[COLUMNS]
    if args.json:
        print(json.dumps(to_json(frame, start=start, end=end), ensure_ascii=False))
    elif frame.empty:
        print("(none)")
    else:
        print(frame.to_string(index=False))
    return 0


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    town, acting = common.town(session, getattr(args, "town", None)), partial(common.acting, session)
    if args.command == "photos" and args.action in cli_photos.ACTIONS:
        return cli_photos.run(args, session, settings, acting=acting)
    if args.command == "photos":
        return _photos(args, session, settings, town, acting)
    if args.command == "review":
        return _review(args, session, settings, acting)
    return _signals(args, session, settings, town)
