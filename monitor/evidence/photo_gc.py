"""Photo files no row links, removed once they are older than a grace period (`python -m monitor photos gc`).

Such files are left by an upload whose transaction failed or was refused after its files were
written, by a ledger refused whole, and by an import rolled back. A file younger than the grace
period may belong to an upload whose transaction has not committed yet, so it stays.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from monitor.core.config import Settings
from monitor.core.permissions import Actor, require
from monitor.evidence.photo_links import drop_unlinked, linked_hashes
from monitor.evidence.photo_store import PhotoStore, StoredFile
from monitor.store import audit
from monitor.store.db import begin_write

GRACE_HOURS = 24
BATCH = 50  # pictures deleted under one hold of the writer lock


@dataclass
class Collected:
    grace_hours: float
    photos: int = 0  # pictures whose files were removed
    files: int = 0  # originals and thumbnails removed
    bytes: int = 0
    recent: int = 0  # pictures no row links, younger than the grace period: kept

    def to_json(self) -> dict[str, object]:
        return {
            "grace_hours": self.grace_hours,
            "photos": self.photos,
            "files": self.files,
            "bytes": self.bytes,
            "recent": self.recent,
            "errors": [],
        }


def collect_garbage(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    store: PhotoStore,
    grace_hours: float = GRACE_HOURS,
    now: datetime | None = None,
) -> Collected:
    """Remove every picture's files that no photo row links and that were all written more than
    grace_hours ago; an admin's task (the users permission), audited."""
    require(actor, "users")
    if grace_hours < 0:
        raise ValueError("保留时限不能为负数。")
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=grace_hours)
    by_hash: dict[str, list[StoredFile]] = {}
    for found in store.files():
        by_hash.setdefault(found.sha256, []).append(found)
    linked = linked_hashes(session, sorted(by_hash))
    session.rollback()  # the read ends here; each batch below checks again under the writer lock
    loose = [sha for sha in sorted(by_hash) if sha not in linked]
    old = [sha for sha in loose if max(f.modified for f in by_hash[sha]) < cutoff]
    done = Collected(grace_hours, recent=len(loose) - len(old))
    try:
        for first in range(0, len(old), BATCH):
            for sha in drop_unlinked(session, settings=settings, store=store, hashes=old[first : first + BATCH]):
                done.photos += 1
                done.files += len(by_hash[sha])
                done.bytes += sum(f.size for f in by_hash[sha])
    except BaseException:
        with suppress(Exception):  # what went before the failure is recorded when it can be
            _record(session, actor=actor, settings=settings, done=done)
        raise
    _record(session, actor=actor, settings=settings, done=done)
    return done


def _record(session: Session, *, actor: Actor, settings: Settings, done: Collected) -> None:
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        audit.record(
            session,
            actor=actor.name,
            action="photos_gc",
            target="照片文件",
            after={"photos": done.photos, "files": done.files, "bytes": done.bytes, "grace_hours": done.grace_hours},
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
