"""Figures of SPEC §4: completion, capped and compliance rates, streaks, interviews, laggards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.calendar import BadPeriod, last_finished_month, month_range
from monitor.core.config import UNIT_TYPES
from monitor.core.models import Activity
from monitor.core.query import Query
from monitor.counts import unitmonths
from monitor.figures import summary
from monitor.figures.held import held_counts
from monitor.figures.summary import rate
from monitor.roster.grids import WELL_FORMED_MONTH, active_grid, quota_grid
from monitor.roster.units import units_frame
from monitor.store.db import collector_paused


def _edge_month(session: Session, earliest: str, *, last: bool) -> str | None:
    """The first (or last) well-formed month from `earliest` on, walking the month index.

    Each step is one index seek; a malformed value ('202-06' sorts among 2019 and 2020) is
    stepped over, and there are only ever a few distinct ones.
    """
    month = col(Activity.month)
    beyond: str | None = None
    for _ in range(1000):
        statement = select(month).where(month >= earliest)
        if beyond is not None:
            statement = statement.where(month < beyond if last else month > beyond)
        found = session.exec(statement.order_by(month.desc() if last else month).limit(1)).first()
        if found is None or WELL_FORMED_MONTH.match(found):
            return found
        beyond = found
    return None


def data_months(*, session: Session, earliest: str = "2000-01") -> tuple[str | None, str | None]:
    """The first and last month that hold any activity, among well-formed months from `earliest` on.

    A row stored with a mistyped year ('202-06', '1900-01') by an older version must not stretch
    every month list and streak back by centuries.
    """
    return _edge_month(session, earliest, last=False), _edge_month(session, earliest, last=True)


def default_month(*, session: Session, today: date, earliest: str = "2000-01") -> str:
    """The last finished month that has data; the last finished month when there is none."""
    finished = last_finished_month(today)
    _, last = data_months(session=session, earliest=earliest)
    return min(finished, last) if last else finished


def unit_months(*, session: Session, query: Query, on_time: bool = True) -> pd.DataFrame:
    """One row per unit and month: quota and held, both 0 outside the active range; status.

    The query's township is the one its account may see. on_time=False leaves out the deadline
    comparison (on_time_held is then 0) for callers that only need counts.
    """
    months = query.months
    units = units_frame(session=session, town=query.town, unit_type=query.unit_type)
    # A township's counts read by its units' ids; a wider query's, month by month whole.
    held = held_counts(
        session=session,
        start=months[0],
        end=months[-1],
        settings=query.settings,
        on_time=on_time,
        units=units["id"].to_numpy() if query.town else None,
    )
    # Counts land in a units × months array, so the grid is built by repeating each unit once per
    # month (units in roster order, months ascending) rather than by a cross join and a merge.
    shape = (len(units), len(months))
    counts, timely = np.zeros(shape, dtype="int64"), np.zeros(shape, dtype="int64")
    refused = np.zeros(shape, dtype="int64")
    if len(held):
        row = pd.Index(units["id"]).get_indexer(held["unit_id"])
        column = pd.Index(months).get_indexer(held["month"])
        keep = row >= 0  # groups of units outside the town/type filter
        counts[row[keep], column[keep]] = held["held"].to_numpy()[keep]
        timely[row[keep], column[keep]] = held["on_time_held"].to_numpy()[keep]
        refused[row[keep], column[keep]] = held["rejected"].to_numpy()[keep]
    repeat = np.repeat(np.arange(len(units)), len(months))
    # Text columns stay plain object arrays: converting 12 × 30,000 repeated names back to Arrow
    # strings would cost more than everything else here.
    grid = pd.DataFrame(
        {
            name: pd.Series(units[name].to_numpy(dtype=object)[repeat], dtype=object)
            if units[name].dtype == "str"
            else units[name].to_numpy()[repeat]
            for name in units.columns
        }
    )
    grid["month"] = pd.Series(np.tile(np.array(months, dtype=object), len(units)), dtype=object)
    active = active_grid(units, months).ravel()
    # Held and required over the same active months: an activity dated outside them counts for neither.
    grid["held"] = np.where(active, counts.ravel(), 0)
    grid["on_time_held"] = np.where(active, timely.ravel(), 0)
    grid["not_recognised"] = np.where(active, refused.ravel(), 0)  # 不予认定, already out of `held`
    quotas = quota_grid(session=session, units=units, months=months).ravel()
    grid["quota_month"] = np.where(active, quotas, 0).astype("int64")
    counted = grid["quota_month"] > 0
    grid["status"] = np.select(
        [~counted, grid["held"] >= grid["quota_month"], grid["held"] == 0],
        ["inactive", "met", "none"],
        default="below",
    )
    grid["below"] = counted & (grid["held"] < grid["quota_month"])
    grid["on_time"] = counted & (grid["on_time_held"] >= grid["quota_month"])
    return grid


def _sums(grid: pd.DataFrame) -> dict[str, object]:
    held, required = int(grid["held"].sum()), int(grid["quota_month"].sum())
    return {"held": held, "required": required, "completion_rate": rate(held, required)}


def _on_time(grid: pd.DataFrame) -> float | None:
    """On-time unit-months (quota met by stored-by-deadline activities) over counted unit-months."""
    counted = grid["quota_month"] > 0
    return rate(int(grid.loc[counted, "on_time"].sum()), int(counted.sum()))


def _grouped(grid: pd.DataFrame, key: str, *, on_time: bool = False) -> list[dict[str, object]]:
    """_sums (and the on-time rate) per value of `key`, in one groupby."""
    parts = grid.assign(counted=grid["quota_month"] > 0, on_time_counted=grid["on_time"] & (grid["quota_month"] > 0))
    sums = parts.groupby(key, sort=True)[["held", "quota_month", "counted", "on_time_counted"]].sum()
    out = []
    for name, row in sums.iterrows():
        item: dict[str, object] = {
            key: name,
            "held": int(row["held"]),
            "required": int(row["quota_month"]),
            "completion_rate": rate(int(row["held"]), int(row["quota_month"])),
        }
        if on_time:
            item["on_time_rate"] = rate(int(row["on_time_counted"]), int(row["counted"]))
        out.append(item)
    return out


@dataclass
class Report:
    """A period's figures: `to_json` from the township sums when they follow the settings' deadline,
    `grid` (one row per unit and month) built on first use, for the screens that list units."""

    start: str
    end: str
    load: Callable[[], pd.DataFrame] = field(repr=False)
    doc: dict[str, object] | None = field(default=None, repr=False)

    @cached_property
    def grid(self) -> pd.DataFrame:
        return self.load()

    def to_json(self) -> dict[str, object]:
        if self.doc is not None:
            return _copied(self.doc)
        return grid_json(self.start, self.end, self.grid)


def _copied(doc: dict[str, object]) -> dict[str, object]:
    """A copy of a report document for the caller to keep or change: its lists and dicts new, its
    numbers and texts shared. copy.deepcopy of a province's (2,000 townships) took 22 ms."""
    out: dict[str, object] = {}
    for key, value in doc.items():
        if isinstance(value, list):
            out[key] = [dict(item) for item in value]
        elif isinstance(value, dict):
            out[key] = {name: dict(item) for name, item in value.items()}
        else:
            out[key] = value
    return out


def grid_json(start: str, end: str, full: pd.DataFrame) -> dict[str, object]:
    """The report document from a unit_months grid: how it was computed before the township sums,
    and still is when they follow another deadline day than the settings'."""
    grid = full[["id", "type", "town", "month", "held", "quota_month", "on_time", "not_recognised"]]
    counted = grid["quota_month"] > 0
    doc: dict[str, object] = {
        "start": start,
        "end": end,
        "units": int(grid.loc[counted, "id"].nunique()),
        **_sums(grid),
        "not_recognised": int(grid["not_recognised"].sum()),
    }
    capped = np.minimum(grid["held"], grid["quota_month"]).sum()
    doc["capped_rate"] = rate(capped, doc["required"])  # type: ignore[arg-type]
    doc["compliance_rate"] = rate(int((counted & (grid["held"] >= grid["quota_month"])).sum()), counted.sum())
    doc["on_time_rate"] = _on_time(grid)
    by_type = grid.assign(counted_id=grid["id"].where(counted)).groupby("type")
    sums = by_type.agg(units=("counted_id", "nunique"), held=("held", "sum"), required=("quota_month", "sum"))
    doc["by_type"] = {
        t: {
            "units": int(sums.at[t, "units"]),
            "held": int(sums.at[t, "held"]),
            "required": int(sums.at[t, "required"]),
            "completion_rate": rate(int(sums.at[t, "held"]), int(sums.at[t, "required"])),
        }
        for t in UNIT_TYPES
        if t in sums.index
    }
    towns = grid[grid["town"] != ""]
    doc["by_town"] = _grouped(towns, "town", on_time=True)
    doc["by_month"] = _grouped(grid, "month")
    return doc


def report(*, session: Session, query: Query) -> Report:
    """Held against required over the query's months, township and unit type."""
    months = query.months

    def load() -> pd.DataFrame:
        return unit_months(session=session, query=query)

    doc = None
    if unitmonths.deadline_day(session) == query.settings.deadline_day:
        with collector_paused():
            doc = summary.report_doc(
                session=session,
                months=months,
                start=query.start,
                end=query.end,
                town=query.town,
                unit_type=query.unit_type,
            )
    return Report(start=query.start, end=query.end, load=load, doc=doc)


def with_streaks(grid: pd.DataFrame) -> pd.DataFrame:
    """Add `streak`: consecutive below-quota months ending at each row's month, per unit."""
    grid = grid.copy()
    if grid.empty:
        grid["streak"] = pd.Series(dtype="int64")
        return grid
    # Work on the (unit, month)-ordered arrays and write the result back in the frame's own order,
    # so the many text columns are never reordered.
    order = np.lexsort((grid["month"].to_numpy(dtype=object).astype(str), grid["id"].to_numpy()))
    unit = grid["id"].to_numpy()[order]
    below = grid["below"].to_numpy(dtype=bool)[order]
    run = pd.Series(~below).groupby(unit).cumsum().to_numpy()
    streak = pd.Series(below.astype("int64")).groupby([unit, run]).cumsum().to_numpy()
    out = np.empty(len(grid), dtype="int64")
    out[order] = streak
    grid["streak"] = out
    return grid


def streak_months(*, session: Session, query: Query, on_time: bool = True, first: str | None = None) -> pd.DataFrame:
    """unit_months of the query's months with each unit-month's streak (SPEC §4), the one definition.

    A streak counts back through every month since the first month that holds any data, not
    only from the query's start: 单位明细, a unit's history and 约谈名单 give one unit the same
    streak. Months before the district started reporting are not held against anyone.
    """
    if first is None:  # the first month with data, unless the caller has just read it
        first, _ = data_months(session=session, earliest=f"{query.settings.earliest_year:04d}-01")
    since = min(first, query.start) if first else query.start
    grid = with_streaks(unit_months(session=session, query=query.over(since, query.end), on_time=on_time))
    return grid[grid["month"] >= query.start].reset_index(drop=True)


def interviews(*, session: Session, query: Query, min_streak: int = 2) -> pd.DataFrame:
    """Units whose streak at the query's last month is at least min_streak, longest first."""
    if min_streak < 1:
        raise BadPeriod("连续未达标月数至少为 1。")
    first, start = _since_first(session, query)
    with collector_paused():
        return summary.due_units(
            session=session,
            months=month_range(start, query.month),
            min_streak=min_streak,
            town=query.town,
            unit_type=query.unit_type,
        )


def streaks(*, session: Session, query: Query) -> pd.Series:
    """Each unit's streak at the query's last month (SPEC §4), by unit id: interviews' walk without
    the list, for the screens that need the runs and not who is due."""
    _, start = _since_first(session, query)
    with collector_paused():
        walk = summary.runs(
            session=session, months=month_range(start, query.month), town=query.town, unit_type=query.unit_type
        )
    return pd.Series(walk.streak, index=walk.ids, name="streak")


def _since_first(session: Session, query: Query) -> tuple[str | None, str]:
    """The first month with data, and where a streak reaching the query's last month may start."""
    first, _ = data_months(session=session, earliest=f"{query.settings.earliest_year:04d}-01")
    return first, min(first, query.month) if first else query.month


def interviews_from_grid(*, session: Session, query: Query, min_streak: int = 2) -> pd.DataFrame:
    """interviews from the whole unit × month grid (streak_months): the definition the list is held to."""
    first, start = _since_first(session, query)
    grid = streak_months(session=session, query=query.over(start, query.month), on_time=False, first=first)
    now = grid[grid["month"] == query.month]
    due = now[now["streak"] >= min_streak].copy()
    # A streak never reaches back past the grid's first month.
    return summary.interview_list(due.assign(quota=due["quota_month"]), month_range(start, query.month))


def laggards(*, session: Session, query: Query, below: int) -> pd.DataFrame:
    """Units active in the query's months whose total held is below `below` (cumulative laggards)."""
    if below < 0:
        raise BadPeriod("“少于 N 场”中的 N 不能为负数。")
    grid = unit_months(session=session, query=query, on_time=False)
    totals = grid.groupby("id").agg(
        code=("code", "first"),
        name=("name", "first"),
        type=("type", "first"),
        town=("town", "first"),
        held=("held", "sum"),
        required=("quota_month", "sum"),
    )
    result = totals[(totals["required"] > 0) & (totals["held"] < below)]
    return result.sort_values(["held", "town", "code"]).reset_index()
