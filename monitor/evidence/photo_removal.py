"""A photo taken off its activity again: by whom, when not, and what becomes of its file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.models import Activity, Photo, Review, Unit
from monitor.core.permissions import PERMISSIONS, Actor, Forbidden, may_touch, require
from monitor.evidence.photo_links import drop_unlinked, linked_hashes
from monitor.evidence.photo_store import PhotoStore, StoreError
from monitor.evidence.photos import locked_message
from monitor.store import audit
from monitor.store.db import Busy, bump_version, in_write
from monitor.store.locks import locked_months


class RemovalRefused(Refusal, ValueError):
    """A photo that cannot be removed as asked; `code` names why, the message says it in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


@dataclass
class Removed:
    photo_id: int
    activity_id: int
    file_name: str
    uploaded_by: str
    file_deleted: bool  # False: another row shows the same picture, or the store could not be reached (gc takes it)

    def to_json(self) -> dict[str, object]:
        return {
            "photo_id": self.photo_id,
            "activity_id": self.activity_id,
            "file_name": self.file_name,
            "uploaded_by": self.uploaded_by,
            "removed": True,
            "file_deleted": self.file_deleted,
            "errors": [],
        }


def remove_photo(
    *, session: Session, actor: Actor, settings: Settings, store: PhotoStore, photo_id: int, today: date | None = None
) -> Removed:
    """Take one photo off its activity: town staff their own upload until the activity is reviewed, a
    reviewer or admin any photo; never on an activity of a locked month. Audited with what it was;
    its file goes too when no other row shows the same picture."""
    require(actor, "import")
    today = today or today_in(settings)

    def remove() -> tuple[Removed, str, bool]:
        found = session.exec(
            select(Photo, Activity, Unit)
            .join(Activity, col(Activity.id) == col(Photo.activity_id))
            .join(Unit, col(Unit.id) == col(Activity.unit_id))
            .where(col(Photo.id) == photo_id)
        ).first()
        if found is None:
            raise RemovalRefused("not_found", f"照片 {photo_id} 不存在，或已被他人处理（删除）。")
        photo, activity, unit = found
        _may_remove(session, actor=actor, photo=photo, activity=activity, unit=unit)
        if activity.month in locked_months(session=session, settings=settings, today=today):
            raise RemovalRefused("locked_month", locked_message([activity.month]))
        assert activity.id is not None
        done = Removed(photo_id, activity.id, photo.file_name, photo.uploaded_by, file_deleted=False)
        sha256 = photo.sha256
        before = {
            "photo_id": photo_id,
            "activity_id": activity.id,
            "file_name": photo.file_name,
            "uploaded_by": photo.uploaded_by,
            "sha256": sha256,
        }
        target = f"{unit.town}{unit.name} {activity.date:%Y-%m-%d} {activity.title}"[:255]
        session.delete(photo)
        session.flush()
        shared = bool(linked_hashes(session, [sha256]))
        audit.record(
            session,
            actor=actor.name,
            action="photo_remove",
            target=target,
            detail=f"活动 #{activity.id}",
            before=before,
        )
        bump_version(session)
        return done, sha256, shared

    done, sha256, shared = in_write(session, busy_seconds=settings.busy_seconds, write=remove)
    if not shared:
        try:
            done.file_deleted = bool(drop_unlinked(session, settings=settings, store=store, hashes=[sha256]))
        except (Busy, StoreError):
            done.file_deleted = False  # the row is gone; `photos gc` takes the file later
    return done


def _may_remove(session: Session, *, actor: Actor, photo: Photo, activity: Activity, unit: Unit) -> None:
    if "review" in PERMISSIONS.get(actor.role, frozenset()):
        may_touch(actor, "review", unit.town)
        return
    if actor.is_town and unit.town != actor.town:
        raise Forbidden(f"只能删除本乡镇（{actor.town}）活动的照片。")
    may_touch(actor, "import", unit.town)
    if photo.uploaded_by != actor.name:
        raise Forbidden("只能删除本人上传的照片；其他人上传的照片请联系审核人员删除。")
    if session.get(Review, activity.id) is not None:
        raise RemovalRefused(
            "reviewed", "该活动已审核（认定或不予认定），照片不能再由乡镇删除；如需删除请联系审核人员。"
        )
