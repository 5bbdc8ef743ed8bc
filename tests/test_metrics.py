"""Figures of SPEC §4 on a district small enough to compute by hand."""

from datetime import date

import pytest
from conftest import TODAY
from factories import BY_MONTH_KEYS, BY_TOWN_KEYS, BY_TYPE_KEYS, OPERATOR, RULES, hold, load_roster, pick

from monitor.core import calendar
from monitor.core.calendar import BadPeriod
from monitor.core.query import Query
from monitor.figures import metrics

MONTHS = ["2025-01", "2025-02", "2025-03"]

# 1 center (quota 8), 1 institute (3) and 1 station (2) in 甲镇, 1 station (2) in 乙镇.
DISTRICT = [
    {"code": "ZX", "name": "区新时代文明实践服务中心", "type": "中心"},
    {"code": "A-S", "name": "甲镇新时代文明实践所", "type": "所", "town": "甲镇", "head": "李所长", "phone": "1"},
    {"code": "A-1", "name": "甲村", "type": "站", "town": "甲镇", "head": "王站长", "phone": "2"},
    {"code": "B-1", "name": "乙村", "type": "站", "town": "乙镇"},
]
HELD = {"ZX": (10, 8, 6), "A-S": (3, 2, 4), "A-1": (0, 1, 2), "B-1": (5, 2, 0)}
#                     required      held    capped (min(held, quota))    met
# ZX   8  8  8  = 24  10 8 6 = 24   8 8 6 = 22                           Y Y N
# A-S  3  3  3  =  9   3 2 4 =  9   3 2 3 =  8                           Y N Y
# A-1  2  2  2  =  6   0 1 2 =  3   0 1 2 =  3                           N N Y
# B-1  2  2  2  =  6   5 2 0 =  7   2 2 0 =  4                           Y Y N
# all          = 45         = 43          = 37                           7 of 12


def setup_district(session, settings, roster=DISTRICT, held=HELD, months=MONTHS):
    load_roster(session, settings, roster)
    counts = {(code, m): n for code, row in held.items() for m, n in zip(months, row, strict=True)}
    hold(session, settings, counts, today=TODAY)
    return session


@pytest.fixture
def district(session, settings):
    return setup_district(session, settings)


def report(session, start="2025-01", end="2025-03", **filters) -> dict:
    return metrics.report(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start=start, end=end, **filters)
    ).to_json()


def test_the_district_report_by_hand(district):
    doc = report(district)
    assert (doc["start"], doc["end"], doc["units"], doc["held"], doc["required"]) == ("2025-01", "2025-03", 4, 43, 45)
    assert doc["completion_rate"] == 43 / 45
    assert doc["capped_rate"] == 37 / 45
    assert doc["compliance_rate"] == 7 / 12
    assert {t: pick(v, BY_TYPE_KEYS) for t, v in doc["by_type"].items()} == {
        "center": {"units": 1, "held": 24, "required": 24, "completion_rate": 1.0},
        "institute": {"units": 1, "held": 9, "required": 9, "completion_rate": 1.0},
        "station": {"units": 2, "held": 10, "required": 12, "completion_rate": 10 / 12},
    }
    assert [pick(t, BY_TOWN_KEYS) for t in doc["by_town"]] == [
        {"town": "乙镇", "held": 7, "required": 6, "completion_rate": 7 / 6},
        {"town": "甲镇", "held": 12, "required": 15, "completion_rate": 12 / 15},
    ]
    assert [pick(m, BY_MONTH_KEYS) for m in doc["by_month"]] == [
        {"month": "2025-01", "held": 18, "required": 15, "completion_rate": 18 / 15},
        {"month": "2025-02", "held": 13, "required": 15, "completion_rate": 13 / 15},
        {"month": "2025-03", "held": 12, "required": 15, "completion_rate": 12 / 15},
    ]


def test_a_report_document_is_the_callers_own(district):
    """A screen that changes the document it was given (a cached report's) changes no later one."""
    kept = metrics.report(session=district, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-03"))
    first = kept.to_json()
    first["by_town"][0]["held"] = -1
    first["by_type"]["station"]["held"] = -1
    first["by_month"].clear()
    again = kept.to_json()
    assert (again["by_town"][0]["held"], again["by_type"]["station"]["held"], len(again["by_month"])) == (7, 10, 3)


def test_one_month_of_the_district(district):
    doc = report(district, start="2025-02", end="2025-02")
    assert (doc["held"], doc["required"], doc["compliance_rate"]) == (13, 15, 2 / 4)
    assert doc["capped_rate"] == (8 + 2 + 1 + 2) / 15


@pytest.mark.parametrize(
    ("filters", "units", "held", "required"),
    [
        ({"town": "甲镇"}, 2, 12, 15),
        ({"town": "乙镇"}, 1, 7, 6),
        ({"unit_type": "station"}, 2, 10, 12),
        ({"town": "甲镇", "unit_type": "station"}, 1, 3, 6),
        ({"unit_type": "center"}, 1, 24, 24),
    ],
)
def test_a_report_for_a_town_or_a_type(district, filters, units, held, required):
    doc = report(district, **filters)
    assert (doc["units"], doc["held"], doc["required"]) == (units, held, required)


def test_activities_outside_the_period_are_not_counted(district):
    doc = report(district, start="2024-12", end="2025-01")
    assert (doc["held"], doc["required"]) == (18, 30)
    december = pick(doc["by_month"][0], BY_MONTH_KEYS)
    assert december == {"month": "2024-12", "held": 0, "required": 15, "completion_rate": 0.0}


def test_a_units_own_quota_overrides_its_types(session, settings):
    roster = [*DISTRICT[:3], {**DISTRICT[3], "quota": "1"}]
    doc = report(setup_district(session, settings, roster))
    assert (doc["held"], doc["required"]) == (43, 42)
    assert doc["capped_rate"] == (22 + 8 + 3 + (1 + 1 + 0)) / 42
    assert doc["compliance_rate"] == 7 / 12
    assert pick(doc["by_town"][0], BY_TOWN_KEYS) == {"town": "乙镇", "held": 7, "required": 3, "completion_rate": 7 / 3}


def test_active_months_change_what_is_required(session, settings):
    roster = [*DISTRICT[:2], {**DISTRICT[2], "active_from": "2025-02"}, {**DISTRICT[3], "active_to": "2025-02"}]
    doc = report(setup_district(session, settings, roster))
    assert (doc["units"], doc["held"], doc["required"]) == (4, 43, 41)
    assert doc["capped_rate"] == 37 / 41
    assert doc["compliance_rate"] == 7 / 10
    assert [(m["month"], m["required"]) for m in doc["by_month"]] == [("2025-01", 13), ("2025-02", 15), ("2025-03", 13)]
    assert report(session, start="2025-03", end="2025-03", town="乙镇")["units"] == 0


def test_a_district_without_units_has_no_rates(session):
    doc = report(session)
    assert (doc["units"], doc["held"], doc["required"]) == (0, 0, 0)
    assert (doc["completion_rate"], doc["capped_rate"], doc["compliance_rate"]) == (None, None, None)


# Streaks: every station quota 2; four months.
STREAK_MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
STREAK_UNITS = [
    {"code": "S1", "name": "一村", "type": "站", "town": "甲镇", "head": "赵一", "phone": "13000000001"},
    {"code": "S2", "name": "二村", "type": "站", "town": "甲镇", "head": "钱二", "phone": "13000000002"},
    {"code": "S3", "name": "三村", "type": "站", "town": "乙镇"},
    {"code": "S4", "name": "四村", "type": "站", "town": "乙镇", "active_from": "2025-04"},
    {"code": "S5", "name": "五村", "type": "站", "town": "乙镇"},
    {"code": "I1", "name": "甲镇实践所", "type": "所", "town": "甲镇"},
]
STREAK_HELD = {
    "S1": (3, 1, 0, 1),  # below Feb, Mar, Apr: streak 3 at April
    "S2": (2, 2, 1, 0),  # streak 2
    "S3": (2, 2, 2, 1),  # first month below: streak 1
    "S4": (0, 0, 0, 0),  # active from April: streak 1
    "S5": (0, 0, 2, 2),  # streak 2 at February, 0 at April
    "I1": (3, 2, 2, 3),  # institute below Feb, Mar, met in April
}


@pytest.fixture
def streaks(session, settings):
    return setup_district(session, settings, STREAK_UNITS, STREAK_HELD, STREAK_MONTHS)


def due(session, month, min_streak) -> list[tuple[str, int]]:
    frame = metrics.interviews(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start=month, end=month), min_streak=min_streak
    )
    return list(zip(frame["code"], frame["streak"], strict=True))


@pytest.mark.parametrize(
    ("month", "min_streak", "expected"),
    [
        ("2025-04", 2, [("S1", 3), ("S2", 2)]),
        ("2025-04", 3, [("S1", 3)]),
        ("2025-04", 4, []),
        ("2025-04", 1, [("S1", 3), ("S2", 2), ("S3", 1), ("S4", 1)]),
        ("2025-03", 2, [("I1", 2), ("S1", 2)]),
        ("2025-02", 2, [("S5", 2)]),
        ("2025-01", 2, []),
    ],
)
def test_who_is_due_for_interview(streaks, month, min_streak, expected):
    assert due(streaks, month, min_streak) == expected


def test_an_interview_row_names_the_head_and_the_months_missed(streaks):
    frame = metrics.interviews(
        session=streaks, query=Query(actor=OPERATOR, settings=RULES, start="2025-04", end="2025-04"), min_streak=2
    )
    first = frame.iloc[0].to_dict()
    assert {k: first[k] for k in ("code", "name", "type", "town", "streak", "head", "phone", "held", "quota")} == {
        "code": "S1",
        "name": "一村",
        "type": "station",
        "town": "甲镇",
        "streak": 3,
        "head": "赵一",
        "phone": "13000000001",
        "held": 1,
        "quota": 2,
    }
    assert first["months_missed"] == ["2025-02", "2025-03", "2025-04"]


def test_interviews_for_one_town(streaks):
    frame = metrics.interviews(
        session=streaks,
        query=Query(actor=OPERATOR, settings=RULES, start="2025-04", end="2025-04", town="乙镇"),
        min_streak=1,
    )
    assert frame["code"].tolist() == ["S3", "S4"]


def test_months_before_any_data_are_not_held_against_units(session, settings):
    # nobody reported in January: the district started in February
    roster = [{"code": c, "name": f"{c}村", "type": "站", "town": "甲镇"} for c in ("T1", "T2")]
    setup_district(session, settings, roster, {"T1": (0, 0, 0), "T2": (0, 2, 2)})
    assert due(session, "2025-03", 3) == []
    assert due(session, "2025-03", 2) == [("T1", 2)]
    assert due(session, "2025-02", 2) == []


def test_laggards_over_a_period(district):
    def lag(below, **filters):
        frame = metrics.laggards(
            session=district,
            query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-03", **filters),
            below=below,
        )
        return list(zip(frame["code"], frame["held"], strict=True))

    assert lag(3) == []
    assert lag(5) == [("A-1", 3)]
    assert lag(8) == [("A-1", 3), ("B-1", 7)]
    assert lag(10, unit_type="station") == [("A-1", 3), ("B-1", 7)]
    assert lag(10, unit_type="institute") == [("A-S", 9)]
    assert lag(10, town="乙镇") == [("B-1", 7)]
    assert lag(100) == [("A-1", 3), ("B-1", 7), ("A-S", 9), ("ZX", 24)]


def test_a_unit_inactive_over_the_whole_period_is_no_laggard(session, settings):
    roster = [*DISTRICT[:3], {**DISTRICT[3], "active_to": "2024-12"}]
    setup_district(session, settings, roster, {**HELD, "B-1": (0, 0, 0)})
    frame = metrics.laggards(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-03"), below=10
    )
    assert frame["code"].tolist() == ["A-1", "A-S"]


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2025, 6, 10), "2025-03"),  # data ends in March
        (date(2025, 3, 28), "2025-02"),  # March is not finished
        (date(2025, 4, 1), "2025-03"),
        (date(2026, 1, 5), "2025-03"),
    ],
)
def test_default_month_is_the_last_finished_month_with_data(district, today, month):
    assert metrics.default_month(session=district, today=today) == month


def test_default_month_without_data_is_the_last_finished_month(session):
    assert metrics.default_month(session=session, today=date(2025, 1, 3)) == "2024-12"


def test_month_range():
    assert calendar.month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert calendar.month_range("2025-3", "2025-03") == ["2025-03"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-13", "2025-12"),
        ("2025-00", "2025-01"),
        ("2025/03", "2025-04"),
        ("202503", "2025-04"),
        ("abc", "2025-01"),
        ("", "2025-01"),
        ("2025-03-01", "2025-04"),
        ("25-03", "2025-04"),
        ("2025-01", "2025-1x"),
        ("2025-04", "2025-03"),
    ],
)
def test_month_range_refuses_bad_input(start, end):
    with pytest.raises(BadPeriod) as caught:
        calendar.month_range(start, end)
    assert "月份" in str(caught.value)


def test_a_report_with_a_bad_period_raises_bad_period(session):
    with pytest.raises(BadPeriod):
        report(session, start="2025-06", end="2025-01")
    with pytest.raises(BadPeriod):
        metrics.interviews(session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-13", end="2025-13"))


def test_the_units_not_reported_on_time_by_hand(district):
    """单位明细's 未按时上报: every activity here was stored after its month's deadline, so every
    counted month of every unit is late; the longest lists first, then by township and code."""
    from monitor.figures import views

    late = views.units_grid(
        session=district, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-03")
    ).late
    every = "2025-01、2025-02、2025-03"
    assert [tuple(r) for r in late.itertuples(index=False)] == [
        ("", "ZX", "区新时代文明实践服务中心", 3, every),
        ("乙镇", "B-1", "乙村", 3, every),
        ("甲镇", "A-1", "甲村", 3, every),
        ("甲镇", "A-S", "甲镇新时代文明实践所", 3, every),
    ]
