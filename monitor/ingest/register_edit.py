"""A registered activity corrected or withdrawn by its township (or a reviewer or admin), while it is
not yet reviewed and its month is open.

Each takes the writers' lock and reads what it changes under it: a registration withdrawn or
corrected by someone else meanwhile is told (已被他人处理), never overwritten. A correction runs the
new fields through the import's row rules again (a date into a locked month or the future, an
unknown or inactive unit, a title too long) and the duplicate key, and moves the unit-month counts
with the activity. A withdrawal is the rollback of its batch of one (monitor.ingest.rollback): every
figure as if the activity had never been, its photo files removed when no other activity shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.issues import Issue
from monitor.core.models import Activity, ImportBatch, Photo, Review, Unit
from monitor.core.permissions import Actor, may_touch, require
from monitor.counts import unitmonths
from monitor.evidence.photo_links import drop_unlinked
from monitor.evidence.photo_store import StoreError, open_store
from monitor.evidence.photos import attach_in_transaction
from monitor.ingest.register import KIND, in_one_write, label, prepare_photos
from monitor.ingest.register_check import Entry, Judged, RegisterRefused, checked_row, judge_photos, refuse_twin
from monitor.ingest.rollback import remove_batch
from monitor.store import audit
from monitor.store.db import Busy, bump_version, fetch_tuples
from monitor.store.locks import locked_months


@dataclass(frozen=True)
class Corrected:
    activity_id: int
    before: dict[str, object]  # the fields changed, as they were
    after: dict[str, object]  # and as they are now
    photos: int  # photos added
    warnings: list[Issue]

    def to_json(self) -> dict[str, object]:
        return {
            "activity_id": self.activity_id,
            "before": self.before,
            "after": self.after,
            "photos": self.photos,
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass(frozen=True)
class Withdrawn:
    activity_id: int
    batch_id: int
    removed: int  # 1, or 0 when an imported log reported the activity too (it stays, with that batch)
    photos: int  # photo links removed with it
    files_deleted: int  # pictures whose files went too (no other activity shows them)

    def to_json(self) -> dict[str, object]:
        return {
            "activity_id": self.activity_id,
            "batch_id": self.batch_id,
            "removed": self.removed,
            "photos": self.photos,
            "files_deleted": self.files_deleted,
        }


def _opened(
    session: Session, *, actor: Actor, settings: Settings, activity_id: int, today: date
) -> tuple[Activity, Unit, ImportBatch]:
    """The registered activity, its unit and batch as they stand now, if the actor may still change it:
    its township's clerk or a reviewer or admin, not yet reviewed, its month not locked."""
    found = session.exec(
        select(Activity, Unit)
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .where(col(Activity.id) == activity_id)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise RegisterRefused(code="not_found", what=f"活动（编号 {activity_id}）")
    activity, unit = found
    may_touch(actor, "import", unit.town)
    batch = session.get(ImportBatch, activity.batch_id, populate_existing=True) if activity.batch_id else None
    if batch is None or batch.kind != KIND:
        raise RegisterRefused(
            f"活动（编号 {activity_id}）是随活动台账导入的，不是登记的活动，不能在此更正或撤回；"
            "请更正台账，或请审核人员撤销那次导入。"
        )
    if session.get(Review, activity_id, populate_existing=True) is not None:
        raise RegisterRefused(code="reviewed")
    if activity.month in locked_months(session=session, settings=settings, today=today):
        raise RegisterRefused(
            f"{activity.month} 已由审核人员锁定，该月的活动不能再更正或撤回；如需更正请联系区委宣传部。",
            code="locked_month",
        )
    return activity, unit, batch


def correct_registration(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    activity_id: int,
    entry: Entry,
    photos: Sequence[tuple[str, bytes]] = (),
    seen: Entry | None = None,
    today: date | None = None,
) -> Corrected:
    """Replace a registered activity's fields by `entry` (its unit stays) and add `photos`, in one write
    transaction, audited with the fields before and after. `seen`: the fields as the clerk saw them
    when correcting; when they changed meanwhile the correction is refused (stale)."""
    require(actor, "import")
    today = today or today_in(settings)
    judged = judge_photos(photos, settings)

    def check() -> None:
        activity, unit, _ = _opened(session, actor=actor, settings=settings, activity_id=activity_id, today=today)
        rows, _ = checked_row(session, actor=actor, settings=settings, unit_code=unit.code, entry=entry, today=today)
        refuse_twin(session, rows.iloc[0], other_than=activity_id)

    prepare_photos(session, settings, judged, check)
    return in_one_write(
        session,
        settings,
        judged,
        lambda: _correct(
            session,
            actor=actor,
            settings=settings,
            activity_id=activity_id,
            entry=entry,
            judged=judged,
            seen=seen,
            today=today,
        ),
    )


def _correct(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    activity_id: int,
    entry: Entry,
    judged: Judged,
    seen: Entry | None,
    today: date,
) -> Corrected:
    activity, unit, _ = _opened(session, actor=actor, settings=settings, activity_id=activity_id, today=today)
    was = Entry.of(activity).values()
    if seen is not None and seen.values() != was:
        raise RegisterRefused(code="stale", what=f"活动（编号 {activity_id}）")
    rows, warnings = checked_row(session, actor=actor, settings=settings, unit_code=unit.code, entry=entry, today=today)
    row = rows.iloc[0]
    refuse_twin(session, row, other_than=activity_id)
    now = _entry(row).values()
    if now == was and not judged:
        return Corrected(activity_id, {}, {}, 0, warnings)  # nothing to change: nothing written
    _apply(session, activity, row)
    linked = 0
    if judged:
        links = [(facts, data, name, activity_id) for facts, data, name in judged]
        linked = attach_in_transaction(session, actor=actor, settings=settings, photos=links, today=today).stored
    before = {k: v for k, v in was.items() if now[k] != v}
    after = {k: now[k] for k in before}
    audit.record(
        session,
        actor=actor.name,
        action="register_correct",
        target=label(unit, activity.date, activity.title),
        detail=f"活动 #{activity_id}",
        before=before,
        after={**after, "photos": linked} if linked else after,
    )
    bump_version(session)
    return Corrected(activity_id, before, after, linked, warnings)


def _entry(row: pd.Series) -> Entry:
    """The fields of a checked row, as stored."""
    people = row["participants"]
    return Entry(
        day=row["date"],
        title=str(row["title"]),
        category=str(row["category"]),
        participants=None if people is None or pd.isna(people) else int(people),
        location=str(row["location"]),
        notes=str(row["notes"]),
    )


def _apply(session: Session, activity: Activity, row: pd.Series) -> None:
    """The activity takes the checked row's fields; its unit-month counts move with it (off the month it
    was counted in, onto the one it counts in now)."""
    counted = {"activity_id": activity.id}
    unitmonths.take(session, where="a.id = :activity_id", params=counted)  # as it was counted
    entry = _entry(row)
    activity.date, activity.month, activity.title_key = row["date"], str(row["month"]), str(row["title_key"])
    activity.title, activity.category, activity.participants = entry.title, entry.category, entry.participants
    activity.location, activity.notes = entry.location, entry.notes
    session.add(activity)
    session.flush()
    unitmonths.add(session, where="a.id = :activity_id", params=counted)  # as it counts now


def withdraw_registration(
    *, session: Session, actor: Actor, settings: Settings, activity_id: int, today: date | None = None
) -> Withdrawn:
    """Withdraw a registered activity: its batch of one rolled back in one write transaction (counts,
    photo links, the batch marked 已撤销), audited with what it was; then the files of its photos that
    no other activity shows."""
    require(actor, "import")
    today = today or today_in(settings)

    def withdraw() -> tuple[Withdrawn, list[str]]:
        activity, unit, batch = _opened(session, actor=actor, settings=settings, activity_id=activity_id, today=today)
        assert batch.id is not None
        shown = select(col(Photo.sha256)).where(col(Photo.activity_id) == activity_id)
        hashes = sorted({str(sha) for (sha,) in fetch_tuples(session, shown)})
        before = {"unit": unit.code, **Entry.of(activity).values(), "photos": len(hashes), "batch_id": batch.id}
        done = remove_batch(session, actor=actor, settings=settings, batch_id=batch.id, today=today, action="import")
        audit.record(
            session,
            actor=actor.name,
            action="register_withdraw",
            target=label(unit, activity.date, activity.title),
            detail=f"活动 #{activity_id}，登记记录 #{batch.id}",
            before=before,
            after={"status": "rolled_back", "removed": done.removed, "kept": done.kept, "photos": done.photos},
        )
        return Withdrawn(activity_id, batch.id, done.removed, done.photos, 0), hashes

    done, hashes = in_one_write(session, settings, [], withdraw)
    try:
        gone = drop_unlinked(session, settings=settings, store=open_store(settings), hashes=hashes)
    except (Busy, StoreError):
        return done  # the rows are gone; `photos gc` takes the files later
    return Withdrawn(done.activity_id, done.batch_id, done.removed, done.photos, len(gone))
