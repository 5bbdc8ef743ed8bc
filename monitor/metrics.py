"""Figures of SPEC §4: completion, capped and compliance rates, streaks, interviews, laggards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.config import UNIT_TYPES
from monitor.models import Activity
from monitor.units import units_frame


class BadPeriod(ValueError):
    """A month or range that is not YYYY-MM, or ends before it starts."""


def parse_month_arg(text: str) -> str:
    try:
        year, month = text.split("-")
        if len(year) != 4 or not 1 <= int(month) <= 12:
            raise ValueError
        return f"{int(year):04d}-{int(month):02d}"
    except ValueError as exc:
        raise BadPeriod(f"月份“{text}”格式不对，应为 YYYY-MM，如 2025-03。") from exc


def month_range(start: str, end: str) -> list[str]:
    start, end = parse_month_arg(start), parse_month_arg(end)
    if start > end:
        raise BadPeriod(f"起始月份 {start} 晚于结束月份 {end}。")
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def shift_month(month: str, months: int) -> str:
    return (pd.Period(month, freq="M") + months).strftime("%Y-%m")


def last_finished_month(today: date) -> str:
    return shift_month(today.strftime("%Y-%m"), -1)


def data_months(*, session: Session) -> tuple[str | None, str | None]:
    """The first and last month that hold any activity."""
    first, last = session.exec(select(func.min(Activity.month), func.max(Activity.month))).one()
    return first, last


def default_month(*, session: Session, today: date) -> str:
    """The last finished month that has data; the last finished month when there is none."""
    finished = last_finished_month(today)
    _, last = data_months(session=session)
    return min(finished, last) if last else finished


def held_counts(*, session: Session, start: str, end: str) -> pd.DataFrame:
    """Activities per (unit, month) in the range: one GROUP BY over the month index."""
    statement = (
        select(Activity.month, Activity.unit_id, func.count())
        .where(col(Activity.month) >= start, col(Activity.month) <= end)
        .group_by(Activity.month, Activity.unit_id)
    )
    rows = session.exec(statement).all()
    return pd.DataFrame(rows, columns=["month", "unit_id", "held"]).astype({"held": "int64"})


def unit_months(
    *, session: Session, start: str, end: str, town: str | None = None, unit_type: str | None = None
) -> pd.DataFrame:
    """One row per unit and month: quota (0 outside the active range), held, status."""
    months = month_range(start, end)
    units = units_frame(session=session, town=town, unit_type=unit_type)
    grid = units.merge(pd.DataFrame({"month": months}), how="cross")
    held = held_counts(session=session, start=months[0], end=months[-1])
    grid = grid.merge(held, left_on=["id", "month"], right_on=["unit_id", "month"], how="left")
    grid["held"] = grid["held"].fillna(0).astype("int64")
    active_from = grid["active_from"].fillna("")
    active_to = grid["active_to"].fillna("")
    active = ((active_from == "") | (grid["month"] >= active_from)) & ((active_to == "") | (grid["month"] <= active_to))
    grid["quota_month"] = np.where(active, grid["monthly_quota"], 0).astype("int64")
    counted = grid["quota_month"] > 0
    grid["status"] = np.select(
        [~counted, grid["held"] >= grid["quota_month"], grid["held"] == 0],
        ["inactive", "met", "none"],
        default="below",
    )
    grid["below"] = counted & (grid["held"] < grid["quota_month"])
    return grid.drop(columns=["unit_id"])


def _rate(numerator: float, denominator: float) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def _sums(grid: pd.DataFrame) -> dict[str, object]:
    held, required = int(grid["held"].sum()), int(grid["quota_month"].sum())
    return {"held": held, "required": required, "completion_rate": _rate(held, required)}


@dataclass
class Report:
    start: str
    end: str
    grid: pd.DataFrame

    def to_json(self) -> dict[str, object]:
        grid = self.grid
        counted = grid[grid["quota_month"] > 0]
        unit_ids = counted["id"].unique()
        doc: dict[str, object] = {"start": self.start, "end": self.end, "units": int(len(unit_ids)), **_sums(grid)}
        capped = np.minimum(grid["held"], grid["quota_month"]).sum()
        doc["capped_rate"] = _rate(capped, doc["required"])  # type: ignore[arg-type]
        doc["compliance_rate"] = _rate(int((counted["held"] >= counted["quota_month"]).sum()), len(counted))
        doc["by_type"] = {
            t: {"units": int(counted.loc[counted["type"] == t, "id"].nunique()), **_sums(grid[grid["type"] == t])}
            for t in UNIT_TYPES
            if (grid["type"] == t).any()
        }
        towns = grid[grid["town"] != ""]
        doc["by_town"] = [{"town": town, **_sums(part)} for town, part in towns.groupby("town", sort=True)]
        doc["by_month"] = [{"month": month, **_sums(part)} for month, part in grid.groupby("month", sort=True)]
        return doc


def report(
    *, session: Session, start: str, end: str, town: str | None = None, unit_type: str | None = None
) -> Report:
    """Held against required over a period, for a township and/or unit type."""
    grid = unit_months(session=session, start=start, end=end, town=town, unit_type=unit_type)
    return Report(start=parse_month_arg(start), end=parse_month_arg(end), grid=grid)


def with_streaks(grid: pd.DataFrame) -> pd.DataFrame:
    """Add `streak`: consecutive below-quota months ending at each row's month, per unit."""
    grid = grid.sort_values(["id", "month"]).copy()
    below = grid["below"].astype(bool)
    run = (~below).groupby(grid["id"]).cumsum()
    grid["streak"] = below.groupby([grid["id"], run]).cumsum().astype("int64")
    return grid


def interviews(
    *, session: Session, month: str, min_streak: int = 2, town: str | None = None, unit_type: str | None = None
) -> pd.DataFrame:
    """Units whose streak at `month` is at least min_streak, longest first.

    Streaks count back no further than the first month that holds any data: months before the
    district started reporting are not held against anyone.
    """
    month = parse_month_arg(month)
    first, _ = data_months(session=session)
    start = min(first, month) if first else month
    grid = with_streaks(unit_months(session=session, start=start, end=month, town=town, unit_type=unit_type))
    now = grid[grid["month"] == month]
    due = now[now["streak"] >= min_streak].copy()
    missed = grid[grid["below"]].groupby("id")["month"].apply(list)
    due["months_missed"] = [missed.get(i, [])[-s:] for i, s in zip(due["id"], due["streak"], strict=True)]
    due = due.rename(columns={"quota_month": "month_quota"})
    due["quota"] = due["month_quota"]
    order = {t: i for i, t in enumerate(UNIT_TYPES)}
    due["type_order"] = due["type"].map(order)
    due = due.sort_values(["streak", "type_order", "town", "code"], ascending=[False, True, True, True])
    return due[["id", "code", "name", "type", "town", "streak", "head", "phone", "held", "quota", "months_missed"]].reset_index(drop=True)


def laggards(
    *, session: Session, start: str, end: str, below: int, town: str | None = None, unit_type: str | None = None
) -> pd.DataFrame:
    """Units active in the range whose total held is below `below` (cumulative laggards)."""
    grid = unit_months(session=session, start=start, end=end, town=town, unit_type=unit_type)
    totals = grid.groupby("id").agg(
        code=("code", "first"), name=("name", "first"), type=("type", "first"), town=("town", "first"),
        held=("held", "sum"), required=("quota_month", "sum"),
    )
    result = totals[(totals["required"] > 0) & (totals["held"] < below)]
    return result.sort_values(["held", "town", "code"]).reset_index()
