"""What the signals (monitor.evidence.signals) are computed from, and the rows each of them gives.

Three set-based queries read the activities of a window of months, every stored photo and every
activity 不予认定; their columns come back as arrays (dates as datetime64, SHA-256 as numbers,
perceptual hashes as uint64), so that the signals are computed on arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from monitor.core.models import Activity, Photo, Review
from monitor.roster.grids import objects
from monitor.store.db import fetch_tuples

_PART = ["code", "unit_id", "month", "activity_id", "message"]


@dataclass
class SignalData:
    months: list[str]  # the period
    window: list[str]  # the months read: the period and the months before it
    units: pd.DataFrame  # every unit, indexed by id
    scope: pd.DataFrame  # the units asked for, in units_frame order
    activities: pd.DataFrame  # every unit's activities of the window: id, unit_id, day, month, title, title_key
    photos: pd.DataFrame | None  # every photo: id, activity_id, sha256 (a number), hash, hashed, taken_at, unit_id, day
    rejected: pd.DataFrame | None = None  # every activity 不予认定: id, unit_id, day, title

    @cached_property
    def period(self) -> pd.DataFrame:
        """The activities that can carry a signal: the period's, of the units asked for."""
        frame = self.activities
        keep = frame["month"].isin(self.months) & frame["unit_id"].isin(self.scope["id"])
        return frame[keep]


def _days(values: Sequence[object]) -> np.ndarray:
    """Dates as SQLite (text) or PostgreSQL (date) hands them back, as datetime64[D] (in a frame: [s]).

    A district has a few hundred distinct dates among tens of thousands of rows: each is converted once.
    """
    codes, distinct = pd.factorize(np.array(values, dtype=object))
    if len(distinct) and isinstance(distinct[0], date):
        epoch = date(1970, 1, 1).toordinal()
        days = np.array([d.toordinal() - epoch for d in cast(Sequence[date], distinct)], dtype="int64")
        return days.astype("datetime64[D]")[codes]
    return np.array(list(distinct), dtype="datetime64[D]")[codes]


def _objects(values: Sequence[object]) -> pd.Series:
    """Text kept as Python objects: turning every column into Arrow strings costs more than the work on it."""
    return pd.Series(objects(values), dtype=object)


def iso_days(days: np.ndarray) -> list[str]:
    """Dates as 'YYYY-MM-DD'."""
    return [str(d) for d in days.astype("datetime64[D]")]


def read_activities(session: Session, first: str, last: str) -> pd.DataFrame:
    """Every unit's activities of months [first, last]: id, unit_id, day, month, title, title_key."""
    statement = select(
        col(Activity.id),
        col(Activity.unit_id),
        col(Activity.date),
        col(Activity.month),
        col(Activity.title),
        col(Activity.title_key),
    ).where(col(Activity.month) >= first, col(Activity.month) <= last)
    rows = fetch_tuples(session, statement)
    ids, units, days, months, titles, keys = zip(*rows, strict=True) if rows else ((), (), (), (), (), ())
    return pd.DataFrame(
        {
            "id": np.array(ids, dtype="int64"),
            "unit_id": np.array(units, dtype="int64"),
            "day": _days(days),
            "month": _objects(months),
            "title": _objects(titles),
            "title_key": _objects(keys),
        }
    )


def read_photos(session: Session) -> pd.DataFrame:
    """Every photo: id, activity_id, sha256 (a number), hash, hashed, taken_at, and its activity's unit_id and day."""
    statement = select(
        col(Photo.id),
        col(Photo.activity_id),
        col(Photo.sha256),
        col(Photo.phash),
        col(Photo.taken_at),
        col(Activity.unit_id),
        col(Activity.date),
    ).join(Activity, col(Activity.id) == col(Photo.activity_id))
    rows = fetch_tuples(session, statement)
    empty: tuple[tuple[object, ...], ...] = ((),) * 7
    photo_ids, ids, shas, phashes, taken, units, days = zip(*rows, strict=True) if rows else empty
    values, valid = _hash_values(phashes)
    return pd.DataFrame(
        {
            "id": np.array(photo_ids, dtype="int64"),
            "activity_id": np.array(ids, dtype="int64"),
            "sha256": pd.factorize(np.array(shas, dtype=object))[0],  # the same file, the same number
            "hash": values,
            "hashed": valid,
            "taken_at": _objects(taken),
            "unit_id": np.array(units, dtype="int64"),
            "day": _days(days),
        }
    )


def read_rejected(session: Session) -> pd.DataFrame:
    """Every activity 不予认定: id, unit_id, day, title."""
    statement = (
        select(col(Activity.id), col(Activity.unit_id), col(Activity.date), col(Activity.title))
        .join(Review, col(Review.activity_id) == col(Activity.id))
        .where(col(Review.decision) == "rejected")
    )
    rows = fetch_tuples(session, statement)
    ids, units, days, titles = zip(*rows, strict=True) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "id": np.array(ids, dtype="int64"),
            "unit_id": np.array(units, dtype="int64"),
            "day": _days(days),
            "title": _objects(titles),
        }
    )


_HEX = frozenset("0123456789abcdefABCDEF")


def _hash_values(phashes: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Each photo's perceptual hash as uint64 and whether it has a readable one (16 hex digits)."""
    texts = [t if isinstance(t, str) and len(t) == 16 else "" for t in phashes]
    valid = np.array([t != "" for t in texts], dtype=bool)
    try:
        joined = bytes.fromhex("".join(t or "0" * 16 for t in texts))
        return np.frombuffer(joined, dtype=">u8").astype(np.uint64), valid
    except ValueError:  # a hash with a character that is not a hex digit: read them one by one
        valid = np.array([t != "" and _HEX.issuperset(t) for t in texts], dtype=bool)
        values = [int(t, 16) if ok else 0 for t, ok in zip(texts, valid, strict=True)]
        return np.array(values, dtype=np.uint64), valid


def part(code: str, unit_id: object, month: object, activity_id: object, message: object) -> pd.DataFrame:
    """The signals of one code as rows of _PART; activity_id as nullable Int64 (empty: a unit-month's)."""
    return pd.DataFrame(
        {
            "code": code,
            "unit_id": np.asarray(unit_id, dtype="int64"),
            "month": np.asarray(month, dtype=object),
            "activity_id": pd.array(np.asarray(activity_id, dtype="float64"), dtype="Int64"),
            "message": np.asarray(message, dtype=object),
        }
    )
