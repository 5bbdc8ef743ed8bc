"""Activities held per (unit, month), 不予认定 left out: from the unit × month table, or from the activity
rows when the table's on-time counts follow another deadline day than the settings'."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import case, func, literal
from sqlmodel import Session, col, select

from monitor.core.calendar import deadlines, month_range
from monitor.core.config import Settings
from monitor.core.models import Activity, Review
from monitor.counts import townmonths, unitmonths
from monitor.store.db import fetch_tuples


def held_counts(
    *, session: Session, start: str, end: str, settings: Settings, on_time: bool = True, units: np.ndarray | None = None
) -> pd.DataFrame:
    """Activities held per (unit, month) in the range (不予认定 left out), how many of them were stored by
    the month's deadline, and how many were 不予认定: read from the unit × month table, of the given
    `units` (ids: a township's, where reading the whole province's counts would cost a hundredfold)
    or of every unit.

    One read per month over the table's (month, unit_id) key, in unit order. When the table's
    on-time counts follow another deadline day than the settings' (the setting was changed since),
    the on-time counts come from the activity rows until `python -m monitor check --repair`.
    """
    if on_time and unitmonths.deadline_day(session) != settings.deadline_day:
        return held_from_activities(session=session, start=start, end=end, settings=settings)
    months = month_range(start, end)
    parts, labels = [], []
    for month in months:
        rows = townmonths.month_counts(session, month, units)
        if not on_time:
            rows[:, 2] = 0
        if len(rows):
            parts.append(rows)
            labels.append(np.full(len(rows), month, dtype=object))
    values = np.concatenate(parts) if parts else np.zeros((0, 4), dtype="int64")
    return pd.DataFrame(
        {
            "month": pd.Series(np.concatenate(labels) if labels else [], dtype=object),
            "unit_id": values[:, 0],
            "held": values[:, 1],
            "on_time_held": values[:, 2],
            "rejected": values[:, 3],
        }
    )


def held_from_activities(
    *, session: Session, start: str, end: str, settings: Settings, on_time: bool = True
) -> pd.DataFrame:
    """held_counts from the activity rows themselves: how the figures were read before the unit × month
    table, and still are when its on-time counts follow another deadline day than the settings'.

    One GROUP BY unit per month over the (month, unit_id, stored_at) index, which covers the
    query and hands the groups over in unit order; each month's deadline is a plain parameter.
    Activities not recognised are few, read apart and taken off.
    """
    months = month_range(start, end)
    due = deadlines(months, deadline_day=settings.deadline_day)
    parts, labels = [], []
    for month in months:
        timely = func.sum(case((col(Activity.stored_at) <= due[month], 1), else_=0)) if on_time else literal(0)
        statement = (
            select(Activity.unit_id, func.count(), timely)
            .where(col(Activity.month) == month)
            .group_by(col(Activity.unit_id))
        )
        rows = fetch_tuples(session, statement)
        if rows:
            parts.append(np.asarray(rows, dtype="int64").reshape(len(rows), 3))
            labels.append(np.full(len(rows), month, dtype=object))
    values = np.concatenate(parts) if parts else np.zeros((0, 3), dtype="int64")
    held = pd.DataFrame(
        {
            "month": pd.Series(np.concatenate(labels) if labels else [], dtype=object),
            "unit_id": values[:, 0],
            "held": values[:, 1],
            "on_time_held": values[:, 2],
        }
    )
    rejected = rejected_counts(session=session, months=months, due=due if on_time else None)
    held["rejected"] = 0
    if len(rejected):
        held = held.set_index(["unit_id", "month"])
        taken = rejected.set_index(["unit_id", "month"]).reindex(held.index, fill_value=0)
        held["held"] -= taken["rejected"]
        held["on_time_held"] -= taken["on_time_rejected"]
        held["rejected"] = taken["rejected"]
        held = held.reset_index()[["month", "unit_id", "held", "on_time_held", "rejected"]]
    return held


def rejected_counts(*, session: Session, months: list[str], due: dict[str, datetime] | None) -> pd.DataFrame:
    """Activities 不予认定 per (unit, month), and how many of them were stored by the month's deadline."""
    rows = fetch_tuples(
        session,
        select(Activity.unit_id, Activity.month, Activity.stored_at)
        .join(Review, col(Review.activity_id) == col(Activity.id))
        .where(col(Review.decision) == "rejected", col(Activity.month) >= months[0], col(Activity.month) <= months[-1]),
    )
    frame = pd.DataFrame.from_records(rows, columns=["unit_id", "month", "stored_at"])
    if frame.empty:
        return pd.DataFrame(columns=["unit_id", "month", "rejected", "on_time_rejected"])
    stored = pd.to_datetime(frame["stored_at"], utc=True)  # SQLite: naive UTC; PostgreSQL: aware
    limit = pd.to_datetime(frame["month"].map(due), utc=True) if due else None
    frame["timely"] = (stored <= limit).astype("int64") if limit is not None else 0
    grouped = frame.groupby(["unit_id", "month"]).agg(
        rejected=("stored_at", "size"), on_time_rejected=("timely", "sum")
    )
    return grouped.reset_index()
