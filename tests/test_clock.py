from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor.core.clock import local_text

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 26, 22, 53, 56),  # naive, as SQLite returns it: UTC
        datetime(2026, 11, 26, 22, 53, 56, tzinfo=UTC),
        datetime(2026, 11, 27, 7, 53, 56, tzinfo=timezone(timedelta(hours=9))),
    ],
)
def test_a_stored_moment_reads_in_shanghai_time(moment: datetime) -> None:
    assert local_text(moment, SHANGHAI) == "2026-11-27 06:53"
    assert local_text(moment, SHANGHAI, seconds=True) == "2026-11-27 06:53:56"


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_nothing_stored_reads_as_blank(missing: object) -> None:
    assert local_text(missing, SHANGHAI) == ""
