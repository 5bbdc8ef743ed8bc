"""活动登记: one activity recorded at the event, with its photos, as a batch of one (source 登记).

The same rules, codes and messages as a row of an imported log (monitor.ingest.register_check), the
same duplicate key, unit-month counts and on-time rule (monitor.ingest.inserts), photos through the
same pipeline (monitor.evidence.photos). The activity and its photos are stored in one write
transaction or not at all: the photos are judged, and their files written, before the write lock
is taken (as for pictures pasted in a ledger, monitor.ingest.in_file); a file whose transaction
fails stays unlinked until `photos gc` takes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from monitor.core.calendar import as_utc, shift_month, today_in
from monitor.core.config import Settings
from monitor.core.issues import Issue
from monitor.core.models import Activity, ImportBatch, Unit
from monitor.core.permissions import Actor, require, scope
from monitor.evidence.gallery import GalleryItem, items
from monitor.evidence.photo_links import ensure_files, put_files
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_in_transaction
from monitor.evidence.review import DECISIONS
from monitor.ingest.inserts import insert_activities, keep_as_written
from monitor.ingest.register_check import Entry, Judged, checked_row, judge_photos, refuse_twin, stored_twin
from monitor.store import audit
from monitor.store.db import bump_version, fetch_tuples, in_write
from monitor.store.locks import locked_months

KIND = "register"  # ImportBatch.kind of a registration (labelled 登记 in monitor.core.labels.BATCH_KINDS)
REVIEW_STATES = {"": "待认定", **DECISIONS}
T = TypeVar("T")


@dataclass(frozen=True)
class Registered:
    """One registration stored: its activity, its batch of one and the photos linked to it."""

    activity_id: int
    batch_id: int
    unit: str  # the unit's code
    day: date
    title: str
    photos: int
    warnings: list[Issue] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "activity_id": self.activity_id,
            "batch_id": self.batch_id,
            "unit": self.unit,
            "date": self.day.isoformat(),
            "title": self.title,
            "photos": self.photos,
            "warnings": [w.to_json() for w in self.warnings],
        }


def in_one_write(session: Session, settings: Settings, judged: Judged, write: Callable[[], T]) -> T:
    """Run `write()` in one write transaction and commit it; the photos' files (written before) are
    checked once it committed. A wait for another writer that runs out is Busy; any failure writes nothing."""
    done = in_write(session, busy_seconds=settings.busy_seconds, write=write)
    if judged:
        ensure_files(open_store(settings), [(facts, data) for facts, data, _ in judged])
    return done


def prepare_photos(session: Session, settings: Settings, judged: Judged, check: Callable[[], None]) -> None:
    """Before the write lock: run `check()` as a read (what would be refused is refused before any file
    is written), end the read, and write the photos' files."""
    if not judged:
        return
    try:
        check()
    finally:
        session.rollback()
    put_files(open_store(settings), [(facts, data) for facts, data, _ in judged])


def register_activity(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    unit: str,
    entry: Entry,
    photos: Sequence[tuple[str, bytes]] = (),
    today: date | None = None,
) -> Registered:
    """Store one activity of unit `unit` (its code) with its photos ((file name, bytes), JPEG, PNG or
    HEIC), as an import stores a row: town clerks for their own township's units only. Refused whole
    (RegisterRefused, with the import's code and message) when its row would be refused, when the
    same activity is stored already (duplicate_activity), or when a photo cannot be taken (bad_image,
    naming it); nothing is stored then."""
    require(actor, "import")
    today = today or today_in(settings)
    judged = judge_photos(photos, settings)

    def check() -> None:
        row, _ = checked_row(session, actor=actor, settings=settings, unit_code=unit, entry=entry, today=today)
        refuse_twin(session, row.iloc[0])

    prepare_photos(session, settings, judged, check)
    return in_one_write(
        session,
        settings,
        judged,
        lambda: _store(session, actor=actor, settings=settings, unit=unit, entry=entry, judged=judged, today=today),
    )


def _store(
    session: Session, *, actor: Actor, settings: Settings, unit: str, entry: Entry, judged: Judged, today: date
) -> Registered:
    """Under the write lock: the entry checked again, then stored with its batch, its photos, its counts
    and the audit event."""
    rows, warnings = checked_row(session, actor=actor, settings=settings, unit_code=unit, entry=entry, today=today)
    row = rows.iloc[0]
    refuse_twin(session, row)
    found = session.get(Unit, int(row["unit_id"]))
    assert found is not None  # the check found it
    batch = _batch(actor, found, entry, judged)
    session.add(batch)
    session.flush()
    assert batch.id is not None  # given by the flush
    insert_activities(session, rows, batch_id=batch.id, stored_at=datetime.now(UTC))
    keep_as_written(session, rows)
    activity_id = stored_twin(session, unit_id=int(row["unit_id"]), day=row["date"], title_key=str(row["title_key"]))
    assert activity_id is not None  # stored just now, under the lock
    linked = 0
    if judged:
        links = [(facts, data, name, activity_id) for facts, data, name in judged]
        linked = attach_in_transaction(session, actor=actor, settings=settings, photos=links, today=today).stored
    batch.status, batch.rows, batch.imported = "imported", 1, 1
    session.add(batch)
    activity = session.get(Activity, activity_id)
    assert activity is not None
    audit.record(
        session,
        actor=actor.name,
        action="register",
        target=label(found, row["date"], str(row["title"])),
        detail=f"活动 #{activity_id}，登记记录 #{batch.id}",
        after={"unit": found.code, **Entry.of(activity).values(), "photos": linked, "batch_id": batch.id},
    )
    bump_version(session)
    return Registered(activity_id, batch.id, found.code, row["date"], str(row["title"]), linked, warnings)


def label(unit: Unit, day: date, title: str) -> str:
    """An activity as the audit trail names it."""
    return f"{unit.town}{unit.name} {day:%Y-%m-%d} {title}"[:255]


def _batch(actor: Actor, unit: Unit, entry: Entry, judged: Judged) -> ImportBatch:
    """The batch of one a registration is: who, when, for which township, a digest of what was entered."""
    content = json.dumps(
        {"unit": unit.code, **entry.values(), "photos": [facts.sha256 for facts, _, _ in judged]},
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return ImportBatch(
        kind=KIND,
        user=actor.name,
        created_at=datetime.now(UTC),
        file_name=f"活动登记：{entry.title}"[:255],
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        town=unit.town,
        size=sum(len(data) for _, data, _ in judged),
        status="pending",
    )


@dataclass(frozen=True)
class Registration:
    """A registration as its clerk sees it in 我的登记: the activity with its photos and review state."""

    batch_id: int
    registered_at: datetime
    registered_by: str
    notes: str
    activity: GalleryItem  # its photos (ids, SHA-256 for the thumbnails) and its decision, as the gallery has them
    open: bool  # may still be corrected or withdrawn: not reviewed, its month not locked

    @property
    def review_state(self) -> str:
        """待认定, 认定 or 不予认定."""
        return REVIEW_STATES[self.activity.decision]

    @property
    def reason(self) -> str:
        return self.activity.reason

    @property
    def entry(self) -> Entry:
        """The fields as stored, as a correction form starts from them (and gives back as `seen`)."""
        item = self.activity
        return Entry(item.date, item.title, item.category, item.participants, item.location, self.notes)


def my_registrations(
    *, session: Session, actor: Actor, settings: Settings, today: date | None = None
) -> list[Registration]:
    """我的登记: the acting account's registrations made this month and last (in the district's time),
    newest first, each with its photos and review state; withdrawn ones are gone."""
    today = today or today_in(settings)
    first = date.fromisoformat(shift_month(today.strftime("%Y-%m"), -1) + "-01")
    since = datetime.combine(first, time.min, tzinfo=settings.timezone)
    mine = (col(ImportBatch.user) == actor.name, col(ImportBatch.created_at) >= since)
    return _registrations(*mine, session=session, actor=actor, settings=settings, today=today)


def registration(
    *, session: Session, actor: Actor, settings: Settings, activity_id: int, today: date | None = None
) -> Registration | None:
    """One registered activity, or None when it is gone, was imported rather than registered, or lies
    outside the actor's township."""
    today = today or today_in(settings)
    found = _registrations(
        col(Activity.id) == activity_id, session=session, actor=actor, settings=settings, today=today
    )
    return found[0] if found else None


def _registrations(
    *where: ColumnElement[bool], session: Session, actor: Actor, settings: Settings, today: date
) -> list[Registration]:
    """The live registrations matching `where`, newest first, those outside the actor's township left out."""
    scope(actor, "view")
    statement = (
        core_select(
            col(ImportBatch.id),
            col(ImportBatch.created_at),
            col(ImportBatch.user),
            col(Activity.id),
            col(Activity.notes),
        )
        .join(Activity, col(Activity.batch_id) == col(ImportBatch.id))
        .where(col(ImportBatch.kind) == KIND, col(ImportBatch.status) == "imported", *where)
        .order_by(col(ImportBatch.id).desc())
    )
    rows = fetch_tuples(session, statement)
    shown = {item.id: item for item in items(session=session, actor=actor, activity_ids=[int(r[3]) for r in rows])}
    locked = locked_months(session=session, settings=settings, today=today)
    return [
        Registration(
            batch_id=int(batch_id),
            registered_at=as_utc(at),
            registered_by=str(user),
            notes=str(notes or ""),
            activity=shown[int(activity_id)],
            open=not shown[int(activity_id)].decision and shown[int(activity_id)].month not in locked,
        )
        for batch_id, at, user, activity_id, notes in rows
        if int(activity_id) in shown
    ]
