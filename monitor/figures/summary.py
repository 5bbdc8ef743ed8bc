"""The report's figures and the interview list read without building a unit × month frame.

What the roster and quota rules give (required, unit-months counted, units counted) is computed
from a narrow read of the roster; what depends on the activities comes from the township sums
(monitor.counts.townmonths) for the report, and from the unit × month counts of only the units still
on a run for the interview list, walking back a month at a time. The results are the same as
those of metrics.unit_months and metrics.streak_months, which the tests hold them to.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from monitor.core.config import UNIT_TYPES
from monitor.counts import townmonths
from monitor.roster.grids import active_grid, objects, quota_grid
from monitor.store.db import among, fetch_int_columns, fetch_tuples

DETAILS = ["id", "code", "name", "type", "town", "head", "phone"]
LIST_COLUMNS = ["id", "code", "name", "type", "town", "streak", "head", "phone", "held", "quota", "months_missed"]


def rate(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when there is nothing to divide by."""
    return float(numerator) / float(denominator) if denominator else None


class _Sums(NamedTuple):
    """The township sums of a period, added up by the database: over the whole period (`total`, each
    of townmonths.SUMS), per month (held), per unit type (held) and per township (held, on-time)."""

    total: dict[str, int]
    month_held: dict[str, int]
    type_held: dict[str, int]
    towns: dict[str, tuple[int, int]]


class _Period(NamedTuple):
    """What report_doc reads of a period: the roster, each unit-month's quota (0 outside the active
    range, units × months), which unit-months count, and the township sums."""

    units: pd.DataFrame
    months: list[str]
    quotas: np.ndarray
    counted: np.ndarray
    sums: _Sums


def report_doc(
    *, session: Session, months: list[str], start: str, end: str, town: str | None, unit_type: str | None
) -> dict[str, object]:
    """metrics.Report.to_json of the period, from the roster and the township sums."""
    units = townmonths.roster(session, town=town, unit_type=unit_type)
    doc: dict[str, object] = {"start": start, "end": end}
    quotas = np.where(active_grid(units, months), quota_grid(session=session, units=units, months=months), 0)
    counted = quotas > 0
    sums = _sums(session, months, town=town, unit_type=unit_type)
    period = _Period(units=units, months=months, quotas=quotas, counted=counted, sums=sums)
    total, required = sums.total, int(quotas.sum())
    doc.update(
        units=int(counted.any(axis=1).sum()),
        held=total["held"],
        required=required,
        completion_rate=rate(total["held"], required),
        not_recognised=total["not_recognised"],
        capped_rate=rate(total["capped"], required),
        compliance_rate=rate(total["met"], int(counted.sum())),
        on_time_rate=rate(total["on_time_met"], int(counted.sum())),
    )
    doc["by_type"] = _by_type(period)
    doc["by_town"] = _by_town(period)
    doc["by_month"] = _by_month(period)
    return doc


def _by_type(period: _Period) -> dict[str, dict[str, object]]:
    """Units counted, held, required and completion rate per unit type present in the roster."""
    units, quotas, counted, sums = period.units, period.quotas, period.counted, period.sums
    types = units["type"].to_numpy(dtype=object)
    by_type: dict[str, dict[str, object]] = {}
    for kind in UNIT_TYPES:
        mine = types == kind
        if not mine.any():
            continue
        kind_held = sums.type_held.get(kind, 0)
        kind_required = int(quotas[mine].sum())
        by_type[kind] = {
            "units": int(counted[mine].any(axis=1).sum()),
            "held": kind_held,
            "required": kind_required,
            "completion_rate": rate(kind_held, kind_required),
        }
    return by_type


def _by_town(period: _Period) -> list[dict[str, object]]:
    """Held, required, completion and on-time rates per named township, in township order."""
    units, quotas, counted, towns = period.units, period.quotas, period.counted, period.sums.towns
    codes, names = pd.factorize(units["town"].to_numpy(dtype=object))
    required_by_town = np.bincount(codes, weights=quotas.sum(axis=1), minlength=len(names)).astype("int64").tolist()
    counted_by_town = np.bincount(codes, weights=counted.sum(axis=1), minlength=len(names)).astype("int64").tolist()
    # Plain lists and dicts in the loop below: a pandas lookup per township costs more than the
    # district's whole arithmetic.
    by_town = []
    for position in np.argsort(np.asarray(names, dtype=object), kind="stable").tolist():
        name = names[position]
        if name == "":
            continue
        town_held, town_on_time = towns.get(name, (0, 0))
        town_required = required_by_town[position]
        by_town.append(
            {
                "town": name,
                "held": town_held,
                "required": town_required,
                "completion_rate": rate(town_held, town_required),
                "on_time_rate": rate(town_on_time, counted_by_town[position]),
            }
        )
    return by_town


def _by_month(period: _Period) -> list[dict[str, object]]:
    """Held, required and completion rate per month; none when the roster holds no unit."""
    months, month_held = period.months, period.sums.month_held
    month_required = period.quotas.sum(axis=0).tolist()
    return (
        [
            {
                "month": month,
                "held": month_held.get(month, 0),
                "required": int(month_required[j]),
                "completion_rate": rate(month_held.get(month, 0), int(month_required[j])),
            }
            for j, month in enumerate(months)
        ]
        if len(period.units)
        else []
    )


def _sums(session: Session, months: list[str], *, town: str | None, unit_type: str | None) -> _Sums:
    """The township sums of the period, of a township and/or type, added up by the database.

    Two queries: per month (in the table's key order, the types summed side by side: a GROUP BY
    month and type would sort), and per township. A province's 48,000 township-month rows read as
    tuples and summed here took three times as long.
    """
    where, params = townmonths.narrowed(town, unit_type, type_column="unit_type")
    where += ["month >= :first", "month <= :last"]
    params.update(first=months[0], last=months[-1])
    source = f"FROM townmonth WHERE {' AND '.join(where)}"
    kinds = {f"kind{i}": kind for i, kind in enumerate(UNIT_TYPES)}
    per_type = [f"sum(CASE WHEN unit_type = :{key} THEN held ELSE 0 END)" for key in kinds]
    totals = ", ".join(f"sum({name})" for name in townmonths.SUMS)
    by_month = fetch_tuples(
        session,
        text(f"SELECT month, {totals}, {', '.join(per_type)} {source} GROUP BY month").bindparams(**params, **kinds),
    )
    by_town = fetch_tuples(
        session, text(f"SELECT town, sum(held), sum(on_time_met) {source} GROUP BY town").bindparams(**params)
    )
    width = len(townmonths.SUMS)
    total = [sum(int(row[1 + i]) for row in by_month) for i in range(width)]
    return _Sums(
        total=dict(zip(townmonths.SUMS, total, strict=True)),
        month_held={row[0]: int(row[1]) for row in by_month},
        type_held={kind: sum(int(row[1 + width + i]) for row in by_month) for i, kind in enumerate(UNIT_TYPES)},
        towns={row[0]: (int(row[1]), int(row[2])) for row in by_town},
    )


class _Walk(NamedTuple):
    """The walk back of due_units: the units in scope (ids ascending), each one's run of below-quota
    months reaching the last month (0: none), what it held then and its quota then."""

    ids: np.ndarray
    streak: np.ndarray
    held_now: np.ndarray
    quota_now: np.ndarray


def runs(*, session: Session, months: list[str], town: str | None, unit_type: str | None) -> _Walk:
    """Each unit's run of below-quota months reaching the last of `months` (the months since the first
    with data), of a township and/or type.

    Only units still on a run are read for each earlier month, so the walk back costs what the
    runs are long, not what the history is.
    """
    units = townmonths.roster(session, town=town, unit_type=unit_type)
    ids = units["id"].to_numpy()
    quotas = quota_grid(session=session, units=units, months=months)
    counted = active_grid(units, months) & (quotas > 0)
    streak = np.zeros(len(units), dtype="int64")
    running = counted[:, -1].copy() if len(months) else np.zeros(0, dtype=bool)
    held_now = np.zeros(len(units), dtype="int64")
    for column in range(len(months) - 1, -1, -1):
        if not running.any():
            break
        held = _held(session, months[column], ids, running, township=town is not None)
        if column == len(months) - 1:
            held_now = held
        running &= counted[:, column] & (held < quotas[:, column])
        streak += running
    quota_now = quotas[:, -1] if len(months) else np.zeros(len(units), dtype="int64")
    return _Walk(ids=ids, streak=streak, held_now=held_now, quota_now=quota_now)


def due_units(
    *, session: Session, months: list[str], min_streak: int, town: str | None, unit_type: str | None
) -> pd.DataFrame:
    """The interview list at the last of `months` (the months since the first with data): units whose
    run of below-quota months reaching it is at least min_streak, longest first."""
    walk = runs(session=session, months=months, town=town, unit_type=unit_type)
    due = np.flatnonzero(walk.streak >= min_streak)
    frame = pd.DataFrame(
        {
            **_details(session, walk.ids[due]),
            "streak": walk.streak[due],
            "held": walk.held_now[due],
            "quota": walk.quota_now[due],
        }
    )
    return interview_list(frame, months)


def interview_list(due: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Units due for interview, with the months each missed, longest run first (then type, township, code)."""
    order = {t: i for i, t in enumerate(UNIT_TYPES)}
    streaks = due["streak"].to_numpy(dtype="int64")
    # One lexsort of plain arrays: a district's list is a few rows, where pandas' sort and column
    # assignments would cost more than the whole walk back.
    keys = [pd.factorize(due[name].to_numpy(dtype=object), sort=True)[0] for name in ("code", "town")]
    types = np.asarray([order.get(kind, len(order)) for kind in due["type"].tolist()], dtype="int64")
    ranked = due.take(np.lexsort((*keys, types, -streaks)))
    return pd.DataFrame(
        {
            **{name: ranked[name].to_numpy() for name in LIST_COLUMNS[:-1]},
            "months_missed": [months[len(months) - s :] for s in ranked["streak"].tolist()],
        }
    )


def _held(session: Session, month: str, ids: np.ndarray, wanted: np.ndarray, *, township: bool = False) -> np.ndarray:
    """What each unit (in `ids` order) held in the month, 不予认定 left out; read only for the `wanted`
    ones when they are few, or when `ids` are a township's (a few among the whole table's)."""
    held = np.zeros(len(ids), dtype="int64")
    source = "FROM unitmonth WHERE month = :month"
    params: dict[str, object] = {"month": month}
    if township or _by_id(int(wanted.sum()), len(ids)):  # the key probed per id
        clause, more = among(session, "unit_id", ids[wanted])
        source, params = f"{source} AND {clause}", {**params, **more}
    found = fetch_int_columns(session, ("unit_id", "activities - not_recognised"), source, params)
    if len(found):
        position = np.minimum(np.searchsorted(ids, found[:, 0]), len(ids) - 1)
        known = ids[position] == found[:, 0]
        held[position[known]] = found[known, 1]
    return held


def _by_id(wanted: int, units: int) -> bool:
    """Whether to read a month's counts of these units by id rather than the month whole: when they
    are fewer than an eighth (beyond that, looking each one up costs more than reading them all)."""
    return wanted * 8 <= units


def _details(session: Session, ids: np.ndarray) -> dict[str, np.ndarray]:
    """code, name, type, township, head and phone of these units (ids in ascending order), as columns
    in the same order."""
    clause, params = among(session, "id", ids)
    statement = text(f"SELECT {', '.join(DETAILS)} FROM unit WHERE {clause} ORDER BY id").bindparams(**params)
    rows = fetch_tuples(session, statement)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(DETAILS)
    out = {name: objects(values) for name, values in zip(DETAILS[1:], columns[1:], strict=True)}
    return {"id": np.asarray(columns[0], dtype="int64"), **out}
