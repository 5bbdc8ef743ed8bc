"""The one calendar (monitor.core.calendar): deadlines, months, today and stored moments in UTC."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.core.calendar import (
    ZONE,
    BadPeriod,
    as_utc,
    deadline,
    deadline_of,
    deadline_words,
    deadlines,
    month_range,
    shift_month,
)
from monitor.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))


def _migration_0005():
    path = ROOT / "monitor" / "store" / "migrations" / "versions" / "0005_unitmonth.py"
    spec = importlib.util.spec_from_file_location("m0005", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("month", "day", "due"),
    [
        ("2025-01", 5, datetime(2025, 2, 5, 23, 59, 59, 999999, tzinfo=CST)),
        ("2025-01", 31, datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=CST)),  # February is short
        ("2024-01", 30, datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=CST)),  # a leap year
        ("2025-12", 5, datetime(2026, 1, 5, 23, 59, 59, 999999, tzinfo=CST)),  # across the year
    ],
)
def test_a_months_deadline_is_the_end_of_the_day_in_the_district(month: str, day: int, due: datetime) -> None:
    assert deadline(month, day) == due
    assert deadlines([month], deadline_day=day)[month] == due.astimezone(UTC)


def test_the_migrations_frozen_copy_agrees_with_the_calendar() -> None:
    frozen = _migration_0005()._due
    months = month_range("2023-01", "2027-12")
    differing = [(m, d) for m in months for d in range(1, 32) if frozen(m, d) != deadline(m, d).astimezone(UTC)]
    assert differing == []
    assert frozen("2025-xx", 5) is None and deadlines(["2025-xx", ""], deadline_day=5) == {}


def test_the_deadline_follows_the_setting_everywhere_it_is_said() -> None:
    late = Settings(deadline_day=10)
    assert deadline_of("2025-03", late) == datetime(2025, 4, 10, 23, 59, 59, 999999, tzinfo=CST)
    assert deadline_words(late) == "次月10日" and deadline_words(Settings()) == "次月5日"
    spelled = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("monitor", "ui", "app_pages")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"次月\s*\d+\s*日", line)
    ]
    assert spelled == [], "a screen or document says the deadline through deadline_words, never as a literal"


def test_a_naive_stored_moment_is_utc() -> None:
    naive = datetime(2025, 3, 1, 16, 0)
    assert as_utc(naive) == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    assert as_utc("2025-03-01 16:00:00") == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    aware = datetime(2025, 3, 2, 0, 0, tzinfo=CST)
    assert as_utc(aware) == aware and as_utc(aware).astimezone(ZONE).day == 2


def test_months_are_counted_and_checked() -> None:
    assert month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert shift_month("2025-01", -1) == "2024-12"
    with pytest.raises(BadPeriod, match="晚于结束月份"):
        month_range("2025-03", "2025-02")
    assert Settings().timezone is ZONE and date.today()  # one clock: settings read the calendar's
