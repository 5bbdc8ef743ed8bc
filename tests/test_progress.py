"""本月进度 (issue 9): held, quota and what is still owed this month, the summary line, days to the
deadline, last month's open units and the 预警 list, computed by hand for a small district."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.figures.progress import MonthProgress, month_progress, summary_sentence
from monitor.ingest.importer import import_activities
from monitor.ingest.quotas import set_type_quotas
from tests.factories import OPERATOR, SMALL_ROSTER, activities_csv, hold, load_roster

JUNE_12 = date(2026, 6, 12)  # June 2026 under way; May's deadline (5 June) has passed
JUNE_3 = date(2026, 6, 3)  # May still open until the end of 5 June
REVIEWER = Actor(name="审核员", role="reviewer")
CLERK = Actor(name="泥江口镇经办人", role="town", town="泥江口镇")

ROSTER = [
    *SMALL_ROSTER,
    {"code": "NJK-AL", "name": "安乐村", "type": "站", "town": "泥江口镇", "head": "赵六", "phone": "13900000004"},
    {"code": "NJK-BZ", "name": "白竹村", "type": "站", "town": "泥江口镇"},
]
# Activities per unit and month (quotas: center 8, institute 3, station 2). LX-XJ was active only in 2025.
HELD = {
    "ZX": {"2026-04": 8, "2026-05": 8, "2026-06": 3},
    "NJK-S": {"2026-04": 3, "2026-05": 3, "2026-06": 1},
    "NJK-YCT": {"2026-04": 2, "2026-05": 1, "2026-06": 0},  # short in May and nothing yet in June: 预警
    "NJK-HP": {"2026-04": 2, "2026-05": 2, "2026-06": 0},  # met May: no 预警 although nothing yet
    "NJK-AL": {"2026-04": 2, "2026-05": 0, "2026-06": 1},  # nothing in May, one of two in June: 预警
    "NJK-BZ": {"2026-04": 2, "2026-05": 2, "2026-06": 1},
    "LX-S": {"2026-04": 3, "2026-05": 3, "2026-06": 3},
    "LX-HP": {"2026-04": 1, "2026-05": 0, "2026-06": 0},  # already two months short: 预警, streak 2
}


def progress(session, actor: Actor, settings, today: date, **scope: str) -> MonthProgress:  # type: ignore[no-untyped-def]
    """本月进度 as `actor` sees it on `today` (the query's month is today's)."""
    return month_progress(
        session=session, query=Query.month_of(actor, settings, f"{today:%Y-%m}", **scope), today=today
    )


@pytest.fixture
def district(session, settings):
    load_roster(session, settings, ROSTER)
    counts = {(code, month): n for code, months in HELD.items() for month, n in months.items() if n}
    hold(session, settings, counts, today=JUNE_12)
    return session


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


def test_a_town_clerk_sees_what_each_unit_of_the_township_still_owes(district, settings):
    p = progress(district, CLERK, settings, JUNE_12)
    assert (p.month, p.deadline, p.days_left) == ("2026-06", date(2026, 7, 5), 23)
    # Most owed first; within the same amount the institute before the stations, then by code.
    assert rows(p.units, "code", "held", "quota", "owed", "status") == [
        ("NJK-S", 1, 3, 2, "below"),
        ("NJK-HP", 0, 2, 2, "none"),
        ("NJK-YCT", 0, 2, 2, "none"),
        ("NJK-AL", 1, 2, 1, "below"),
        ("NJK-BZ", 1, 2, 1, "below"),
    ]
    assert p.owed == 8
    assert p.summary == "本月还差 8 场：2 个站未开展，1 个所差 2 场，2 个站各差 1 场；距上报截止还有 23 天"
    assert set(p.units["town"]) == {"泥江口镇"}


def test_last_month_is_listed_only_while_its_deadline_is_open(district, settings):
    closed = progress(district, CLERK, settings, JUNE_12)
    assert (closed.last_month, closed.last_deadline, closed.last_open) == ("2026-05", date(2026, 6, 5), False)
    assert closed.unreported.empty

    p = progress(district, CLERK, settings, JUNE_3)
    assert (p.last_open, p.days_left) == (True, 32)
    assert rows(p.unreported, "code", "held", "quota", "owed", "status") == [
        ("NJK-AL", 0, 2, 2, "none"),
        ("NJK-YCT", 1, 2, 1, "below"),
    ]
    assert p.summary == "本月还差 8 场：2 个站未开展，1 个所差 2 场，2 个站各差 1 场；距上报截止还有 32 天"
    on_deadline = progress(district, CLERK, settings, date(2026, 6, 5))
    assert on_deadline.last_open and len(on_deadline.unreported) == 2


def test_warnings_are_the_units_a_short_month_would_bring_to_interview(district, settings):
    p = progress(district, CLERK, settings, JUNE_12)
    assert rows(p.warnings, "code", "streak", "held", "quota", "owed", "head", "phone") == [
        ("NJK-YCT", 1, 0, 2, 2, "王五", ""),
        ("NJK-AL", 1, 1, 2, 1, "赵六", "13900000004"),
    ]
    district_wide = progress(district, REVIEWER, settings, JUNE_12)
    assert list(district_wide.warnings["code"]) == ["LX-HP", "NJK-YCT", "NJK-AL"]
    assert list(district_wide.warnings["streak"]) == [2, 1, 1]
    # The one streak definition: were June to end as it stands, these are exactly 约谈名单's units.
    due = metrics.interviews(
        session=district, query=Query(actor=REVIEWER, settings=settings, start="2026-06", end="2026-06"), min_streak=2
    )
    assert set(due["code"]) == set(district_wide.warnings["code"])
    # With interviews from three months on, only a unit two months short already is one month away.
    three = progress(district, REVIEWER, replace(settings, interview_min_streak=3), JUNE_12)
    assert list(three.warnings["code"]) == ["LX-HP"]


def test_reviewers_see_the_district_or_the_township_asked_for(district, settings):
    p = progress(district, REVIEWER, settings, JUNE_12)
    assert rows(p.units, "code", "owed") == [
        ("ZX", 5),
        ("NJK-S", 2),
        ("LX-HP", 2),
        ("NJK-HP", 2),
        ("NJK-YCT", 2),
        ("NJK-AL", 1),
        ("NJK-BZ", 1),
        ("LX-S", 0),
    ]  # LX-XJ, active only in 2025, owes nothing and is not listed
    assert p.summary == (
        "本月还差 15 场：3 个站未开展，1 个中心差 5 场，1 个所差 2 场，2 个站各差 1 场；距上报截止还有 23 天"
    )
    lx = progress(district, REVIEWER, settings, JUNE_12, town="兰溪镇")
    assert rows(lx.units, "code", "held", "owed") == [("LX-HP", 0, 2), ("LX-S", 3, 0)]
    assert lx.summary == "本月还差 2 场：1 个站未开展；距上报截止还有 23 天"
    stations = progress(district, REVIEWER, settings, JUNE_12, unit_type="station")
    assert set(stations.units["type"]) == {"station"} and stations.owed == 8


def test_town_staff_cannot_ask_for_another_township(district, settings):
    with pytest.raises(Forbidden):
        progress(district, CLERK, settings, JUNE_12, town="兰溪镇")
    own = progress(district, CLERK, settings, JUNE_12, town="泥江口镇")
    assert own.owed == 8


def test_a_quota_changed_from_this_month_counts_this_month_only(district, settings):
    set_type_quotas(
        session=district, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=JUNE_12, from_month="2026-06"
    )
    p = progress(district, CLERK, settings, JUNE_3)
    assert rows(p.units, "code", "quota", "owed") == [
        ("NJK-HP", 3, 3),
        ("NJK-YCT", 3, 3),
        ("NJK-S", 3, 2),
        ("NJK-AL", 3, 2),
        ("NJK-BZ", 3, 2),
    ]
    assert p.summary == "本月还差 12 场：2 个站未开展，1 个所、2 个站各差 2 场；距上报截止还有 32 天"
    assert rows(p.unreported, "code", "quota", "owed") == [("NJK-AL", 2, 2), ("NJK-YCT", 2, 1)]


def test_nothing_owed(district, settings):
    more = [(code, "", "", "2026-06-10", f"补报{n}", "") for code in ("NJK-S", "NJK-YCT", "NJK-HP") for n in (1, 2)]
    more += [(code, "", "", "2026-06-11", "补报", "") for code in ("NJK-AL", "NJK-BZ")]
    result = import_activities(
        session=district,
        actor=OPERATOR,
        data=activities_csv(more),
        file_name="补报.csv",
        settings=settings,
        today=JUNE_12,
    )
    assert result.imported == 8
    p = progress(district, CLERK, settings, JUNE_12)
    assert p.owed == 0 and p.warnings.empty
    assert p.summary == "本月任务已全部完成；距上报截止还有 23 天"


def test_an_empty_database(session, settings):
    p = progress(session, REVIEWER, settings, JUNE_12)
    assert p.units.empty and p.warnings.empty and p.unreported.empty
    assert p.summary == "本月没有需要开展活动的单位；距上报截止还有 23 天"


def _units(*rows: tuple[str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["type", "held", "owed"])


@pytest.mark.parametrize(
    ("units", "sentence"),
    [
        (
            _units(("station", 0, 2), ("station", 0, 2), ("station", 0, 2), ("station", 1, 1)),
            "本月还差 7 场：3 个站未开展，1 个站差 1 场；距上报截止还有 9 天",
        ),
        (
            _units(("institute", 0, 3), ("station", 0, 2), ("center", 7, 1), ("station", 1, 1)),
            "本月还差 7 场：1 个所、1 个站未开展，1 个中心、1 个站各差 1 场；距上报截止还有 9 天",
        ),
        (_units(("institute", 3, 0), ("station", 2, 0)), "本月任务已全部完成；距上报截止还有 9 天"),
    ],
)
def test_the_summary_names_units_by_type_and_groups_them_by_what_they_owe(units, sentence):
    assert summary_sentence(units, 9) == sentence
