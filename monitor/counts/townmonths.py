"""The sums per month, township and unit type (TownMonth): what a report over many units reads.

A report needs, besides what the roster alone gives (required, units counted), sums that depend
on each unit-month's count and quota together: held, 不予认定, min(held, quota), and how many
unit-months met their quota in all and by the deadline. They are summed here from the unit ×
month table, the roster and the quota rules, and kept by every write in its own transaction:
an import, a rollback or a decision refreshes the months it touched; a roster or quota change
refreshes every month. `differences` compares the table with a recomputation (python -m
monitor check).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlmodel import Session

from monitor.roster.grids import WELL_FORMED_MONTH, active_grid, objects, quota_grid
from monitor.store.db import among, fetch_int_columns, fetch_tuples, joined_ints, parse_ints

SUMS = ("held", "not_recognised", "capped", "met", "on_time_met")
KEY = ("month", "town", "unit_type")
_LOCK = 72_310_005  # PostgreSQL advisory lock: one refresh at a time reads and replaces the sums


def narrowed(town: str | None, unit_type: str | None, *, type_column: str) -> tuple[list[str], dict[str, object]]:
    """SQL conditions (and their parameters) keeping one township and/or unit type."""
    where: list[str] = []
    params: dict[str, object] = {}
    if town:
        where.append("town = :town")
        params["town"] = town
    if unit_type:
        where.append(f"{type_column} = :type")
        params["type"] = unit_type
    return where, params


def roster(session: Session, *, town: str | None = None, unit_type: str | None = None) -> pd.DataFrame:
    """id, type, town and active range of every unit (of a township and/or type), in id order.

    Read as one row per (township, type) with its units' ids joined (a few hundred rows at
    province scale), then the few units that have an active range: the 30,000 names of
    township and type read unit by unit took longer than the rest of a report.
    """
    where, params = narrowed(town, unit_type, type_column="type")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    joined = joined_ints(session, "id")
    statement = text(f"SELECT town, type, count(*), {joined} FROM unit {clause} GROUP BY town, type")
    groups = fetch_tuples(session, statement.bindparams(**params))
    sizes = [int(group[2]) for group in groups]
    ids = parse_ints(",".join(group[3] for group in groups))  # one parse: thousands of groups at province scale
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts, ends = np.full(len(ids), None, dtype=object), np.full(len(ids), None, dtype=object)
    ranged = " AND ".join([*where, "(active_from IS NOT NULL OR active_to IS NOT NULL)"])
    statement = text(f"SELECT id, active_from, active_to FROM unit WHERE {ranged}").bindparams(**params)
    bounds = fetch_tuples(session, statement)
    if bounds:
        units, firsts, lasts = zip(*bounds, strict=True)
        at = np.searchsorted(ids, np.asarray(units, dtype="int64"))
        starts[at], ends[at] = objects(firsts), objects(lasts)

    def spread(part: int) -> pd.Series:  # each group's township or type, for its units, in id order
        return pd.Series(np.repeat(objects([group[part] for group in groups]), sizes)[order], dtype=object)

    return pd.DataFrame(
        {
            "id": ids,
            "type": spread(1),
            "town": spread(0),
            "active_from": pd.Series(starts, dtype=object),
            "active_to": pd.Series(ends, dtype=object),
        }
    )


def month_counts(session: Session, month: str, units: np.ndarray | None = None) -> np.ndarray:
    """unit_id, held (不予认定 left out), held by the deadline and 不予认定 of one month, as an n × 4 array
    in unit order (the table's key); of the given `units` only (ids), or of every unit."""
    source = "FROM unitmonth WHERE month = :month"
    params: dict[str, object] = {"month": month}
    if units is not None:
        clause, more = among(session, "unit_id", units)
        source, params = f"{source} AND {clause}", {**params, **more}
    counts = fetch_int_columns(
        session,
        ("unit_id", "activities - not_recognised", "on_time - not_recognised_on_time", "not_recognised"),
        source,
        params,
    )
    return counts[np.argsort(counts[:, 0], kind="stable")]


def compute(session: Session, months: Iterable[str], *, counts: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The sums of the given months from the unit × month table (or `counts`, as in refresh), the
    roster and the quota rules.

    Only well-formed months: a malformed one an older version stored has no quota and no unit is
    active in it. Groups whose sums are all 0 are left out.
    """
    wanted = sorted({m for m in months if WELL_FORMED_MONTH.match(m)})
    units = roster(session)
    if not wanted or units.empty:
        return _empty()
    quotas = quota_grid(session=session, units=units, months=wanted)
    active = active_grid(units, wanted)
    ids = units["id"].to_numpy()
    # Each unit's (township, type) as a group number; each sum lands at month × groups + group.
    groups, labels = pd.factorize(units["town"].astype(str) + "\x1f" + units["type"].astype(str))
    size = len(wanted) * len(labels)
    totals = {name: np.zeros(size, dtype="int64") for name in SUMS}
    for column, month in enumerate(wanted):
        held_in = counts[month] if counts is not None and month in counts else month_counts(session, month)
        row = np.minimum(np.searchsorted(ids, held_in[:, 0]), len(ids) - 1)
        known = (ids[row] == held_in[:, 0]) & active[row, column]
        row, held_in = row[known], held_in[known]
        quota = quotas[row, column]
        held, timely = held_in[:, 1], held_in[:, 2]
        at = column * len(labels) + groups[row]
        for name, values in (
            ("held", held),
            ("not_recognised", held_in[:, 3]),
            ("capped", np.minimum(held, quota)),
            ("met", (quota > 0) & (held >= quota)),
            ("on_time_met", (quota > 0) & (timely >= quota)),
        ):
            totals[name] += np.bincount(at, weights=values, minlength=size).astype("int64")
    filled = np.flatnonzero(np.any([totals[name] != 0 for name in SUMS], axis=0))
    town_type = [str(labels[i]).split("\x1f") for i in filled % len(labels)]
    out = pd.DataFrame(
        {
            "month": pd.Series([wanted[i] for i in filled // len(labels)], dtype=object),
            "town": pd.Series([t for t, _ in town_type], dtype=object),
            "unit_type": pd.Series([k for _, k in town_type], dtype=object),
            **{name: totals[name][filled] for name in SUMS},
        }
    )
    return out.sort_values(list(KEY)).reset_index(drop=True) if len(out) else _empty()


def stored(session: Session, months: Iterable[str] | None = None) -> pd.DataFrame:
    """The table as it stands (for the given months, or all)."""
    names = ", ".join([*KEY, *SUMS])
    statement = f"SELECT {names} FROM townmonth"
    params: dict[str, object] = {}
    if months is not None:
        wanted = sorted(set(months))
        if not wanted:
            return _empty()
        statement += " WHERE month >= :first AND month <= :last"
        params = {"first": wanted[0], "last": wanted[-1]}
    rows = fetch_tuples(session, text(statement).bindparams(**params))
    frame = pd.DataFrame.from_records(rows, columns=[*KEY, *SUMS])
    if months is not None:
        frame = frame[frame["month"].isin(set(months))]
    return frame.astype(dict.fromkeys(SUMS, "int64")).reset_index(drop=True)


def refresh(session: Session, months: Iterable[str], *, counts: Mapping[str, np.ndarray] | None = None) -> None:
    """Replace the sums of these months by a recomputation, in the caller's transaction.

    `counts`: the unit × month counts of some of the months, as month_counts would read them,
    from a caller that has just written them whole (an import into months that held none).

    On PostgreSQL, refreshes take turns (a transaction-scoped advisory lock), and each reads the
    counts only once it has its turn: two imports committing at once into the same month cannot
    each write sums that miss the other's rows.
    """
    wanted = sorted(set(months))
    if not wanted:
        return
    connection = session.connection()
    _take_turn(connection)
    fresh = compute(session, wanted, counts=counts)
    gone = text("DELETE FROM townmonth WHERE month IN :months").bindparams(bindparam("months", expanding=True))
    connection.execute(gone, {"months": wanted})
    _insert(connection, fresh)


def rebuild(session: Session) -> int:
    """Replace the whole table by a recomputation, in the caller's transaction; rows written.

    For a roster or quota change, which can move any month's sums."""
    connection = session.connection()
    _take_turn(connection)
    months = [m for (m,) in fetch_tuples(session, text("SELECT DISTINCT month FROM unitmonth"))]
    fresh = compute(session, months)
    connection.execute(text("DELETE FROM townmonth"))
    _insert(connection, fresh)
    return len(fresh)


@dataclass(frozen=True)
class Difference:
    month: str
    town: str
    unit_type: str
    column: str
    stored: int
    actual: int


def differences(session: Session) -> list[Difference]:
    """Where the table differs from a recomputation (a row of zeros and a missing row are the same)."""
    months = [m for (m,) in fetch_tuples(session, text("SELECT DISTINCT month FROM unitmonth"))]
    keyed = stored(session).set_index(list(KEY))
    actual = compute(session, months).set_index(list(KEY))
    index = keyed.index.union(actual.index)
    keyed, actual = keyed.reindex(index, fill_value=0), actual.reindex(index, fill_value=0)
    out = []
    for column in SUMS:
        wrong = keyed[column] != actual[column]
        for (month, town, unit_type), was, should in zip(
            keyed.index[wrong], keyed.loc[wrong, column], actual.loc[wrong, column], strict=True
        ):
            out.append(Difference(str(month), str(town), str(unit_type), column, int(was), int(should)))
    return sorted(out, key=lambda d: (d.month, d.town, d.unit_type, SUMS.index(d.column)))


def _take_turn(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})


def _insert(connection: Connection, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    names = ", ".join([*KEY, *SUMS])
    marks = ", ".join(f":{c}" for c in [*KEY, *SUMS])
    connection.execute(text(f"INSERT INTO townmonth ({names}) VALUES ({marks})"), frame.to_dict("records"))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({**{k: pd.Series(dtype=object) for k in KEY}, **{s: pd.Series(dtype="int64") for s in SUMS}})
