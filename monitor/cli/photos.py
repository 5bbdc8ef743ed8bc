"""`python -m monitor photos remove | gc`: taking a photo off its activity, and the files no row links.

`photos remove PHOTO_ID --user NAME [--json]`: its uploader (town staff) until the activity is
reviewed, a reviewer or admin any time; never in a locked month.
`photos gc [--grace-hours N] --user NAME [--json]`: an admin's (the users permission).
Refused (exit 2), the --json document carries `errors: [{"code", "message"}]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from sqlmodel import Session

from monitor.admin.accounts import UserError
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.permissions import Actor, Forbidden
from monitor.evidence.photo_gc import GRACE_HOURS, Collected, collect_garbage
from monitor.evidence.photo_removal import RemovalRefused, remove_photo
from monitor.evidence.photo_store import StoreError, open_store
from monitor.store.db import Busy

ACTIONS = {"remove", "gc"}
Acting = Callable[[str, str], Actor]  # (account name, action) -> the account, checked


def register(photos: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    remove = photos.add_parser("remove", help="take a photo off its activity (its file too, when no other shows it)")
    remove.add_argument("photo_id", type=int)
    remove.add_argument("--user", required=True)
    remove.add_argument("--json", action="store_true")

    gc = photos.add_parser("gc", help="delete the photo files no activity links, once older than the grace period")
    gc.add_argument("--grace-hours", type=int, default=GRACE_HOURS, help=f"default {GRACE_HOURS}")
    gc.add_argument("--user", required=True)
    gc.add_argument("--json", action="store_true")


def _told(doc: dict[str, object], code: str, message: str, as_json: bool, what: str) -> int:
    if as_json:
        print(json.dumps({**doc, "errors": [{"code": code, "message": message}]}, ensure_ascii=False))
    else:
        print(f"{what}：{message}", file=sys.stderr)
    return 2


def _acting(acting: Acting, name: str, action: str) -> tuple[Actor | None, str, str]:
    try:
        return acting(name, action), "", ""
    except UserError as exc:
        return None, "unknown_user", str(exc)
    except Forbidden as exc:
        return None, "forbidden", str(exc)


def _remove(args: argparse.Namespace, session: Session, settings: Settings, acting: Acting) -> int:
    refused = {"photo_id": args.photo_id, "activity_id": None, "removed": False, "file_deleted": False}
    actor, code, message = _acting(acting, args.user, "import")
    if actor is None:
        return _told(refused, code, message, args.json, "照片未删除")
    try:
        done = remove_photo(
            session=session,
            actor=actor,
            settings=settings,
            store=open_store(settings),
            photo_id=args.photo_id,
            today=today_in(settings),
        )
    except RemovalRefused as exc:
        return _told(refused, exc.code, str(exc), args.json, "照片未删除")
    except Forbidden as exc:
        return _told(refused, "forbidden", str(exc), args.json, "照片未删除")
    except Busy as exc:
        return _told(refused, "busy", str(exc), args.json, "照片未删除")
    except StoreError as exc:
        return _told(refused, "store", str(exc), args.json, "照片未删除")
    if args.json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
    else:
        file = "file deleted" if done.file_deleted else "file kept (another activity shows it, or photos gc takes it)"
        print(f"photo {done.photo_id} removed from activity {done.activity_id} ({done.file_name}); {file}")
    return 0


def _gc(args: argparse.Namespace, session: Session, settings: Settings, acting: Acting) -> int:
    refused = {**Collected(args.grace_hours).to_json()}
    refused.pop("errors")
    if args.grace_hours < 0:
        return _told(refused, "bad_argument", "--grace-hours 不能小于 0。", args.json, "照片文件未清理")
    actor, code, message = _acting(acting, args.user, "users")
    if actor is None:
        return _told(refused, code, message, args.json, "照片文件未清理")
    try:
        done = collect_garbage(
            session=session, actor=actor, settings=settings, store=open_store(settings), grace_hours=args.grace_hours
        )
    except Busy as exc:
        return _told(refused, "busy", str(exc), args.json, "照片文件未清理")
    except StoreError as exc:
        return _told(refused, "store", str(exc), args.json, "照片文件未清理")
    if args.json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
    else:
        print(
            f"removed {done.photos} photos ({done.files} files, {done.bytes} bytes); "
            f"kept {done.recent} younger than {done.grace_hours} hours"
        )
    return 0


def run(args: argparse.Namespace, session: Session, settings: Settings, *, acting: Acting) -> int:
    if args.action == "remove":
        return _remove(args, session, settings, acting)
    return _gc(args, session, settings, acting)
