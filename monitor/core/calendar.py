"""The district's calendar: months, the reporting deadline, today, and stored moments in UTC.

One rule in one place. Reads, writes, locks and screens all ask here; migration 0005, which may
not import the program, keeps a frozen copy of `deadline` that tests/test_calendar.py holds
equal to this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd

from monitor.core.errors import Refusal

if TYPE_CHECKING:
    from monitor.core.config import Settings

ZONE = ZoneInfo("Asia/Shanghai")  # the district's clock: deadlines, "today", every time shown


class BadPeriod(Refusal, ValueError):
    """A month or range that is not YYYY-MM, or ends before it starts."""

    code = "bad_argument"


def parse_month_arg(text: str) -> str:
    try:
        year, month = text.split("-")
        if len(year) != 4 or not year.isdigit() or not 1 <= int(month) <= 12:
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


def check_month(text: str, settings: Settings, *, today: date, finished: bool = False) -> str:
    """A month a figure may be asked for: from the earliest year on, and not after this month
    (finished=True: not after the last finished month)."""
    month = parse_month_arg(text)
    first = f"{settings.earliest_year:04d}-01"
    last = last_finished_month(today) if finished else today.strftime("%Y-%m")
    if month < first:
        raise BadPeriod(f"月份 {month} 早于系统记录的起始年份（{first}）。")
    if month > last:
        if finished:
            raise BadPeriod(f"{month} 尚未结束，只能统计已结束的整月（最近为 {last}）。")
        raise BadPeriod(f"月份 {month} 晚于本月（{last}）。")
    return month


def deadline(month: str, day: int) -> datetime:
    """The end of day `day` of the month after `month` (the month's last day when shorter), in the
    district's time, as an aware datetime: a row stored by then counts as reported on time."""
    following = pd.Period(parse_month_arg(month), freq="M") + 1
    end = datetime.combine(date(following.year, following.month, min(day, following.days_in_month)), time.max)
    return end.replace(tzinfo=ZONE)


def deadline_of(month: str, settings: Settings) -> datetime:
    return deadline(month, settings.deadline_day)


def deadlines(months: Iterable[str], *, deadline_day: int) -> dict[str, datetime]:
    """Each well-formed month's deadline, in UTC; a malformed month an older version stored has none."""
    out = {}
    for month in months:
        try:
            out[month] = deadline(month, deadline_day).astimezone(UTC)
        except ValueError:
            continue
    return out


def deadline_words(settings: Settings) -> str:
    """The deadline as the screens and the 通报 say it."""
    return f"次月{settings.deadline_day}日"


def today_in(settings: Settings) -> date:
    """Today on the district's clock."""
    return datetime.now(settings.timezone).date()


def as_utc(moment: datetime | str) -> datetime:
    """A stored moment as an aware UTC datetime. SQLite hands back naive datetimes (text from an
    aggregate), which hold UTC; PostgreSQL hands back aware ones."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
