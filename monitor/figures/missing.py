"""催报: the units that have not reported a month at all, by township, as a message and as xlsx."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlmodel import Session

from monitor.core.calendar import deadline_of
from monitor.core.export import frame_xlsx
from monitor.core.labels import DISTRICT
from monitor.core.query import Query
from monitor.figures.metrics import unit_months

COLUMNS = ["town", "code", "name", "type", "head", "phone"]
HEADINGS = {"town": "所属乡镇", "name": "单位名称", "code": "单位编码", "head": "负责人", "phone": "联系电话"}


@dataclass(frozen=True)
class Missing:
    """The units of `month` with a quota and no activity, in message order (district first, then by township)."""

    month: str
    deadline: date
    past_deadline: bool
    due: date  # the day the message asks them to report by
    units: pd.DataFrame  # COLUMNS; town is DISTRICT for the center

    def by_town(self) -> dict[str, list[dict[str, str]]]:
        groups: dict[str, list[dict[str, str]]] = {}
        for record in self.units.to_dict("records"):
            groups.setdefault(record["town"], []).append(record)
        return groups

    def to_json(self) -> dict[str, object]:
        return {
            "month": self.month,
            "deadline": self.deadline.isoformat(),
            "past_deadline": self.past_deadline,
            "units": [{**r, "town": "" if r["town"] == DISTRICT else r["town"]} for r in self.units.to_dict("records")],
        }


def missing_reports(*, session: Session, query: Query, today: date) -> Missing:
    """Units active in the query's month with a quota above 0 and no activity dated in it, within the
    township the account may see."""
    month = query.month
    grid = unit_months(session=session, query=query.over(month), on_time=False)
    silent = grid[(grid["quota_month"] > 0) & (grid["held"] == 0)]
    units = pd.DataFrame({c: silent[c].fillna("").astype(str).to_numpy(dtype=object) for c in COLUMNS}, columns=COLUMNS)
    units["town"] = units["town"].replace("", DISTRICT)
    units["district"] = units["town"] != DISTRICT
    units = units.sort_values(["district", "town"], kind="stable").drop(
        columns="district"
    )  # roster order within a town
    deadline = deadline_of(month, query.settings).date()
    past = today > deadline
    return Missing(
        month=month,
        deadline=deadline,
        past_deadline=past,
        due=today + timedelta(days=1) if past else deadline,
        units=units.reset_index(drop=True),
    )


def _contact(unit: dict[str, str]) -> str:
    who = " ".join(v for v in (unit["head"], unit["phone"]) if v)
    return f"{unit['name']}（{who}）" if who else unit["name"]


def message(missing: Missing) -> str:
    """The text to paste into a message to the townships, in the department's words."""
    year, month = (int(p) for p in missing.month.split("-"))
    head = f"请以下单位于{missing.due.month}月{missing.due.day}日前补报{year}年{month}月新时代文明实践活动台账："
    if missing.units.empty:
        return f"{year}年{month}月各单位均已上报新时代文明实践活动台账。"
    lines = [f"{town}：" + "、".join(_contact(u) for u in units) for town, units in missing.by_town().items()]
    return "\n".join([head, *lines])


def missing_xlsx(missing: Missing) -> bytes:
    table = missing.units[list(HEADINGS)].rename(columns=HEADINGS)
    return frame_xlsx(table, f"{missing.month}未上报")
