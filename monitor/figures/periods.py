"""Which months of a period can be judged: those whose reporting is over.

A month's activities may be reported until the end of the deadline day of the following month
(Settings.deadline_day, local time; monitor.store.calendar.deadline_of). Until then the month is open: a
unit that has not reported yet is not behind, so a bulletin or a report counts the months whose
reporting is over, says up to which day (截至…), and names the months still open. A period whose
months are all open is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.calendar import BadPeriod, deadline_of, month_range, shift_month
from monitor.core.config import Settings
from monitor.core.models import Activity


class OpenPeriod(BadPeriod):
    """Every month of the period is still open for reporting."""


def period_words(start: str, end: str) -> str:
    """2025-01..2025-06 -> 2025年1-6月; one month -> 2025年6月; across years -> 2024年11月-2025年2月."""
    (y1, m1), (y2, m2) = (map(int, start.split("-")), map(int, end.split("-")))
    if (y1, m1) == (y2, m2):
        return f"{y1}年{m1}月"
    if y1 == y2:
        return f"{y1}年{m1}-{m2}月"
    return f"{y1}年{m1}月-{y2}年{m2}月"


def day_words(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def closes_on(month: str, settings: Settings) -> date:
    """The last day on which a month's activities may be reported (local date)."""
    return deadline_of(month, settings).date()


def is_open(month: str, settings: Settings, today: date) -> bool:
    return today <= closes_on(month, settings)


def _deadlines(months: list[str], settings: Settings) -> str:
    """（2025年8月5日截止） for one month; （6月台账2025年7月5日截止，7月台账2025年8月5日截止） for several."""
    if len(months) == 1:
        return f"（{day_words(closes_on(months[0], settings))}截止）"
    parts = [f"{int(m[5:])}月台账{day_words(closes_on(m, settings))}截止" for m in months]
    return "（" + "，".join(parts) + "）"


@dataclass(frozen=True)
class Judged:
    """A period split at today: the months judged (reporting over) and those still open."""

    start: str
    end: str  # the last judged month
    open_months: list[str]
    settings: Settings

    @property
    def months(self) -> list[str]:
        return month_range(self.start, self.end)

    @property
    def as_of(self) -> date:
        """The last day of the last judged month: the figures count activities dated up to it."""
        return pd.Period(self.end, freq="M").end_time.date()

    def open_note(self) -> str:
        """One sentence on the open months ('' when none), without the count reported so far."""
        if not self.open_months:
            return ""
        words = period_words(self.open_months[0], self.open_months[-1])
        return f"{words}的活动台账尚在上报期内{_deadlines(self.open_months, self.settings)}"

    def to_json(self) -> dict[str, object]:
        return {"as_of": self.as_of.isoformat(), "open_months": list(self.open_months)}


def judged(*, start: str, end: str, settings: Settings, today: date) -> Judged:
    """The months of [start, end] whose reporting is over; OpenPeriod when there is none."""
    months = month_range(start, end)
    open_months = [m for m in months if is_open(m, settings, today)]
    closed = [m for m in months if m not in open_months]
    if not closed:
        latest = shift_month(months[0], -1)
        while is_open(latest, settings, today):
            latest = shift_month(latest, -1)
        raise OpenPeriod(
            f"{period_words(months[0], months[-1])}的活动台账尚在上报期内{_deadlines(open_months, settings)}，"
            f"截止后才能统计和通报；最近已截止上报的是{period_words(latest, latest)}。"
        )
    return Judged(start=months[0], end=closed[-1], open_months=open_months, settings=settings)


def has_activities(*, session: Session, months: list[str]) -> bool:
    """Whether any activity (不予认定 included) of any unit is dated in one of these months."""
    found = session.exec(select(col(Activity.id)).where(col(Activity.month).in_(months)).limit(1)).first()
    return found is not None
