"""Roster import: units upserted by code, never deleted; every bad row reported."""

import pytest
from conftest import TODAY
from factories import OPERATOR, ROSTER_HEADERS, SMALL_ROSTER, activities_csv, csv_bytes, load_roster, roster_csv
from sqlalchemy import func
from sqlmodel import select

from monitor.core.models import ImportBatch, Unit
from monitor.ingest.importer import import_activities
from monitor.ingest.roster_file import import_units
from monitor.roster.units import list_units

UNIT_KEYS = {"code", "name", "type", "town", "head", "phone", "quota", "active_from", "active_to"}
ENGLISH = {key: key.upper() if i % 2 else key for i, key in enumerate(ROSTER_HEADERS)}
MONTH = TODAY.strftime("%Y-%m")  # `units list` gives each unit's own quota in force in a month


def run(session, settings, data: bytes, **options):
    options.setdefault("actor", OPERATOR)
    return import_units(session=session, data=data, file_name="名册.csv", settings=settings, today=TODAY, **options)


def found(result) -> list[tuple]:
    return [(e.row, e.column, e.code) for e in result.errors]


def units(session) -> dict[str, dict[str, object]]:
    return {u["code"]: u for u in list_units(session=session, month=MONTH)}


@pytest.mark.parametrize("headers", [ROSTER_HEADERS, ENGLISH], ids=["chinese", "english"])
def test_a_roster_with_chinese_or_english_headers(session, settings, headers):
    result = run(session, settings, roster_csv(SMALL_ROSTER, headers=headers))
    assert (found(result), result.rows, result.imported, result.created, result.exit_code) == ([], 7, 7, 7, 0)
    got = units(session)
    assert got["ZX"] == {
        "code": "ZX",
        "name": "区新时代文明实践服务中心",
        "type": "center",
        "town": "",
        "head": "张三",
        "phone": "13800000001",
        "quota": None,
        "active_from": None,
        "active_to": None,
    }
    assert got["LX-XJ"]["type"] == "station"
    assert (got["LX-XJ"]["active_from"], got["LX-XJ"]["active_to"]) == ("2025-03", "2025-06")
    assert got["NJK-S"]["type"] == "institute"


@pytest.mark.parametrize(
    ("written", "unit_type"),
    [
        ("中心", "center"),
        ("所", "institute"),
        ("站", "station"),
        ("新时代文明实践服务中心", "center"),
        ("新时代文明实践所", "institute"),
        ("新时代文明实践站", "station"),
        ("center", "center"),
        ("Institute", "institute"),
        ("STATION", "station"),
        (" 站 ", "station"),
    ],
)
def test_the_unit_type_in_every_spelling(session, settings, written, unit_type):
    load_roster(session, settings, [{"code": "A", "name": "甲", "type": written, "town": "甲镇"}])
    assert units(session)["A"]["type"] == unit_type


def test_quota_and_active_months_in_office_spellings(session, settings):
    load_roster(
        session,
        settings,
        [
            {
                "code": "A",
                "name": "甲村",
                "type": "站",
                "town": "甲镇",
                "quota": "3",
                "active_from": "2025年3月",
                "active_to": "2025/6",
            },
            {"code": "B", "name": "乙村", "type": "站", "town": "甲镇", "quota": "0", "active_from": "2025-03-01"},
        ],
    )
    got = units(session)
    assert (got["A"]["quota"], got["A"]["active_from"], got["A"]["active_to"]) == (3, "2025-03", "2025-06")
    assert (got["B"]["quota"], got["B"]["active_from"], got["B"]["active_to"]) == (0, "2025-03", None)


def test_reimport_updates_by_code_and_is_unchanged_the_second_time(session, settings):
    load_roster(session, settings)
    changed = [dict(u) for u in SMALL_ROSTER]
    changed[2] = {**changed[2], "head": "赵六", "phone": "13900000000", "quota": "4"}
    changed[0] = {**changed[0], "code": "zx"}  # the same unit: codes are compared without case
    first = run(session, settings, roster_csv(changed))
    assert (first.created, first.updated, first.duplicates, first.imported) == (0, 1, 6, 1)
    second = run(session, settings, roster_csv(changed))
    assert (second.created, second.updated, second.duplicates, second.imported) == (0, 0, 7, 0)
    got = units(session)
    assert len(got) == 7
    assert (got["NJK-YCT"]["head"], got["NJK-YCT"]["phone"], got["NJK-YCT"]["quota"]) == ("赵六", "13900000000", 4)


def test_a_roster_without_a_unit_never_deletes_it(session, settings):
    load_roster(session, settings)
    data = activities_csv([("NJK-YCT", "", "", "2025-03-01", "宣讲", "")])
    import_activities(session=session, actor=OPERATOR, data=data, file_name="a.csv", settings=settings, today=TODAY)
    result = run(session, settings, roster_csv([SMALL_ROSTER[0]]))
    assert (found(result), result.imported) == ([], 0)
    assert set(units(session)) == {u["code"] for u in SMALL_ROSTER}


def test_a_new_unit_is_added(session, settings):
    load_roster(session, settings)
    result = run(session, settings, roster_csv([{"code": "LX-NEW", "name": "新村", "type": "站", "town": "兰溪镇"}]))
    assert (result.created, result.imported) == (1, 1)
    assert len(units(session)) == len(SMALL_ROSTER) + 1


BAD_ROWS = [
    ({"code": "", "name": "无码村", "type": "站", "town": "甲镇"}, [("单位编码", "missing_value")]),
    ({"code": "A1", "name": "", "type": "站", "town": "甲镇"}, [("单位名称", "missing_value")]),
    ({"code": "A2", "name": "乙村", "type": "", "town": "甲镇"}, [("单位类型", "missing_value")]),
    ({"code": "A3", "name": "丙村", "type": "站", "town": ""}, [("所属乡镇", "missing_value")]),
    ({"code": "A4", "name": "甲镇实践所", "type": "所", "town": ""}, [("所属乡镇", "missing_value")]),
    ({"code": "A5", "name": "丁村", "type": "村", "town": "甲镇"}, [("单位类型", "bad_type")]),
    ({"code": "A6", "name": "戊村", "type": "站", "town": "甲镇", "quota": "2.5"}, [("月度任务", "bad_number")]),
    ({"code": "A7", "name": "己村", "type": "站", "town": "甲镇", "quota": "-1"}, [("月度任务", "bad_number")]),
    ({"code": "A8", "name": "庚村", "type": "站", "town": "甲镇", "quota": "两场"}, [("月度任务", "bad_number")]),
    (
        {"code": "A9", "name": "辛村", "type": "站", "town": "甲镇", "active_from": "2025-13"},
        [("启用月份", "bad_month")],
    ),
    ({"code": "B1", "name": "壬村", "type": "站", "town": "甲镇", "active_to": "明年"}, [("停用月份", "bad_month")]),
    (
        {"code": "B2", "name": "癸村", "type": "站", "town": "甲镇", "active_from": "2025-06", "active_to": "2025-03"},
        [("停用月份", "bad_month")],
    ),
    (
        {"code": "", "name": "", "type": "乡", "town": ""},
        [("单位编码", "missing_value"), ("单位名称", "missing_value"), ("单位类型", "bad_type")],
    ),
]


@pytest.mark.parametrize(("unit", "expected"), BAD_ROWS)
def test_a_bad_roster_row_is_refused(session, settings, unit, expected):
    good = {"code": "OK", "name": "好村", "type": "站", "town": "甲镇"}
    result = run(session, settings, roster_csv([good, unit]))
    assert found(result) == [(3, column, code) for column, code in expected]
    assert all(e.message for e in result.errors)
    assert (result.rows, result.imported, result.rejected, result.exit_code) == (2, 1, 1, 1)
    assert set(units(session)) == {"OK"}


def test_the_center_needs_no_town(session, settings):
    load_roster(session, settings, [{"code": "ZX", "name": "区新时代文明实践服务中心", "type": "中心"}])
    assert units(session)["ZX"]["town"] == ""


def test_a_code_twice_in_one_file(session, settings):
    rows = [
        {"code": "A", "name": "甲村", "type": "站", "town": "甲镇"},
        {"code": "B", "name": "乙村", "type": "站", "town": "甲镇"},
        {"code": "a", "name": "丙村", "type": "站", "town": "甲镇"},
    ]
    result = run(session, settings, roster_csv(rows))
    assert found(result) == [(4, "单位编码", "duplicate_code")]
    assert "第 2 行" in result.errors[0].message
    assert units(session)["A"]["name"] == "甲村"


def test_strict_roster_import_stores_nothing(session, settings):
    rows = [{"code": "A", "name": "甲村", "type": "站", "town": "甲镇"}, {"code": "B", "name": "乙村", "type": "村"}]
    result = run(session, settings, roster_csv(rows), strict=True)
    assert (result.imported, result.exit_code) == (0, 1)
    assert list_units(session=session, month=MONTH) == []


def test_a_roster_refused_as_a_whole(session, settings):
    data = csv_bytes(["单位编码", "单位名称"], [["A", "甲村"]])
    result = run(session, settings, data)
    assert (result.file_error.code, result.exit_code) == ("missing_column", 2)
    assert "单位类型" in result.file_error.message
    assert list_units(session=session, month=MONTH) == []
    batch = session.exec(select(ImportBatch)).one()
    assert (batch.kind, batch.status) == ("units", "refused")


def test_list_units_has_exactly_the_spec_keys_and_filters(session, settings):
    load_roster(session, settings)
    everything = list_units(session=session, month=MONTH)
    assert all(set(u) == UNIT_KEYS for u in everything)
    assert [u["type"] for u in everything] == ["center"] + ["institute"] * 2 + ["station"] * 4
    in_town = list_units(session=session, month=MONTH, town="兰溪镇")
    assert sorted(u["code"] for u in in_town) == ["LX-HP", "LX-S", "LX-XJ"]
    stations = list_units(session=session, month=MONTH, town="泥江口镇", unit_type="station")
    assert [u["code"] for u in stations] == ["NJK-HP", "NJK-YCT"]
    assert list_units(session=session, month=MONTH, unit_type="center")[0]["code"] == "ZX"
    assert list_units(session=session, month=MONTH, town="无此镇") == []


def test_units_are_stored_with_their_short_name(session, settings):
    load_roster(session, settings)
    short = dict(session.exec(select(Unit.code, Unit.short_name)).all())
    assert (short["NJK-YCT"], short["LX-HP"], short["NJK-S"]) == ("油草塘村", "和平村", "泥江口镇")
    assert session.exec(select(func.count()).select_from(Unit)).one() == 7
