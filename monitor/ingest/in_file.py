"""Photos pasted into the ledger itself (over a row of an .xlsx, in a Word 活动记录's table), attached to
that row's activity through the same pipeline as a zip of photos: limits, hash, EXIF time, thumbnail.

Their files are written before the import's write transaction begins (Described.put_files) and
linked inside it (Placed.attach); those of rows the import refuses are left for `photos gc`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.config import Settings
from monitor.core.models import Activity
from monitor.core.permissions import Actor
from monitor.evidence.images import PhotoFacts, PhotoRefused, PixelBudget, describe
from monitor.evidence.photo_links import ensure_files, put_files
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_in_transaction
from monitor.files.readers import Table
from monitor.store.db import fetch_tuples

Key = tuple[int, date, str]  # (unit id, date, title key): an activity


@dataclass
class Described:
    """The pictures of a file by row id, each read and judged once (None where it could not be read)."""

    by_row: dict[int, list[tuple[str, bytes, PhotoFacts | None, str]]] = field(default_factory=dict)
    found: int = 0

    def readable(self) -> list[tuple[PhotoFacts, bytes]]:
        return [(facts, data) for found in self.by_row.values() for _, data, facts, _ in found if facts is not None]

    def put_files(self, settings: Settings) -> None:
        """Write every readable picture's files, before the write transaction: no lock is held over it."""
        pictures = self.readable()
        if pictures:
            put_files(open_store(settings), pictures)


def describe_all(table: Table, settings: Settings) -> Described:
    """Read and judge every picture placed on a row: a picture that cannot be read is that picture's
    problem, never the ledger's."""
    out = Described(found=table.pictures_found)
    budget = PixelBudget(settings.photo_upload_max_pixels)
    for row, pictures in table.pictures.items():
        for name, data in pictures:
            over = budget.refuse(data)
            if over:
                out.by_row.setdefault(row, []).append((name, data, None, over))
                continue
            try:
                facts = describe(data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
                out.by_row.setdefault(row, []).append((name, data, facts, ""))
            except PhotoRefused as exc:
                out.by_row.setdefault(row, []).append((name, data, None, str(exc)))
    return out


def counted(table: Table) -> Described:
    """The pictures of a file by row, not yet read: enough for a preview's counts."""
    by_row: dict[int, list[tuple[str, bytes, PhotoFacts | None, str]]] = {
        row: [(name, data, None, "") for name, data in found] for row, found in table.pictures.items()
    }
    return Described(by_row, table.pictures_found)


@dataclass
class Placed:
    """The pictures of the rows that were accepted, by the activity each row is."""

    found: int
    by_key: dict[Key, list[tuple[str, bytes, PhotoFacts | None, str]]]
    linked: list[tuple[PhotoFacts, bytes]] = field(default_factory=list)

    def summary(self) -> dict[str, int] | None:
        if not self.found:
            return None
        return {"pictures": self.found, "activities": len(self.by_key)}

    def attach(self, session: Session, *, actor: Actor, settings: Settings, today: date | None = None) -> int:
        """Link the readable pictures (their files written before, put_files) to their activities in the
        import's transaction; returns links made."""
        readable = {key: [p for p in found if p[2] is not None] for key, found in self.by_key.items()}
        readable = {key: found for key, found in readable.items() if found}
        if not readable:
            return 0
        ids = _activity_ids(session, list(readable))
        photos: list[tuple[PhotoFacts, bytes, str, int]] = [
            (facts, data, name, ids[key])
            for key, found in readable.items()
            if key in ids
            for name, data, facts, _problem in found
            if facts is not None
        ]
        if not photos:
            return 0
        self.linked = [(facts, data) for facts, data, _name, _id in photos]
        return attach_in_transaction(session, actor=actor, settings=settings, photos=photos, today=today).stored

    def ensure(self, settings: Settings) -> None:
        """After the import committed: the linked pictures' files are there (ensure_files)."""
        if self.linked:
            ensure_files(open_store(settings), self.linked)


def place(described: Described, rows: pd.DataFrame) -> Placed:
    """The pictures of each accepted row, by its activity; those on refused or set-aside rows are left."""
    by_key: dict[Key, list[tuple[str, bytes, PhotoFacts | None, str]]] = {}
    for row, found in described.by_row.items():
        if row not in rows.index:
            continue
        accepted = rows.loc[row]
        key = (int(accepted["unit_id"]), accepted["date"], str(accepted["title_key"]))
        by_key.setdefault(key, []).extend(found)
    return Placed(described.found, by_key)


def _activity_ids(session: Session, keys: list[Key]) -> dict[Key, int]:
    units = sorted({unit for unit, _, _ in keys})
    days = sorted({day for _, day, _ in keys})
    statement: Any = select(col(Activity.id), col(Activity.unit_id), col(Activity.date), col(Activity.title_key)).where(
        col(Activity.unit_id).in_(units), col(Activity.date).in_(days)
    )
    wanted = set(keys)
    out: dict[Key, int] = {}
    for activity_id, unit_id, day, title_key in fetch_tuples(session, statement):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        key = (int(unit_id), day, str(title_key))
        if key in wanted:
            out[key] = int(activity_id)
    return out
