"""The figures' bulk reads (a month's counts joined into one text per column, the roster read per
township and type) give what a plain row-by-row read gives, on both engines."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlalchemy import text
from sqlmodel import Session

from monitor.core.models import Unit, UnitMonth
from monitor.counts import townmonths
from monitor.store.db import fetch_int_columns

# Township names a joined text must not trip over: a comma, quotes, a space, the empty one.
TOWNS = ["荷阳街道", "新港,东区", "“南山”镇", "西 湖乡", ""]
TYPES = ["center", "institute", "station"]


def _units(session: Session, n: int, seed: int) -> None:
    """n units in shuffled townships and types, a few with an active range."""
    rng = random.Random(seed)
    for i in range(n):
        ranged = rng.random() < 0.2
        session.add(
            Unit(
                code=f"U{i:04d}",
                name=f"单位{i}",
                short_name=f"单位{i}",
                type=rng.choice(TYPES),
                town=rng.choice(TOWNS),
                active_from=rng.choice([None, "2025-03"]) if ranged else None,
                active_to=rng.choice([None, "2025-10"]) if ranged else None,
            )
        )
    session.commit()


def _plain_roster(session: Session, where: str = "", **params: object) -> list[tuple[object, ...]]:
    statement = text(f"SELECT id, type, town, active_from, active_to FROM unit {where} ORDER BY id")
    return [tuple(r) for r in session.connection().execute(statement, params)]


def _as_rows(frame) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    columns = [frame[name].tolist() for name in ("id", "type", "town", "active_from", "active_to")]
    return [(int(r[0]), *r[1:]) for r in zip(*columns, strict=True)]


def test_the_roster_read_by_township_and_type_is_the_roster_unit_by_unit(session):
    _units(session, 120, seed=7)
    assert _as_rows(townmonths.roster(session)) == _plain_roster(session)
    assert _as_rows(townmonths.roster(session, town="新港,东区")) == _plain_roster(
        session, "WHERE town = :t", t="新港,东区"
    )
    assert _as_rows(townmonths.roster(session, unit_type="station")) == _plain_roster(
        session, "WHERE type = :k", k="station"
    )
    both = townmonths.roster(session, town="“南山”镇", unit_type="institute")
    assert _as_rows(both) == _plain_roster(session, "WHERE town = :t AND type = :k", t="“南山”镇", k="institute")
    ranged = [r for r in _plain_roster(session) if r[3] or r[4]]
    assert ranged, "the case holds units with an active range"


def test_an_empty_roster_reads_as_no_units(session):
    frame = townmonths.roster(session)
    assert frame.empty
    assert list(frame.columns) == ["id", "type", "town", "active_from", "active_to"]
    _units(session, 5, seed=1)
    assert townmonths.roster(session, town="没有这个镇").empty


def test_joined_columns_keep_each_rows_values_together(session):
    _units(session, 300, seed=3)
    rng = random.Random(11)
    ids = [int(i) for (i,) in session.connection().execute(text("SELECT id FROM unit"))]
    rng.shuffle(ids)  # stored in no particular order
    expected = {}
    for unit_id in ids[:250]:
        activities = rng.randint(0, 40)
        rejected = rng.randint(0, activities)
        on_time = rng.randint(0, activities)
        session.add(
            UnitMonth(
                month="2025-06",
                unit_id=unit_id,
                activities=activities,
                on_time=on_time,
                not_recognised=rejected,
                not_recognised_on_time=min(rejected, on_time),
            )
        )
        expected[unit_id] = (activities - rejected, on_time - min(rejected, on_time), rejected)
    session.commit()

    read = fetch_int_columns(
        session,
        ("unit_id", "activities - not_recognised", "on_time - not_recognised_on_time", "not_recognised"),
        "FROM unitmonth WHERE month = :month",
        {"month": "2025-06"},
    )
    assert read.shape == (250, 4)
    assert {int(r[0]): tuple(int(v) for v in r[1:]) for r in read} == expected
    in_order = townmonths.month_counts(session, "2025-06")
    assert in_order[:, 0].tolist() == sorted(expected)
    assert [tuple(r[1:]) for r in in_order.tolist()] == [expected[u] for u in sorted(expected)]

    # A township's page reads its own units' counts only: the same rows, of those ids.
    some = np.array(sorted(ids[100:160]), dtype="int64")  # 60 units, a few of them without counts
    theirs = townmonths.month_counts(session, "2025-06", some)
    assert theirs[:, 0].tolist() == [u for u in sorted(expected) if u in set(some.tolist())]
    assert [tuple(r[1:]) for r in theirs.tolist()] == [expected[u] for u in theirs[:, 0].tolist()]
    assert townmonths.month_counts(session, "2025-06", np.zeros(0, dtype="int64")).shape == (0, 4)

    empty = fetch_int_columns(session, ("unit_id", "activities"), "FROM unitmonth WHERE month = :m", {"m": "2030-01"})
    assert empty.shape == (0, 2)
    assert townmonths.month_counts(session, "2030-01").shape == (0, 4)


def test_a_null_value_is_refused_rather_than_shifting_a_column(session):
    _units(session, 3, seed=5)
    with pytest.raises(ValueError, match="differ in length"):
        fetch_int_columns(session, ("id", "quota"), "FROM unit", {})  # quota is empty on every unit
    session.connection().execute(text("UPDATE unit SET quota = 4 WHERE id = 2"))
    with pytest.raises(ValueError, match="differ in length"):
        fetch_int_columns(session, ("id", "quota"), "FROM unit", {})  # and on all but one
    ids = fetch_int_columns(session, ("id",), "FROM unit", {})
    assert np.sort(ids[:, 0]).tolist() == [1, 2, 3]
