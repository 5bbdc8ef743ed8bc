"""活动认定's gallery: the activities of one unit (or one township) in a month, each with its photos and
decision, and the review queue that says where work is waiting.

Read-only and index-friendly at district scale (about 20,000 photos a year): activities are found
by month and unit over ix_activity_month_unit, then photos, decisions and answers by activity id
over their own indexes, a chunk of ids at a time. Nothing scans the photo table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from monitor.core.calendar import as_utc, parse_month_arg
from monitor.core.models import Activity, Photo, Review, Unit
from monitor.core.permissions import Actor, may_touch, scope
from monitor.core.query import Query
from monitor.evidence.review import last_replies
from monitor.store.db import chunks, fetch_tuples

STATUS_LABELS = {
    "pending": "待认定",
    "recognised": "已认定",
    "rejected": "不予认定",
    "answered": "已答复待复核",
}
Statement = Select[*tuple[Any, ...]]
QUEUE_COLUMNS = [
    "code",
    "name",
    "town",
    "type",
    "activities",
    "photos",
    "no_photo",
    "pending",
    "recognised",
    "rejected",
    "answered",
]


@dataclass(frozen=True)
class GalleryPhoto:
    id: int
    sha256: str
    taken_at: str  # EXIF time "YYYY-MM-DD HH:MM:SS", or "" when the camera wrote none
    file_name: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class GalleryItem:
    """One activity as the reviewer and the township see it."""

    id: int
    unit_code: str
    unit_name: str
    town: str
    unit_type: str
    date: date
    month: str
    title: str
    category: str
    participants: int | None
    location: str
    photos: tuple[GalleryPhoto, ...]
    decision: str  # "" (not reviewed) | recognised | rejected
    reason: str
    reviewer: str
    decided_at: datetime | None
    answered: bool  # town staff replied after the decision: the reviewer should look again

    @property
    def status(self) -> str:
        """pending | recognised | rejected | answered (a key of STATUS_LABELS)."""
        if self.decision == "rejected":
            return "answered" if self.answered else "rejected"
        return self.decision or "pending"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def _photos(session: Session, ids: Sequence[int]) -> dict[int, list[GalleryPhoto]]:
    found: dict[int, list[GalleryPhoto]] = {}
    for chunk in chunks(ids):
        rows = fetch_tuples(
            session,
            core_select(
                col(Photo.activity_id),
                col(Photo.id),
                col(Photo.sha256),
                col(Photo.taken_at),
                col(Photo.file_name),
                col(Photo.uploaded_by),
                col(Photo.uploaded_at),
            )
            .where(col(Photo.activity_id).in_(chunk))
            .order_by(col(Photo.activity_id), col(Photo.id)),
        )
        for activity_id, photo_id, sha256, taken_at, file_name, by, at in rows:
            shown = GalleryPhoto(
                int(photo_id), str(sha256), str(taken_at or ""), str(file_name or ""), str(by or ""), as_utc(at)
            )
            found.setdefault(int(activity_id), []).append(shown)
    return found


_FIELDS = (
    col(Activity.id),
    col(Unit.code),
    col(Unit.name),
    col(Unit.town),
    col(Unit.type),
    col(Activity.date),
    col(Activity.month),
    col(Activity.title),
    col(Activity.category),
    col(Activity.participants),
    col(Activity.location),
    col(Review.decision),
    col(Review.reason),
    col(Review.reviewer),
    col(Review.decided_at),
)


def _items(session: Session, statement: Statement) -> list[GalleryItem]:
    rows = fetch_tuples(session, statement)
    ids = [int(r[0]) for r in rows]
    photos = _photos(session, ids)
    replies = last_replies(session, [int(r[0]) for r in rows if r[11]])
    items = []
    for row in rows:
        (activity_id, code, name, town, unit_type, day, month, title, category, people, location) = row[:11]
        decision, reason, reviewer, decided_at = row[11:]
        activity_id = int(activity_id)
        decided = as_utc(decided_at) if decided_at is not None else None
        answered = bool(decided and activity_id in replies and replies[activity_id] > decided)
        items.append(
            GalleryItem(
                id=activity_id,
                unit_code=str(code),
                unit_name=str(name),
                town=str(town or ""),
                unit_type=str(unit_type),
                date=day if isinstance(day, date) else date.fromisoformat(str(day)),
                month=str(month),
                title=str(title),
                category=str(category or ""),
                participants=None if people is None else int(people),
                location=str(location or ""),
                photos=tuple(photos.get(activity_id, [])),
                decision=str(decision or ""),
                reason=str(reason or ""),
                reviewer=str(reviewer or ""),
                decided_at=decided,
                answered=answered,
            )
        )
    return items


def _base() -> Statement:
    return (
        core_select(*_FIELDS)
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .outerjoin(Review, col(Review.activity_id) == col(Activity.id))
    )


def gallery(
    *,
    session: Session,
    actor: Actor,
    month: str,
    end: str | None = None,
    code: str | None = None,
    town: str | None = None,
) -> list[GalleryItem]:
    """The activities of unit `code` (or, without a code, of township `town`, or of the district) in
    `month` (through `end` when given), by unit and date, each with its photos and decision.
    Town staff only ever get their own township's."""
    month = parse_month_arg(month)
    end = parse_month_arg(end) if end else month
    town = scope(actor, "view", town)
    statement = _base().where(col(Activity.month) >= month, col(Activity.month) <= end)
    if code is not None:
        unit = session.exec(select(Unit).where(Unit.code == code)).first()
        if unit is None:
            return []
        may_touch(actor, "view", unit.town)
        statement = statement.where(col(Activity.unit_id) == unit.id)
    elif town:
        statement = statement.where(col(Unit.town) == town)
    return _items(session, statement.order_by(col(Unit.code), col(Activity.date), col(Activity.id)))


def items(*, session: Session, actor: Actor, activity_ids: Sequence[int]) -> list[GalleryItem]:
    """Some activities by id, in the order asked; those outside the actor's township are left out."""
    town = scope(actor, "view")
    wanted = list(dict.fromkeys(int(i) for i in activity_ids))
    found: dict[int, GalleryItem] = {}
    for chunk in chunks(wanted):
        statement = _base().where(col(Activity.id).in_(chunk))
        if town:
            statement = statement.where(col(Unit.town) == town)
        found.update((item.id, item) for item in _items(session, statement))
    return [found[i] for i in wanted if i in found]


def item(*, session: Session, actor: Actor, activity_id: int) -> GalleryItem | None:
    """One activity, or None when it is gone or outside the actor's township."""
    found = items(session=session, actor=actor, activity_ids=[activity_id])
    return found[0] if found else None


def queue(*, session: Session, query: Query) -> pd.DataFrame:
    """The units of the query's township and type with activities in its month (in roster order), and
    how many of them wait for what: `pending` 待认定, `rejected` 不予认定 not yet answered, `answered`
    已答复待复核, `recognised` 已认定; with the photos they carry and the activities without any (`no_photo`)."""
    held = _held(query.month, query.town, query.unit_type)
    activities = pd.DataFrame.from_records(fetch_tuples(session, held), columns=["unit_id", "activity_id"])
    if activities.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    ids = [int(i) for i in activities["activity_id"]]
    reviewed, counts = _decisions_and_photos(session, ids)
    status = _statuses(session, reviewed)
    activities["status"] = [status.get(i, "pending") for i in ids]
    activities["photos"] = [counts.get(i, 0) for i in ids]
    activities["no_photo"] = activities["photos"].eq(0).astype("int64")
    by_unit = pd.crosstab(activities["unit_id"], activities["status"]).reindex(
        columns=list(STATUS_LABELS), fill_value=0
    )
    by_unit["activities"] = activities.groupby("unit_id").size()
    by_unit[["photos", "no_photo"]] = activities.groupby("unit_id")[["photos", "no_photo"]].sum()
    frame = _roster(session, [int(u) for u in by_unit.index]).join(by_unit, how="inner")
    order = {"center": 0, "institute": 1, "station": 2}
    frame = frame.sort_values(["town", "type", "code"], key=lambda s: s.map(order) if s.name == "type" else s)
    return frame.reset_index(drop=True)[QUEUE_COLUMNS].astype(dict.fromkeys(QUEUE_COLUMNS[4:], "int64"))


def _held(month: str, town: str | None, unit_type: str | None) -> Statement:
    """(unit_id, activity id) of the activities of `month`, of one township and one unit type when given."""
    held = core_select(col(Activity.unit_id), col(Activity.id)).where(col(Activity.month) == month)
    if town or unit_type:
        held = held.join(Unit, col(Unit.id) == col(Activity.unit_id))
    if town:
        held = held.where(col(Unit.town) == town)
    if unit_type:
        held = held.where(col(Unit.type) == unit_type)
    return held


def _decisions_and_photos(session: Session, ids: list[int]) -> tuple[list[tuple[int, str, datetime]], dict[int, int]]:
    """The decisions taken on the activities (id, decision, decided_at) and how many photos each has."""
    reviewed: list[tuple[int, str, datetime]] = []
    counts: dict[int, int] = {}
    for chunk in chunks(ids):
        reviewed.extend(
            (int(a), str(d), as_utc(t))
            for a, d, t in fetch_tuples(
                session,
                select(Review.activity_id, Review.decision, Review.decided_at).where(
                    col(Review.activity_id).in_(chunk)
                ),
            )
        )
        counts.update(
            (int(a), int(n))
            for a, n in fetch_tuples(
                session,
                select(Photo.activity_id, func.count())
                .where(col(Photo.activity_id).in_(chunk))
                .group_by(col(Photo.activity_id)),
            )
        )
    return reviewed, counts


def _statuses(session: Session, reviewed: list[tuple[int, str, datetime]]) -> dict[int, str]:
    """Activity id -> recognised | rejected | answered (replied to after the decision) of those decided."""
    replies = last_replies(session, [a for a, d, _ in reviewed if d == "rejected"])
    return {
        a: "recognised" if d != "rejected" else "answered" if replies.get(a, t) > t else "rejected"
        for a, d, t in reviewed
    }


def _roster(session: Session, unit_ids: list[int]) -> pd.DataFrame:
    """code, name, town and type of the units, indexed by unit_id."""
    units = core_select(col(Unit.id), col(Unit.code), col(Unit.name), col(Unit.town), col(Unit.type))
    return pd.DataFrame.from_records(
        [row for chunk in chunks(unit_ids) for row in fetch_tuples(session, units.where(col(Unit.id).in_(chunk)))],
        columns=["unit_id", "code", "name", "town", "type"],
    ).set_index("unit_id")
