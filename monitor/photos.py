"""Photos attached to activities: an upload planned (matched, ambiguous, unmatched) and then stored.

Planning reads and judges every photo and writes nothing; attaching stores the files first
(content-addressed, so a retry rewrites nothing) and then links them in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor import audit
from monitor.access import may_touch, scope
from monitor.auth import Actor
from monitor.config import Settings
from monitor.db import begin_write, bump_version, fetch_tuples
from monitor.images import PhotoFacts, PhotoRefused, describe
from monitor.models import Activity, Photo, Unit
from monitor.photo_files import Incoming
from monitor.photo_match import UnitFinder, hints, match
from monitor.photo_store import PhotoStore
from monitor.units import units_frame

Progress = Callable[[float, str], None]
STATUS_LABELS = {
    "matched": "已匹配",
    "ambiguous": "多个候选",
    "unmatched": "未匹配",
    "duplicate": "重复",
    "error": "无法读取",
}


def _quiet(_fraction: float, _text: str) -> None:
    return None


@dataclass
class PlannedPhoto:
    name: str
    status: str  # a key of STATUS_LABELS
    message: str = ""
    activity_id: int | None = None
    candidates: list[int] = field(default_factory=list)
    unit_id: int | None = None
    facts: PhotoFacts | None = None
    data: bytes | None = field(default=None, repr=False)


@dataclass
class PhotoPlan:
    items: list[PlannedPhoto]
    stored: int = 0  # after attach

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    def to_json(self) -> dict[str, object]:
        return {
            "photos": len(self.items),
            "matched": self.count("matched"),
            "stored": self.stored,
            "ambiguous": self.count("ambiguous"),
            "unmatched": self.count("unmatched"),
            "duplicates": self.count("duplicate"),
            "errors": [
                {
                    "file": item.name,
                    "code": item.status if item.status != "error" else "bad_image",
                    "message": item.message,
                }
                for item in self.items
                if item.status in {"ambiguous", "unmatched", "error"}
            ],
        }


def _activities(session: Session, unit_ids: list[int]) -> pd.DataFrame:
    columns = ["id", "unit_id", "date", "title", "title_key"]
    if not unit_ids:
        return pd.DataFrame(columns=columns)
    statement = select(*[col(getattr(Activity, c)) for c in columns]).where(col(Activity.unit_id).in_(unit_ids))
    frame = pd.DataFrame.from_records(fetch_tuples(session, statement), columns=columns)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date  # SQLite hands plain tuples back with text dates
    return frame


def _attached(session: Session, hashes: list[str]) -> set[tuple[int, str]]:
    pairs: set[tuple[int, str]] = set()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        statement = select(Photo.activity_id, Photo.sha256).where(col(Photo.sha256).in_(chunk))
        pairs.update((int(a), str(s)) for a, s in fetch_tuples(session, statement))
    return pairs


def plan_photos(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    incoming: list[Incoming],
    town: str | None = None,
    progress: Progress = _quiet,
) -> PhotoPlan:
    """Read, judge and match every photo of an upload; nothing is written."""
    town = scope(actor, "import", town)
    finder = UnitFinder(units_frame(session=session, town=town))
    items: list[PlannedPhoto] = []
    for number, entry in enumerate(incoming):
        progress(number / max(len(incoming), 1), f"读取照片 {number + 1}/{len(incoming)}")
        if entry.data is None:
            items.append(PlannedPhoto(entry.name, "error", entry.problem))
            continue
        try:
            facts = describe(entry.data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
        except PhotoRefused as exc:
            items.append(PlannedPhoto(entry.name, "error", str(exc)))
            continue
        items.append(PlannedPhoto(entry.name, "unmatched", facts=facts, data=entry.data))
    progress(1.0, "匹配活动")
    found = {item.name: hints(item.name, finder, town=town) for item in items if item.facts}
    activities = _activities(session, sorted({i for h in found.values() for i in h.unit_ids}))
    attached = _attached(session, sorted({item.facts.sha256 for item in items if item.facts}))
    for item in items:
        if item.facts is None:
            continue
        result = match(found[item.name], activities, finder)
        item.status, item.message = result.status, result.message
        item.activity_id, item.candidates, item.unit_id = result.activity_id, result.candidates, result.unit_id
    _mark_duplicates(items, attached)
    return PhotoPlan(items)


def _mark_duplicates(items: list[PlannedPhoto], attached: set[tuple[int, str]]) -> None:
    """A photo already on its activity, or twice on one activity in this upload, is a duplicate."""
    seen = set(attached)
    for item in items:
        if item.status != "matched" or item.facts is None or item.activity_id is None:
            continue
        pair = (item.activity_id, item.facts.sha256)
        if pair in seen:
            item.status, item.message = "duplicate", "该照片已在此活动中"
        seen.add(pair)


@dataclass
class Attached:
    stored: int
    duplicates: int


def attach_photos(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    store: PhotoStore,
    photos: list[tuple[PhotoFacts, bytes, str, int]],
) -> Attached:
    """Store and link (facts, data, file name, activity id) in one transaction; pairs already linked are skipped."""
    if not photos:
        return Attached(0, 0)
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        ids = sorted({activity_id for *_, activity_id in photos})
        towns = dict(
            fetch_tuples(
                session,
                select(Activity.id, Unit.town)
                .join(Unit, col(Unit.id) == col(Activity.unit_id))
                .where(col(Activity.id).in_(ids)),
            )
        )
        for activity_id in ids:
            if activity_id not in towns:
                raise PhotoRefused(f"活动 {activity_id} 不存在（可能已被撤销），请重新选择。")
            may_touch(actor, "import", str(towns[activity_id]))
        seen = _attached(session, sorted({facts.sha256 for facts, *_ in photos}))
        now, stored, duplicates = datetime.now(UTC), 0, 0
        for facts, data, name, activity_id in photos:
            if (activity_id, facts.sha256) in seen:
                duplicates += 1
                continue
            store.put(facts.sha256, "original", data)
            store.put(facts.sha256, "thumb", facts.thumb)
            seen.add((activity_id, facts.sha256))
            session.add(
                Photo(
                    activity_id=activity_id,
                    sha256=facts.sha256,
                    phash=facts.phash,
                    taken_at=facts.taken_at,
                    width=facts.width,
                    height=facts.height,
                    size=facts.size,
                    file_name=name.rsplit("/", 1)[-1][:255],
                    uploaded_by=actor.name,
                    uploaded_at=now,
                )
            )
            stored += 1
        audit.record(
            session,
            actor=actor.name,
            action="photos",
            target=f"{len(ids)} 项活动",
            after={"photos": stored, "duplicates": duplicates},
        )
        bump_version(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Attached(stored, duplicates)


def attach_plan(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    store: PhotoStore,
    plan: PhotoPlan,
    chosen: dict[int, int] | None = None,
) -> Attached:
    """Attach the matched photos of a plan, and those the clerk matched by hand (item index -> activity id)."""
    chosen = chosen or {}
    photos = []
    for number, item in enumerate(plan.items):
        target = chosen.get(number, item.activity_id if item.status == "matched" else None)
        if target is not None and item.facts is not None and item.data is not None:
            photos.append((item.facts, item.data, item.name, int(target)))
    done = attach_photos(session=session, actor=actor, settings=settings, store=store, photos=photos)
    plan.stored = done.stored
    return done


def attach_one(
    *, session: Session, actor: Actor, settings: Settings, store: PhotoStore, activity_id: int, name: str, data: bytes
) -> Attached:
    """One photo added on an activity's own page."""
    facts = describe(data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
    return attach_photos(
        session=session, actor=actor, settings=settings, store=store, photos=[(facts, data, name, activity_id)]
    )


def photos_of(*, session: Session, actor: Actor, activity_ids: list[int]) -> pd.DataFrame:
    """The photos of some activities (id, activity_id, sha256, taken_at, size, file_name, uploaded_by, uploaded_at),
    those of other townships left out for town staff."""
    town = scope(actor, "view")
    columns = [
        "id",
        "activity_id",
        "sha256",
        "phash",
        "taken_at",
        "width",
        "height",
        "size",
        "file_name",
        "uploaded_by",
        "uploaded_at",
    ]
    if not activity_ids:
        return pd.DataFrame(columns=columns)
    statement = (
        select(*[getattr(Photo, c) for c in columns])
        .join(Activity, col(Activity.id) == col(Photo.activity_id))
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .where(col(Photo.activity_id).in_(activity_ids))
        .order_by(col(Photo.activity_id), col(Photo.id))
    )
    if town:
        statement = statement.where(col(Unit.town) == town)
    return pd.DataFrame.from_records(fetch_tuples(session, statement), columns=columns)


def photo_counts(session: Session, activity_ids: list[int]) -> dict[int, int]:
    """How many photos each activity has (activities without any are left out)."""
    counts: dict[int, int] = {}
    for start in range(0, len(activity_ids), 1000):
        chunk = activity_ids[start : start + 1000]
        statement = (
            select(Photo.activity_id, func.count())
            .where(col(Photo.activity_id).in_(chunk))
            .group_by(col(Photo.activity_id))
        )
        counts.update((int(a), int(n)) for a, n in fetch_tuples(session, statement))
    return counts
