"""通报 (SPEC §9): the document's figures are the report's, in the department's words, on both engines."""

from __future__ import annotations

import io
import shutil
from datetime import date

import plotly.io
import pytest
from docx import Document
from factories import OPERATOR, RULES, TODAY, hold, load_roster

from monitor import metrics
from monitor.auth import Actor, Forbidden
from monitor.bulletin import bulletin, period_words
from monitor.bulletin_docx import NO_CHARTS, bulletin_docx
from monitor.export import FORMULA_STARTS

REVIEWER = Actor(name="审核员", role="reviewer")


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
        session=demo_session, actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06", today=TODAY
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


def test_every_figure_in_the_tables_is_the_reports(demo_session, demo_settings):
    content = bulletin(
        session=demo_session, actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-12", today=TODAY
    )
    document = _document(bulletin_docx(content, with_charts=False))
    report = metrics.report(session=demo_session, actor=OPERATOR, settings=RULES, start="2025-01", end="2025-12")
    expected = {
        t["town"]: (t["held"], t["required"], f"{t['completion_rate'] * 100:.2f}%") for t in report.to_json()["by_town"]
    }
    (table,) = document.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["排名", "乡镇（街道）", "开展（场次）", "任务（场次）", "完成率", "达标率", "按时上报率"]
    shown = {r[1]: (int(r[2]), int(r[3]), r[4]) for r in rows[1:]}
    assert shown == expected and len(rows) == 19
    rates = [float(r[4].rstrip("%")) for r in rows[1:]]
    assert rates == sorted(rates, reverse=True) and [r[0] for r in rows[1:]] == [str(i) for i in range(1, 19)]
    cells = [c.text for row in table.rows for c in row.cells]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    # 三、存在问题: the units below quota and those due at 2025-12 are the engine's.
    below_units = report.grid[report.grid["below"]]["id"].nunique()
    due = metrics.interviews(session=demo_session, actor=OPERATOR, settings=RULES, month="2025-12")
    assert (len(content.below), len(content.due), len(content.none)) == (below_units, len(due), 0)
    lines = _texts(document)
    assert f"（一）未完成月度任务的单位（{below_units}个）：" in "".join(lines)
    assert f"（三）应约谈的单位（{len(due)}个）：" in "".join(lines)


def test_a_township_bulletin_and_a_unit_with_no_activity(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-S", "2025-03"): 3, ("NJK-YCT", "2025-03"): 1}, today=TODAY)
    content = bulletin(
        session=session, actor=REVIEWER, settings=settings, start="2025-03", end="2025-03", today=TODAY, town="泥江口镇"
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
            actor=Actor(name="clerk", role="town", town="泥江口镇"),
            settings=settings,
            start="2025-03",
            end="2025-03",
            today=TODAY,
        )


def test_charts_are_pictures_or_one_line_saying_why_not(demo_session, demo_settings, monkeypatch):
    content = bulletin(
        session=demo_session, actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06", today=TODAY
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
        actor=REVIEWER,
        settings=demo_settings,
        start="2025-01",
        end="2025-06",
        today=date(2026, 1, 5),
    )
    assert content.issued_on == "2026年1月5日"


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="the chart export draws with Chromium")
def test_with_a_browser_the_charts_are_pictures_in_the_document(demo_session, demo_settings):
    content = bulletin(
        session=demo_session, actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-06", today=TODAY
    )
    document = _document(bulletin_docx(content))
    assert len(document.inline_shapes) == 2  # the monthly trend and the townships
    assert NO_CHARTS not in _texts(document)
