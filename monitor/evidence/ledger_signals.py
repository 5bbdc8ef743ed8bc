"""The signals read off the activities as the ledgers report them, their titles and dates
(copied_title, repeated_title, month_end_bunching), as monitor.evidence.signals defines them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.core.config import Settings
from monitor.evidence.signal_data import SignalData, iso_days, part

BUNCHING_MIN = 3  # activities in a unit-month before its share in the last days is judged
ONE_DAY_MIN = 2  # activities in a unit-month all on one day


def copied_title(data: SignalData, settings: Settings) -> pd.DataFrame:
    """copied_title: the period's station activities whose title was used at many stations on their day."""
    frame = data.activities
    stations = data.units.index[data.units["type"] == "station"]
    frame = frame[frame["month"].isin(data.months) & frame["unit_id"].isin(stations) & (frame["title_key"] != "")]
    spread = frame.groupby(["day", "title_key"])["unit_id"].transform("nunique")
    wanted = (spread >= settings.copied_title_units) & frame["unit_id"].isin(data.scope["id"])
    hits, spread = frame[wanted], spread[wanted]
    messages = [f"同一天 {n} 个站使用相同标题" for n in spread]
    return part("copied_title", hits["unit_id"], hits["month"], hits["id"], messages)


def repeated_title(data: SignalData, settings: Settings) -> pd.DataFrame:
    """repeated_title: a title a unit used in enough consecutive months, at each month of the period ending a run."""
    frame = data.activities
    frame = frame[frame["unit_id"].isin(data.scope["id"]) & (frame["title_key"] != "")]
    position = pd.Index(data.window).get_indexer(frame["month"])
    frame = frame.assign(position=position)[position >= 0]
    # The month's first activity with the title stands for the unit's use of it that month.
    firsts = frame.sort_values(["unit_id", "title_key", "position", "day", "id"]).drop_duplicates(
        ["unit_id", "title_key", "position"]
    )
    unit, key, where = (firsts[c].to_numpy() for c in ("unit_id", "title_key", "position"))
    follows = np.zeros(len(firsts), dtype=bool)
    if len(firsts):
        follows[1:] = (unit[1:] == unit[:-1]) & (key[1:] == key[:-1]) & (where[1:] == where[:-1] + 1)
    runs = pd.Series(~follows).cumsum().to_numpy()
    length = pd.Series(np.ones(len(firsts), dtype="int64")).groupby(runs).cumsum().to_numpy()
    ends = (length >= settings.repeated_title_months) & firsts["month"].isin(data.months).to_numpy()
    hits, length = firsts[ends], length[ends]
    messages = [f"标题“{t}”已连续 {n} 个月使用" for t, n in zip(hits["title"], length, strict=True)]
    return part("repeated_title", hits["unit_id"], hits["month"], hits["id"], messages)


def month_end_bunching(data: SignalData, settings: Settings) -> pd.DataFrame:
    """month_end_bunching: the unit-months of the period whose activities crowd into its last days, or into one day."""
    frame = data.period
    day = pd.Series(frame["day"].to_numpy())
    length = day.dt.days_in_month.to_numpy()
    late = day.dt.day.to_numpy() > length - settings.bunching_days
    parts = pd.DataFrame(
        {
            "unit_id": frame["unit_id"].to_numpy(),
            "month": frame["month"].to_numpy(),
            "day": frame["day"].to_numpy(),
            "late": late,
            "first_late": length - settings.bunching_days + 1,
        }
    )
    months = parts.groupby(["unit_id", "month"], sort=False).agg(
        n=("day", "size"),
        late=("late", "sum"),
        days=("day", "nunique"),
        day=("day", "min"),
        first_late=("first_late", "min"),
    )
    one_day = (months["n"] >= ONE_DAY_MIN) & (months["days"] == 1)
    bunched = (months["n"] >= BUNCHING_MIN) & (months["late"] >= settings.bunching_share * months["n"] - 1e-9)
    hits = months[one_day | bunched].reset_index()
    one = one_day[one_day | bunched].to_numpy()
    messages = [
        f"本月 {n} 次活动全部在同一天（{day}）"
        if single
        else f"本月 {n} 次活动中 {k} 次集中在月底最后 {settings.bunching_days} 天（{first} 日及以后）"
        for single, n, k, day, first in zip(
            one, hits["n"], hits["late"], iso_days(hits["day"].to_numpy()), hits["first_late"], strict=True
        )
    ]
    return part("month_end_bunching", hits["unit_id"], hits["month"], [np.nan] * len(hits), messages)
