"""The unit × month table of counts (UnitMonth): kept by every write, read by every figure.

Every write that changes what a unit held in a month changes the table in the same transaction,
with one grouped statement: an import adds its new rows, a rollback takes off the rows it
deletes, a decision (认定 / 不予认定) moves one activity between the counts. A roster change
touches nothing here: the active range is applied when the figures read the table.
`recompute` builds the same counts from the activity rows themselves; `differences` compares
the two and `rebuild` replaces the table (python -m monitor check [--repair]).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlmodel import Session

from monitor.core.calendar import deadlines
from monitor.core.config import Settings
from monitor.core.permissions import Actor, scope
from monitor.counts import townmonths
from monitor.store import audit
from monitor.store.db import begin_write, bump_version, get_meta, set_meta

STAMP = "unitmonth_deadline_day"  # Meta key: the deadline day the on_time counts follow
COUNTS = ("activities", "on_time", "recognised", "not_recognised", "not_recognised_on_time")
KEY = ("month", "unit_id")


def deadline_day(session: Session) -> int:
    """The deadline day the table's on_time counts follow."""
    return int(get_meta(session, STAMP, "5") or 5)


def _param(connection: Connection, moment: datetime) -> object:
    """A moment as the activity table stores it: SQLite naive UTC text, PostgreSQL aware."""
    if connection.dialect.name == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def _due_case(connection: Connection, months: list[str], day: int, params: dict[str, object]) -> str:
    """SQL: the month's deadline for a.month, as a CASE over the months given (NULL for others)."""
    due = deadlines(months, deadline_day=day)
    if not due:
        return "NULL"
    arms = []
    for number, (month, moment) in enumerate(sorted(due.items())):
        params[f"m{number}"], params[f"d{number}"] = month, _param(connection, moment)
        arms.append(f"WHEN :m{number} THEN :d{number}")
    return "CASE a.month " + " ".join(arms) + " END"


def _grouped(connection: Connection, where: str, params: dict[str, object], day: int) -> tuple[str, list[str]]:
    """SQL: the counts of the activities matching `where` (alias a), grouped by month and unit; and their months."""
    months = [m for (m,) in connection.execute(text(f"SELECT DISTINCT a.month FROM activity a WHERE {where}"), params)]
    due = _due_case(connection, months, day, params)
    timely = f"CASE WHEN a.stored_at <= ({due}) THEN 1 ELSE 0 END"
    sql = (
        f"SELECT a.month AS month, a.unit_id AS unit_id, count(*) AS activities, sum({timely}) AS on_time, "
        "sum(CASE WHEN r.decision = 'recognised' THEN 1 ELSE 0 END) AS recognised, "
        "sum(CASE WHEN r.decision = 'rejected' THEN 1 ELSE 0 END) AS not_recognised, "
        f"sum(CASE WHEN r.decision = 'rejected' THEN {timely} ELSE 0 END) AS not_recognised_on_time "
        f"FROM activity a LEFT JOIN review r ON r.activity_id = a.id WHERE {where} GROUP BY a.month, a.unit_id"
    )
    return sql, months


def add(session: Session, *, where: str, params: Mapping[str, object]) -> None:
    """Add the counts of the activities matching `where` (alias a), as they stand now: rows just
    stored, or an activity whose decision has just changed (after `take` before the change).
    The sums of the months touched (monitor.counts.townmonths) follow."""
    connection = session.connection()
    bound = dict(params)
    grouped, months = _grouped(connection, where, bound, deadline_day(session))
    _add_rows(connection, f"SELECT month, unit_id, {', '.join(COUNTS)} FROM ({grouped}) g", bound)
    townmonths.refresh(session, months)


def _add_rows(connection: Connection, source: str, params: Mapping[str, object], *, keys: str = "") -> None:
    """Add the rows of `source` (month, unit_id and the COUNTS, one row per key) to the table, in key
    order: two writers touching the same unit-months then wait on each other's rows in the same
    order instead of deadlocking.

    `keys`: a table of the same (month, unit_id) keys, written by an import that holds the writers'
    turn (SQLite's write lock; monitor.store.db.TAKE_WRITERS_TURN on PostgreSQL). When the table has none
    of them yet, no other writer can add one meanwhile, and the rows are inserted as they are.
    """
    names = f"month, unit_id, {', '.join(COUNTS)}"
    if (
        keys
        and not connection.execute(
            text(
                f"SELECT EXISTS (SELECT 1 FROM {keys} k "
                "JOIN unitmonth u ON u.month = k.month AND u.unit_id = k.unit_id)"
            )
        ).scalar_one()
    ):
        connection.execute(text(f"INSERT INTO unitmonth ({names}) SELECT * FROM ({source}) s"), dict(params))
        return
    update = ", ".join(f"{c} = unitmonth.{c} + excluded.{c}" for c in COUNTS)
    connection.execute(
        text(
            f"INSERT INTO unitmonth ({names}) SELECT * FROM ({source}) s "
            f"WHERE true ORDER BY month, unit_id ON CONFLICT (month, unit_id) DO UPDATE SET {update}"
        ),
        dict(params),
    )


def add_stored(session: Session, *, batch_id: int, floor: int, stored_at: datetime, months: Iterable[str]) -> None:
    """Add the counts of the rows an import has just stored: one grouped statement over the rows after
    `floor` (the largest activity id before the insert) that carry the batch's id.

    Rows this transaction has just created have no decision, and all share one storing time: a
    month's rows are either all on time or none, so no deadline is compared row by row.
    """
    _add_new(
        session,
        source="SELECT month, unit_id, count(*) AS activities FROM activity WHERE id > :floor AND batch_id = :batch "
        "GROUP BY month, unit_id",
        params={"floor": floor, "batch": batch_id},
        stored_at=stored_at,
        months=months,
    )


def add_staged(session: Session, *, grouped: str, stored_at: datetime, months: Iterable[str]) -> None:
    """PostgreSQL: add the counts of an import that stored every row it staged, from the table
    `grouped` (month, unit_id, activities) counted from its staging table. As for add_stored, the
    new rows have no decision and share one storing time."""
    _add_new(
        session,
        source=f"SELECT month, unit_id, activities FROM {grouped}",
        params={},
        stored_at=stored_at,
        months=months,
        keys=grouped,
    )


def _add_new(
    session: Session,
    *,
    source: str,
    params: Mapping[str, object],
    stored_at: datetime,
    months: Iterable[str],
    keys: str = "",
) -> None:
    """Add the counts of new rows, given per (month, unit_id) by `source`, all on time or not by month."""
    wanted = sorted(set(months))
    timely = _timely(session, wanted, stored_at)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        among, listed = "g.month = ANY(:timely)", timely
    else:
        among, listed = "g.month IN (SELECT value FROM json_each(:timely))", json.dumps(timely)  # type: ignore[assignment]
    _add_rows(
        connection,
        f"SELECT g.month, g.unit_id, g.activities, CASE WHEN {among} THEN g.activities ELSE 0 END AS on_time, "
        f"0 AS recognised, 0 AS not_recognised, 0 AS not_recognised_on_time FROM ({source}) g",
        {**params, "timely": listed},
        keys=keys,
    )
    townmonths.refresh(session, wanted)


def add_counted(session: Session, *, counts: pd.Series, stored_at: datetime) -> None:
    """SQLite: add the counts of an import that stored every row it was given, counted from those rows
    (`counts`: activities per (month, unit_id), in key order), in one statement. (PostgreSQL counts
    its staging table: add_staged.)

    As for add_stored, new rows have no decision and share one storing time. Into months that hold
    no counts yet (a new month's first file, a province's yearly load), the rows are inserted as they
    are, and the months' sums are made from them without reading them back; otherwise they go
    through a temporary table and are added to the counts already there.
    """
    if counts.empty:
        return
    months = counts.index.get_level_values(0).astype(str).tolist()
    units = counts.index.get_level_values(1).astype("int64").tolist()
    numbers = counts.to_numpy(dtype="int64").tolist()
    touched = sorted(set(months))
    timely = set(_timely(session, touched, stored_at))
    on_time = [n if m in timely else 0 for m, n in zip(months, numbers, strict=True)]
    connection = session.connection()
    raw = connection.connection.driver_connection
    held = connection.execute(
        text("SELECT EXISTS (SELECT 1 FROM unitmonth WHERE month IN :months)").bindparams(
            bindparam("months", expanding=True)
        ),
        {"months": touched},
    ).scalar_one()
    if not held:
        raw.executemany(  # type: ignore[union-attr]
            f"INSERT INTO unitmonth (month, unit_id, {', '.join(COUNTS)}) VALUES (?, ?, ?, ?, 0, 0, 0)",
            zip(months, units, numbers, on_time, strict=True),
        )
        townmonths.refresh(session, touched, counts=_by_month(months, units, numbers, on_time))
        return
    raw.execute(  # type: ignore[union-attr]
        "CREATE TEMP TABLE IF NOT EXISTS unitmonth_in "
        "(month TEXT, unit_id INTEGER, activities INTEGER, on_time INTEGER, PRIMARY KEY (month, unit_id)) WITHOUT ROWID"
    )
    raw.execute("DELETE FROM unitmonth_in")  # type: ignore[union-attr]
    raw.executemany(  # type: ignore[union-attr]
        "INSERT INTO unitmonth_in VALUES (?, ?, ?, ?)", zip(months, units, numbers, on_time, strict=True)
    )
    _add_rows(
        connection,
        "SELECT month, unit_id, activities, on_time, 0 AS recognised, 0 AS not_recognised, "
        "0 AS not_recognised_on_time FROM unitmonth_in",
        {},
        keys="unitmonth_in",
    )
    connection.exec_driver_sql("DELETE FROM unitmonth_in")
    townmonths.refresh(session, touched)


def _by_month(months: list[str], units: list[int], numbers: list[int], on_time: list[int]) -> dict[str, np.ndarray]:
    """Each month's counts as townmonths.month_counts reads them (unit_id, held, held by the deadline,
    不予认定; in unit order), from rows in key order with no decision yet."""
    codes, labels = pd.factorize(pd.Series(months, dtype=object))
    table = np.zeros((len(units), 4), dtype="int64")  # 不予认定 stays 0
    table[:, 0], table[:, 1], table[:, 2] = units, numbers, on_time
    return {str(month): table[codes == position] for position, month in enumerate(labels)}


def _timely(session: Session, months: list[str], stored_at: datetime) -> list[str]:
    """The months whose deadline a row stored at `stored_at` meets."""
    due = deadlines(months, deadline_day=deadline_day(session))
    return [m for m in months if m in due and stored_at <= due[m]]


def take(session: Session, *, where: str, params: Mapping[str, object], sums: bool = True) -> None:
    """Take off the counts of the activities matching `where` (alias a), as they stand now: rows about
    to be deleted, or an activity whose decision is about to change (then `add` after it).
    The sums of the months touched (monitor.counts.townmonths) follow, unless sums=False: for a change
    whose `add` follows in the same transaction and refreshes the same months."""
    connection = session.connection()
    bound = dict(params)
    grouped, months = _grouped(connection, where, bound, deadline_day(session))
    update = ", ".join(f"{c} = unitmonth.{c} - g.{c}" for c in COUNTS)
    connection.execute(
        text(
            f"UPDATE unitmonth SET {update} FROM ({grouped}) g "
            "WHERE unitmonth.month = g.month AND unitmonth.unit_id = g.unit_id"
        ),
        bound,
    )
    connection.execute(text("DELETE FROM unitmonth WHERE activities = 0"))
    if sums:
        townmonths.refresh(session, months)


def recompute(session: Session, *, day: int | None = None) -> pd.DataFrame:
    """The counts from the activity and review rows themselves, one row per (month, unit) with any activity."""
    connection = session.connection()
    params: dict[str, object] = {}
    grouped, _ = _grouped(connection, "true", params, deadline_day(session) if day is None else day)
    rows = connection.execute(text(grouped), params).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=[*KEY, *COUNTS]).astype(dict.fromkeys(COUNTS, "int64"))


def stored(session: Session) -> pd.DataFrame:
    """The table as it stands."""
    names = ", ".join([*KEY, *COUNTS])
    rows = session.connection().execute(text(f"SELECT {names} FROM unitmonth")).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=[*KEY, *COUNTS]).astype(dict.fromkeys(COUNTS, "int64"))


@dataclass(frozen=True)
class Difference:
    month: str
    unit_id: int
    column: str
    stored: int
    actual: int


def differences(session: Session) -> list[Difference]:
    """Where the table differs from a recomputation (a row of zeros and a missing row are the same)."""
    keyed = stored(session).set_index(list(KEY))
    actual = recompute(session).set_index(list(KEY))
    index = keyed.index.union(actual.index)
    keyed, actual = keyed.reindex(index, fill_value=0), actual.reindex(index, fill_value=0)
    out = []
    for column in COUNTS:
        wrong = keyed[column] != actual[column]
        for (month, unit_id), was, should in zip(
            keyed.index[wrong], keyed.loc[wrong, column], actual.loc[wrong, column], strict=True
        ):
            out.append(Difference(str(month), int(unit_id), column, int(was), int(should)))
    return sorted(out, key=lambda d: (d.month, d.unit_id, COUNTS.index(d.column)))


def rebuild(session: Session, *, day: int) -> int:
    """Replace the table by a recomputation for deadline day `day`, in the caller's transaction; rows written."""
    connection = session.connection()
    params: dict[str, object] = {}
    grouped, _ = _grouped(connection, "true", params, day)
    names = ", ".join([*KEY, *COUNTS])
    connection.execute(text("DELETE FROM unitmonth"))
    written = connection.execute(text(f"INSERT INTO unitmonth ({names}) SELECT {names} FROM ({grouped}) g"), params)
    set_meta(session, STAMP, str(day))
    townmonths.rebuild(session)
    return int(written.rowcount or 0)


def _units_of(session: Session, town: str) -> set[int]:
    """The ids of one township's units."""
    statement = text("SELECT id FROM unit WHERE town = :town").bindparams(town=town)
    return {int(i) for (i,) in session.connection().execute(statement)}


@dataclass(frozen=True)
class Check:
    rows: int  # rows of the table
    differences: list[Difference]
    deadline_day: int  # the day the on-time counts follow
    repaired: bool = False
    sums: list[townmonths.Difference] = field(default_factory=list)  # of the township × type sums

    def to_json(self, codes: dict[int, str], settings_day: int) -> dict[str, object]:
        return {
            "rows": self.rows,
            "deadline_day": self.deadline_day,
            "settings_deadline_day": settings_day,
            "repaired": self.repaired,
            "differences": [
                {
                    "month": d.month,
                    "unit_id": d.unit_id,
                    "unit_code": codes.get(d.unit_id, ""),
                    "column": d.column,
                    "stored": d.stored,
                    "actual": d.actual,
                }
                for d in self.differences
            ],
            "sum_differences": [
                {
                    "month": d.month,
                    "town": d.town,
                    "unit_type": d.unit_type,
                    "column": d.column,
                    "stored": d.stored,
                    "actual": d.actual,
                }
                for d in self.sums
            ],
        }


def check(*, session: Session, actor: Actor, settings: Settings, repair: bool = False) -> Check:
    """Compare the table with a recomputation from the activity rows; with repair, rebuild it (for the
    settings' deadline day) in one write transaction, audited.

    Reading needs "view" and covers what the account may see: town staff get their township's
    unit-months and sums only. Repairing needs "repair" (town staff do not have it): it rebuilds
    the whole district's counts."""
    town = scope(actor, "repair" if repair else "view")
    found, sums = differences(session), townmonths.differences(session)
    day = deadline_day(session)
    if not repair:
        rows = stored(session)
        if town is not None:
            ids = _units_of(session, town)
            rows = rows[rows["unit_id"].isin(ids)]
            found = [d for d in found if d.unit_id in ids]
            sums = [s for s in sums if s.town == town]
        return Check(rows=len(rows), differences=found, deadline_day=day, sums=sums)
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        found, sums = differences(session), townmonths.differences(session)  # again, inside the write transaction
        written = rebuild(session, day=settings.deadline_day)
        audit.record(
            session,
            actor=actor.name,
            action="unitmonth_repair",
            before={"differences": len(found), "sum_differences": len(sums), "deadline_day": day},
            after={"rows": written, "deadline_day": settings.deadline_day},
        )
        bump_version(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Check(rows=written, differences=found, deadline_day=settings.deadline_day, repaired=True, sums=sums)
