"""The rows that link a stored picture to an activity, written and read, and the picture's files in
the store.

A picture's original and thumbnail are written before the write transaction that links them
begins (content-addressed, so a retry rewrites nothing, and the writer lock is never held over an
upload). Files are only ever deleted under the writer lock, after checking that no row links
them; an upload whose file went between its write and its link puts it back after committing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from monitor.core.config import Settings
from monitor.core.models import Activity, Photo, Unit
from monitor.core.permissions import Actor, scope
from monitor.evidence.images import PhotoFacts
from monitor.evidence.photo_store import KINDS, PhotoStore, StoreError
from monitor.store.db import chunks, fetch_tuples, in_write


def put_files(store: PhotoStore, photos: Iterable[tuple[PhotoFacts, bytes]]) -> None:
    """Each picture's original and thumbnail in the store, once per SHA-256; before any write transaction."""
    done: set[str] = set()
    for facts, data in photos:
        if facts.sha256 not in done:
            done.add(facts.sha256)
            store.put(facts.sha256, "original", data)
            store.put(facts.sha256, "thumb", facts.thumb)


def ensure_files(store: PhotoStore, photos: Iterable[tuple[PhotoFacts, bytes]]) -> None:
    """After the links committed: put back a file deleted between its write and its link (a removal
    or `photos gc` of the same picture meanwhile). A store that cannot be reached now was reached a
    moment ago; the files written then stand."""
    done: set[str] = set()
    for facts, data in photos:
        if facts.sha256 in done:
            continue
        done.add(facts.sha256)
        try:
            for kind, content in (("original", data), ("thumb", facts.thumb)):
                if not store.has(facts.sha256, kind):
                    store.put(facts.sha256, kind, content)
        except StoreError:
            continue


def keep(
    store: PhotoStore, facts: PhotoFacts, data: bytes, *, activity_id: int, file_name: str, by: str, at: datetime
) -> dict[str, Any]:
    """Put a photo's file and thumbnail in the store; the row that links it to its activity."""
    put_files(store, [(facts, data)])
    return link_row(facts, activity_id=activity_id, file_name=file_name, by=by, at=at)


def link_row(facts: PhotoFacts, *, activity_id: int, file_name: str, by: str, at: datetime) -> dict[str, Any]:
    """The row that links a stored picture to an activity."""
    return {
        "activity_id": activity_id,
        "sha256": facts.sha256,
        "phash": facts.phash,
        "taken_at": facts.taken_at,
        "width": facts.width,
        "height": facts.height,
        "size": facts.size,
        "file_name": file_name.rsplit("/", 1)[-1][:255],
        "uploaded_by": by,
        "uploaded_at": at,
    }


def insert_links(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING, in key order: a link another upload made meanwhile is
    skipped (and counted a duplicate by the caller), and two uploads wait for each other's rows
    in the same order instead of deadlocking."""
    table = Photo.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = sorted(rows, key=lambda row: (row["activity_id"], row["sha256"]))
    stored = 0
    for start in range(0, len(rows), 500):
        statement = insert(table).values(rows[start : start + 500])
        statement = statement.on_conflict_do_nothing(index_elements=[table.c.activity_id, table.c.sha256])
        stored += len(session.execute(statement.returning(table.c.id)).all())
    return stored


def linked_hashes(session: Session, hashes: list[str]) -> set[str]:
    """Those of the hashes some photo row links."""
    linked: set[str] = set()
    for first in range(0, len(hashes), 500):
        statement = select(Photo.sha256).where(col(Photo.sha256).in_(hashes[first : first + 500])).distinct()
        linked.update(str(sha) for (sha,) in fetch_tuples(session, statement))
    return linked


def drop_unlinked(session: Session, *, settings: Settings, store: PhotoStore, hashes: list[str]) -> list[str]:
    """Delete the original and thumbnail of each hash no photo row links; the hashes whose files went.

    Under the writer lock: rows are only linked under it, so no link can be made to a file while it
    is being deleted (and an upload that wrote its file before puts it back: ensure_files)."""
    if not hashes:
        return []

    def drop() -> list[str]:  # nothing written: the commit ends the transaction and its lock
        linked = linked_hashes(session, hashes)
        gone = [sha for sha in hashes if sha not in linked]
        for sha in gone:
            for kind in KINDS:
                store.delete(sha, kind)
        return gone

    return in_write(session, busy_seconds=settings.busy_seconds, write=drop)


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
    for chunk in chunks(activity_ids):
        statement = (
            select(Photo.activity_id, func.count())
            .where(col(Photo.activity_id).in_(chunk))
            .group_by(col(Photo.activity_id))
        )
        counts.update((int(a), int(n)) for a, n in fetch_tuples(session, statement))
    return counts
