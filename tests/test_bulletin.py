"""通报 (SPEC §9): the document's figures are the report's, in the department's words, on both engines.

The figures it must hold are known by hand (the demo district, the small roster) or counted here from
the tables (factories.count_by_hand), never taken from the figures the document is built from.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import date

import plotly.io
import pytest
from docx import Document
from factories import (
    TODAY,
    Counted,
    count_by_hand,
    due_by_hand,
    first_month_by_hand,
    hold,
    load_roster,
    totals_by_hand,
)

from monitor.cli.main import main as cli_main
from monitor.core import calendar
from monitor.core.export import FORMULA_STARTS
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.reports.bulletin import bulletin, period_words
from monitor.reports.bulletin_docx import NO_CHARTS, bulletin_docx

REVIEWER = Actor(name="审核员", role="reviewer")
YEAR_2025 = [f"2025-{m:02d}" for m in range(1, 13)]
# The demo district, known by hand (tests/test_demo_evidence.py writes them out): the units due for
# interview at December 2025; and three units with one December activity each 不予认定.
DEMO_DUE_2025_12 = {
    *("BZS-001", "CSP-007", "LGQ-003", "LGQ-012", "LX-009"),
    *("LX-011", "LX-S", "XSD-010", "YXS-010", "ZJQ-001"),
}


def _document(data: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(data))


def _texts(document) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in document.paragraphs]


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2025-01", "2025-06", "2025年1-6月"),
        ("2025-06", "2025-06", "2025年6月"),
        ("2024-11", "2025-02", "2024年11月-2025年2月"),
    ],
)
def test_the_period_in_the_departments_words(start, end, words):
    assert period_words(start, end) == words


def test_the_demo_bulletin_says_what_the_department_reported(demo_session, demo_settings):
    content = bulletin(
        session=demo_session,
        query=Query(actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06"),
        today=TODAY,
    )
    document = _document(bulletin_docx(content, with_charts=False))
    texts = _texts(document)
    assert texts[0] == "关于2025年1-6月全区新时代文明实践活动开展情况的通报"
    overall = texts[texts.index("一、总体情况") + 1]
    assert overall == (
        "据统计，区新时代文明实践服务中心、18个新时代文明实践所和241个新时代文明实践站"
        "2025年1-6月开展活动3617场次，完成率达到110.81%。"
    )
    assert texts[-2:] == ["区委宣传部", "2026年11月26日"]
    assert NO_CHARTS not in texts


def _pct(rate: object) -> str:
    return f"{float(rate) * 100:.2f}%"  # type: ignore[arg-type]


def _label(unit: Counted) -> str:
    """A unit as the 通报 names it: its township first, unless its name already starts with it."""
    return unit.name if not unit.town or unit.name.startswith(unit.town) else f"{unit.town}{unit.name}"


def test_every_figure_in_the_tables_is_counted_from_the_activities(demo_session, demo_settings):
    content = bulletin(
        session=demo_session,
        query=Query(actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-12"),
        today=TODAY,
    )
    document = _document(bulletin_docx(content, with_charts=False))
    counted = count_by_hand(demo_session, YEAR_2025)
    expected = {}
    for town in {r.town for r in counted if r.town}:
        figures = totals_by_hand(r for r in counted if r.town == town)
        expected[town] = (
            figures["held"],
            figures["required"],
            _pct(figures["completion_rate"]),
            _pct(figures["compliance_rate"]),
        )
    (table,) = document.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["排名", "乡镇（街道）", "开展（场次）", "任务（场次）", "完成率", "达标率", "按时上报率"]
    shown = {r[1]: (int(r[2]), int(r[3]), r[4], r[5]) for r in rows[1:]}
    assert shown == expected and len(rows) == 19
    rates = [float(r[4].rstrip("%")) for r in rows[1:]]
    assert rates == sorted(rates, reverse=True) and [r[0] for r in rows[1:]] == [str(i) for i in range(1, 19)]
    cells = [c.text for row in table.rows for c in row.cells]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    # 三、存在问题: each unit below quota with its months, the units due at 2025-12 (below in November
    # and December), nobody without any activity, and the three units with one activity 不予认定 each.
    months_below: dict[str, list[str]] = {}
    for r in counted:
        if r.below:
            months_below.setdefault(_label(r), []).append(r.month)
    below = [f"{label}（{'、'.join(sorted(months))}）" for label, months in months_below.items()]
    assert sorted(content.below) == sorted(below)
    due = due_by_hand(counted, YEAR_2025[-2:], first=first_month_by_hand(demo_session))
    assert due == DEMO_DUE_2025_12
    labels = {r.code: _label(r) for r in counted}
    assert sorted(d.split("（")[0] for d in content.due) == sorted(labels[code] for code in due)
    assert (len(content.below), len(content.due), len(content.none)) == (len(below), 10, 0)
    assert len(content.rejected) == 3 and all(r.endswith("（1场次）") for r in content.rejected)
    lines = _texts(document)
    assert f"（一）未完成月度任务的单位（{len(below)}个）：" in "".join(lines)
    assert "（三）应约谈的单位（10个）：" in "".join(lines)


def test_a_township_bulletin_and_a_unit_with_no_activity(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-S", "2025-03"): 3, ("NJK-YCT", "2025-03"): 1}, today=TODAY)
    content = bulletin(
        session=session,
        query=Query(actor=REVIEWER, settings=settings, start="2025-03", end="2025-03", town="泥江口镇"),
        today=TODAY,
    )
    assert content.title == "关于2025年3月泥江口镇新时代文明实践活动开展情况的通报"
    # One institute and two stations: 3 + 2 + 2 = 7 required, 4 held.
    assert content.overall[0] == (
        "据统计，泥江口镇新时代文明实践所和2个新时代文明实践站2025年3月开展活动4场次，完成率达到57.14%。"
    )
    assert content.none == ["泥江口镇和平村新时代文明实践站"]
    assert sorted(content.below) == sorted(
        ["泥江口镇油草塘村新时代文明实践站（2025-03）", "泥江口镇和平村新时代文明实践站（2025-03）"]
    )


def test_only_reviewers_and_admins_issue_a_bulletin(session, settings):
    load_roster(session, settings)
    with pytest.raises(Forbidden):
        bulletin(
            session=session,
            query=Query(
                actor=Actor(name="clerk", role="town", town="泥江口镇"),
                settings=settings,
                start="2025-03",
                end="2025-03",
            ),
            today=TODAY,
        )


def test_charts_are_pictures_or_one_line_saying_why_not(demo_session, demo_settings, monkeypatch):
    content = bulletin(
        session=demo_session,
        query=Query(actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06"),
        today=TODAY,
    )

    def no_browser(*_args, **_kwargs):  # the export needs a Chromium; here there is none
        raise RuntimeError("no browser")

    monkeypatch.setattr(plotly.io, "to_image", no_browser)
    document = _document(bulletin_docx(content))
    assert NO_CHARTS in _texts(document) and not document.inline_shapes
    assert len(document.tables) == 1  # the tables stay


def test_dates_in_the_bulletin_follow_the_clock(demo_session, demo_settings):
    content = bulletin(
        session=demo_session,
        query=Query(actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06"),
        today=date(2026, 1, 5),
    )
    assert content.issued_on == "2026年1月5日"


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="the chart export draws with Chromium")
def test_with_a_browser_the_charts_are_pictures_in_the_document(demo_session, demo_settings):
    content = bulletin(
        session=demo_session,
        query=Query(actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06"),
        today=TODAY,
    )
    document = _document(bulletin_docx(content))
    assert len(document.inline_shapes) == 2  # the monthly trend and the townships
    assert NO_CHARTS not in _texts(document)


# --- periods whose reporting is not over, and periods with no data --------------------------------
# 泥江口镇 on the small roster: an institute (3 a month) and two stations (2 each), 7 required a month.
# June: the institute 3, 油草塘村 2, 和平村 1 -> 6 of 7, 85.71 %; 和平村 is below quota.
# July, while its reporting is open (until 5 August): only the institute has reported, once.
JUNE_JULY = {("NJK-S", "2025-06"): 3, ("NJK-YCT", "2025-06"): 2, ("NJK-HP", "2025-06"): 1, ("NJK-S", "2025-07"): 1}
MID_JULY = date(2025, 7, 20)


def _town_bulletin(session, settings, start, end, today):  # type: ignore[no-untyped-def]
    return bulletin(
        session=session,
        query=Query(actor=REVIEWER, settings=settings, start=start, end=end, town="泥江口镇"),
        today=today,
    )


def test_a_month_whose_reporting_is_not_over_is_not_judged(session, settings):
    load_roster(session, settings)
    hold(session, settings, JUNE_JULY, today=TODAY)
    content = _town_bulletin(session, settings, "2025-06", "2025-07", MID_JULY)
    assert content.title == "关于2025年6-7月泥江口镇新时代文明实践活动开展情况的通报"
    assert content.overall[0] == (
        "据统计，截至2025年6月30日，泥江口镇新时代文明实践所和2个新时代文明实践站"
        "2025年6月开展活动6场次，完成率达到85.71%。"
    )
    assert content.overall[1] == (
        "2025年7月的活动台账尚在上报期内（2025年8月5日截止），暂不纳入本通报统计；目前已上报1场次。"
    )
    # Only June is judged: nobody is listed for July, which is still open.
    assert content.below == ["泥江口镇和平村新时代文明实践站（2025-06）"]
    assert (content.none, content.due) == ([], [])
    (row,) = content.towns.to_dict("records")
    assert (row["开展（场次）"], row["任务（场次）"], row["完成率"]) == (6, 7, "85.71%")
    texts = _texts(_document(bulletin_docx(content, with_charts=False)))
    assert content.overall[1] in texts


def test_the_deadline_day_itself_is_still_open_and_the_day_after_is_not(session, settings):
    load_roster(session, settings)
    hold(session, settings, JUNE_JULY, today=TODAY)
    on_the_day = _town_bulletin(session, settings, "2025-06", "2025-07", date(2025, 8, 5))
    assert on_the_day.overall[0].startswith("据统计，截至2025年6月30日，")
    after = _town_bulletin(session, settings, "2025-06", "2025-07", date(2025, 8, 6))
    # June and July judged: 6 + 1 held of 14 required; every unit but the institute is below in July.
    assert after.overall[0] == (
        "据统计，泥江口镇新时代文明实践所和2个新时代文明实践站2025年6-7月开展活动7场次，完成率达到50.00%。"
    )
    assert sorted(after.below) == sorted(
        [
            "泥江口镇和平村新时代文明实践站（2025-06、2025-07）",
            "泥江口镇油草塘村新时代文明实践站（2025-07）",
            "泥江口镇新时代文明实践所（2025-07）",
        ]
    )


def test_a_period_whose_reporting_is_all_open_is_refused_with_the_reason(session, settings):
    load_roster(session, settings)
    hold(session, settings, JUNE_JULY, today=TODAY)
    with pytest.raises(calendar.BadPeriod) as refused:
        _town_bulletin(session, settings, "2025-07", "2025-07", MID_JULY)
    assert str(refused.value) == (
        "2025年7月的活动台账尚在上报期内（2025年8月5日截止），截止后才能统计和通报；最近已截止上报的是2025年6月。"
    )
    # On 3 August June's reporting is over (it closed on 5 July), July's is not.
    with pytest.raises(calendar.BadPeriod, match="2025年7月的活动台账尚在上报期内"):
        _town_bulletin(session, settings, "2025-07", "2025-07", date(2025, 8, 3))
    # On 3 July, June's reporting is open too (until 5 July).
    with pytest.raises(calendar.BadPeriod) as both:
        _town_bulletin(session, settings, "2025-06", "2025-07", date(2025, 7, 3))
    assert str(both.value) == (
        "2025年6-7月的活动台账尚在上报期内（6月台账2025年7月5日截止，7月台账2025年8月5日截止），"
        "截止后才能统计和通报；最近已截止上报的是2025年5月。"
    )


def test_a_period_with_no_activity_at_all_says_so_instead_of_listing_every_unit(session, settings):
    load_roster(session, settings)
    hold(session, settings, JUNE_JULY, today=TODAY)
    content = bulletin(
        session=session, query=Query(actor=REVIEWER, settings=settings, start="2019-01", end="2019-12"), today=TODAY
    )
    assert content.overall == [
        "该时段（2019年1-12月）没有任何活动记录，无法统计开展场次和完成率；请核实活动台账是否已上报、导入。"
    ]
    assert (content.below, content.none, content.due, content.rejected) == ([], [], [], [])
    assert content.problems() == ["该时段没有任何活动记录，暂不评价各单位任务完成情况。"]
    assert content.towns.empty
    texts = _texts(_document(bulletin_docx(content)))
    assert content.overall[0] in texts and content.problems()[0] in texts
    assert not [t for t in texts if "未完成月度任务的单位" in t or "全期未开展活动" in t]
    # One township with nothing while others reported is a finding, not an absence of data.
    quiet = _town_bulletin(session, settings, "2025-06", "2025-06", TODAY)
    assert quiet.none == [] and len(quiet.below) == 1
    lanxi = bulletin(
        session=session,
        query=Query(actor=REVIEWER, settings=settings, start="2025-06", end="2025-06", town="兰溪镇"),
        today=TODAY,
    )
    assert sorted(lanxi.none) == ["兰溪镇和平村", "兰溪镇新建村新时代文明实践站", "兰溪镇新时代文明实践所"]


# --- the same on the command line -----------------------------------------------------------------


def _cli(settings, monkeypatch, capsys, today, *args):  # type: ignore[no-untyped-def]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr("monitor.cli.figures.today_in", lambda _settings: today)
    code = cli_main(["--db", settings.database_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_judges_only_the_months_whose_reporting_is_over(session, settings, monkeypatch, capsys):
    load_roster(session, settings)
    hold(session, settings, JUNE_JULY, today=TODAY)
    town = ("--town", "泥江口镇")
    code, out, _ = _cli(
        settings, monkeypatch, capsys, MID_JULY, "report", "--start", "2025-06", "--end", "2025-07", *town, "--json"
    )
    doc = json.loads(out)
    assert code == 0
    assert (doc["start"], doc["end"], doc["held"], doc["required"]) == ("2025-06", "2025-06", 6, 7)
    assert (doc["as_of"], doc["open_months"], doc["no_data"]) == ("2025-06-30", ["2025-07"], False)
    assert [m["month"] for m in doc["by_month"]] == ["2025-06"]
    code, out, _ = _cli(
        settings, monkeypatch, capsys, MID_JULY, "report", "--start", "2025-06", "--end", "2025-07", *town
    )
    assert code == 0 and "截至2025年6月30日" in out and "2025年7月的活动台账尚在上报期内" in out

    refused = "2025年7月的活动台账尚在上报期内（2025年8月5日截止），截止后才能统计和通报；最近已截止上报的是2025年6月。"
    for args in (("report",), ("report", "--json"), ("bulletin", "-o", str(settings.data_dir / "通报.docx"))):
        code, out, err = _cli(settings, monkeypatch, capsys, MID_JULY, *args, "--start", "2025-07", "--end", "2025-07")
        assert code == 2, (args, err)
        assert err.startswith(f"错误：{refused}") and "Traceback" not in err
        if "--json" in args:  # one JSON document saying why
            assert json.loads(out)["error"]["message"] == refused
    assert not (settings.data_dir / "通报.docx").exists()


def test_the_command_line_says_when_a_period_has_no_data(session, settings, monkeypatch, capsys):
    load_roster(session, settings)
    hold(session, settings, JUNE_JULY, today=TODAY)
    code, out, _ = _cli(
        settings, monkeypatch, capsys, TODAY, "report", "--start", "2019-01", "--end", "2019-12", "--json"
    )
    doc = json.loads(out)
    assert code == 0 and (doc["held"], doc["no_data"], doc["open_months"]) == (0, True, [])
    code, out, _ = _cli(settings, monkeypatch, capsys, TODAY, "report", "--start", "2019-01", "--end", "2019-12")
    assert code == 0 and "该时段没有任何活动记录" in out
    target = settings.data_dir / "2019.docx"
    code, out, _ = _cli(
        settings,
        monkeypatch,
        capsys,
        TODAY,
        "bulletin",
        "--start",
        "2019-01",
        "--end",
        "2019-12",
        "--no-charts",
        "-o",
        str(target),
    )
    assert code == 0
    texts = _texts(Document(str(target)))
    assert "该时段（2019年1-12月）没有任何活动记录，无法统计开展场次和完成率；请核实活动台账是否已上报、导入。" in texts
    assert not [t for t in texts if "未完成月度任务的单位" in t]
