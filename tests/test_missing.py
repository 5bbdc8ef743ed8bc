"""催报: the units with no activity in a month, by township, as the message text and as xlsx."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook

from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.figures.missing import message, missing_reports, missing_xlsx
from tests.factories import OPERATOR, SMALL_ROSTER, TODAY, activities_csv, hold, load_roster, roster_csv
from tests.test_cli import THIS_MONTH, Cli

# The small roster with phones (one starting like a formula) and a township unit without a quota.
ROSTER = [
    {**u, "phone": "13800000000"}
    if u["code"] == "NJK-YCT"
    else {**u, "phone": "+86 13800000002"}
    if u["code"] == "LX-HP"
    else u
    for u in SMALL_ROSTER
] + [{"code": "LX-ZERO", "name": "零任务村新时代文明实践站", "type": "站", "town": "兰溪镇", "quota": 0}]

# February 2025 (新建村 LX-XJ is active 2025-03..06 only; LX-ZERO has no quota):
#   held 1: ZX, NJK-S, NJK-HP (below quota, but reported) -> not missing
#   held 0: NJK-YCT, LX-S, LX-HP                          -> missing
# March 2025: only NJK-YCT held one -> ZX, NJK-S, NJK-HP, LX-S, LX-HP, LX-XJ missing.
HELD = {("ZX", "2025-02"): 1, ("NJK-S", "2025-02"): 1, ("NJK-HP", "2025-02"): 1, ("NJK-YCT", "2025-03"): 1}
CLERK = Actor(name="泥江口镇经办人", role="town", town="泥江口镇")
REVIEWER = Actor(name="审核人员", role="reviewer")


@pytest.fixture
def district(session, settings):  # type: ignore[no-untyped-def]
    load_roster(session, settings, ROSTER)
    hold(session, settings, HELD, today=TODAY)
    return session


def _codes(missing) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(r["town"], r["code"]) for r in missing.units.to_dict("records")]


def test_units_without_any_activity_by_township(district, settings):  # type: ignore[no-untyped-def]
    feb = missing_reports(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-02", end="2025-02"),
        today=date(2025, 3, 6),
    )
    assert _codes(feb) == [("兰溪镇", "LX-S"), ("兰溪镇", "LX-HP"), ("泥江口镇", "NJK-YCT")]
    assert (feb.month, feb.deadline, feb.past_deadline, feb.due) == (
        "2025-02",
        date(2025, 3, 5),
        True,
        date(2025, 3, 7),
    )
    assert feb.by_town()["泥江口镇"] == [
        {
            "town": "泥江口镇",
            "code": "NJK-YCT",
            "name": "油草塘村新时代文明实践站",
            "type": "station",
            "head": "王五",
            "phone": "13800000000",
        }
    ]
    march = missing_reports(
        session=district,
        query=Query(actor=REVIEWER, settings=settings, start="2025-03", end="2025-03"),
        today=date(2025, 4, 20),
    )
    assert _codes(march) == [
        ("区级", "ZX"),
        ("兰溪镇", "LX-S"),
        ("兰溪镇", "LX-HP"),
        ("兰溪镇", "LX-XJ"),
        ("泥江口镇", "NJK-S"),
        ("泥江口镇", "NJK-HP"),
    ]
    july = missing_reports(
        session=district,
        query=Query(actor=REVIEWER, settings=settings, start="2025-07", end="2025-07"),
        today=date(2025, 8, 6),
    )
    assert [c for _, c in _codes(july)] == ["ZX", "LX-S", "LX-HP", "NJK-S", "NJK-HP", "NJK-YCT"]  # no LX-XJ


def test_the_message_in_the_departments_words(district, settings):  # type: ignore[no-untyped-def]
    feb = missing_reports(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-02", end="2025-02"),
        today=date(2025, 3, 6),
    )
    assert message(feb) == (
        "请以下单位于3月7日前补报2025年2月新时代文明实践活动台账：\n"
        "兰溪镇：兰溪镇新时代文明实践所、和平村（+86 13800000002）\n"
        "泥江口镇：油草塘村新时代文明实践站（王五 13800000000）"
    )
    march = missing_reports(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-03", end="2025-03"),
        today=date(2025, 4, 2),
    )
    assert (march.past_deadline, march.due) == (False, date(2025, 4, 5))  # before the deadline: by the deadline
    assert message(march).splitlines() == [
        "请以下单位于4月5日前补报2025年3月新时代文明实践活动台账：",
        "区级：区新时代文明实践服务中心（张三 13800000001）",
        "兰溪镇：兰溪镇新时代文明实践所、和平村（+86 13800000002）、新建村新时代文明实践站",
        "泥江口镇：泥江口镇新时代文明实践所（李四）、和平村新时代文明实践站",
    ]
    on_the_day = missing_reports(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-03", end="2025-03"),
        today=date(2025, 4, 5),
    )
    assert (on_the_day.past_deadline, on_the_day.due) == (False, date(2025, 4, 5))


def test_nothing_missing_says_so(session, settings):  # type: ignore[no-untyped-def]
    load_roster(session, settings, [SMALL_ROSTER[0]])
    hold(session, settings, {("ZX", "2025-02"): 1}, today=TODAY)
    feb = missing_reports(
        session=session,
        query=Query(actor=OPERATOR, settings=settings, start="2025-02", end="2025-02"),
        today=date(2025, 3, 9),
    )
    assert feb.units.empty and message(feb) == "2025年2月各单位均已上报新时代文明实践活动台账。"


def test_town_staff_see_their_own_township_only(district, settings):  # type: ignore[no-untyped-def]
    march = missing_reports(
        session=district,
        query=Query(actor=CLERK, settings=settings, start="2025-03", end="2025-03"),
        today=date(2025, 4, 20),
    )
    assert _codes(march) == [("泥江口镇", "NJK-S"), ("泥江口镇", "NJK-HP")]
    with pytest.raises(Forbidden):
        missing_reports(
            session=district,
            query=Query(actor=CLERK, settings=settings, start="2025-03", end="2025-03", town="兰溪镇"),
            today=TODAY,
        )
    asked = missing_reports(
        session=district,
        query=Query(actor=REVIEWER, settings=settings, start="2025-03", end="2025-03", town="兰溪镇"),
        today=TODAY,
    )
    assert _codes(asked) == [("兰溪镇", "LX-S"), ("兰溪镇", "LX-HP"), ("兰溪镇", "LX-XJ")]


def test_the_xlsx_has_the_rows_and_runs_no_formula(district, settings):  # type: ignore[no-untyped-def]
    feb = missing_reports(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-02", end="2025-02"),
        today=date(2025, 3, 6),
    )
    sheet = load_workbook(io.BytesIO(missing_xlsx(feb))).active
    rows = [tuple("" if v is None else v for v in row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        ("所属乡镇", "单位名称", "单位编码", "负责人", "联系电话"),
        ("兰溪镇", "兰溪镇新时代文明实践所", "LX-S", "", ""),
        ("兰溪镇", "和平村", "LX-HP", "", "'+86 13800000002"),
        ("泥江口镇", "油草塘村新时代文明实践站", "NJK-YCT", "王五", "13800000000"),
    ]
    assert not [v for row in rows for v in row if isinstance(v, str) and v.startswith(("=", "+", "-", "@"))]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The roster above and HELD in a database the command line opens, as a user runs it."""
    run = Cli(tmp_path_factory.mktemp("missing"))
    assert run("init").returncode == 0
    assert run("units", "import", run.file("名册.csv", roster_csv(ROSTER))).returncode == 0
    rows = [(code, "", "", f"{month}-01", "活动", "") for (code, month) in HELD]
    assert run.json("activities", "import", run.file("台账.csv", activities_csv(rows)))["imported"] == 4
    return run


def test_cli_lists_the_missing_units(cli):  # type: ignore[no-untyped-def]
    doc = cli.json("missing", "--month", "2025-02")
    assert (doc["month"], doc["deadline"], doc["past_deadline"]) == ("2025-02", "2025-03-05", True)
    assert doc["units"] == [
        {
            "town": "兰溪镇",
            "code": "LX-S",
            "name": "兰溪镇新时代文明实践所",
            "type": "institute",
            "head": "",
            "phone": "",
        },
        {
            "town": "兰溪镇",
            "code": "LX-HP",
            "name": "和平村",
            "type": "station",
            "head": "",
            "phone": "+86 13800000002",
        },
        {
            "town": "泥江口镇",
            "code": "NJK-YCT",
            "name": "油草塘村新时代文明实践站",
            "type": "station",
            "head": "王五",
            "phone": "13800000000",
        },
    ]
    march = cli.json("missing", "--month", "2025-03", "--town", "泥江口镇")
    assert [u["code"] for u in march["units"]] == ["NJK-S", "NJK-HP"]
    assert [u["town"] for u in cli.json("missing", "--month", "2025-03")["units"]][:2] == ["", "兰溪镇"]  # the center
    text = cli("missing", "--month", "2025-02")
    assert text.returncode == 0
    assert text.stdout.splitlines()[1:] == [
        "兰溪镇：兰溪镇新时代文明实践所、和平村（+86 13800000002）",
        "泥江口镇：油草塘村新时代文明实践站（王五 13800000000）",
    ]
    assert text.stdout.startswith("请以下单位于") and "前补报2025年2月新时代文明实践活动台账：" in text.stdout


def test_cli_refuses_a_month_not_yet_finished_or_an_unknown_township(cli):  # type: ignore[no-untyped-def]
    done = cli("missing", "--month", THIS_MONTH, "--json")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]  # --json: the refusal is a JSON document too
    assert error["code"] == "bad_argument" and "尚未结束" in error["message"] and "尚未结束" in done.stderr
    unknown = cli("missing", "--month", "2025-02", "--town", "无此镇")
    assert unknown.returncode == 2 and "无此镇" in unknown.stderr
