"""疑点核查: a period's signals (monitor.evidence.signals) narrowed to the codes and unit type asked, the units and
the activities ranked by how many signals they carry, and the list as the page shows and exports it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from monitor.evidence.signals import SIGNALS, ranking

ACTIVITY_COLUMNS = ["activity_id", "unit_code", "unit_name", "town", "date", "title", "signals", "codes"]
HEADINGS = {  # what a reviewer reads first comes first
    "name": "疑点",
    "town": "所属乡镇",
    "unit_name": "单位名称",
    "date": "活动日期",
    "title": "活动名称",
    "message": "说明",
    "unit_code": "单位编码",
    "month": "月份",
}
RANKING_HEADINGS = {
    "signals": "疑点数",
    "codes": "疑点类型",
    "town": "所属乡镇",
    "unit_name": "单位名称",
    "date": "活动日期",
    "title": "活动名称",
    "unit_code": "单位编码",
}


@dataclass(frozen=True)
class Triage:
    signals: pd.DataFrame  # monitor.evidence.signals rows kept, in its order
    units: pd.DataFrame  # monitor.evidence.signals.ranking of them
    activities: pd.DataFrame  # ACTIVITY_COLUMNS: activities with signals, most first

    def counts(self) -> dict[str, int]:
        """Signals kept per code, every code present (0 when none)."""
        found = self.signals["code"].value_counts()
        return {code: int(found.get(code, 0)) for code in SIGNALS}


def _names(codes: pd.Series) -> str:
    order = {c: n for n, c in enumerate(SIGNALS)}
    return "、".join(SIGNALS[c] for c in sorted(set(codes), key=order.__getitem__))


def narrow(frame: pd.DataFrame, *, codes: Iterable[str] = (), unit_type: str | None = None) -> Triage:
    """The signals of the codes asked (all when none is) and of one unit type (all when None), ranked."""
    wanted = [c for c in codes if c in SIGNALS] or list(SIGNALS)
    kept = frame[frame["code"].isin(wanted)]
    if unit_type:
        kept = kept[kept["type"] == unit_type]
    kept = kept.reset_index(drop=True)
    on_activities = kept[kept["activity_id"].notna()]
    if on_activities.empty:
        activities = pd.DataFrame(columns=ACTIVITY_COLUMNS)
    else:
        grouped = on_activities.groupby("activity_id", sort=False)
        activities = grouped.agg(
            unit_code=("unit_code", "first"),
            unit_name=("unit_name", "first"),
            town=("town", "first"),
            date=("date", "first"),
            title=("title", "first"),
            signals=("code", "size"),
            codes=("code", _names),
        ).reset_index()
        activities["activity_id"] = activities["activity_id"].astype("int64")
        activities = activities.sort_values(
            ["signals", "town", "unit_code", "date"], ascending=[False, True, True, True], kind="stable"
        )[ACTIVITY_COLUMNS].reset_index(drop=True)
    return Triage(signals=kept, units=ranking(kept), activities=activities)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The signals under Chinese headings, each with its Chinese name: what the page lists and the xlsx holds."""
    shown = frame.assign(
        name=frame["code"].map(SIGNALS), date=frame["date"].fillna(""), title=frame["title"].fillna("")
    )
    return shown[list(HEADINGS)].rename(columns=HEADINGS)


def ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """A ranking (units or activities) under Chinese headings, with its rank."""
    shown = frame[[c for c in RANKING_HEADINGS if c in frame.columns]].rename(columns=RANKING_HEADINGS)
    shown.insert(0, "排名", range(1, len(shown) + 1))
    return shown
