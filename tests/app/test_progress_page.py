"""本月进度 on screen for a town clerk: the summary line, the units still owing, 上月未报齐 and 预警.

AppTest cannot move the clock, so only ui.common.today is patched; everything else is the app's.
"""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from sqlmodel import Session

from monitor.store.db import get_engine
from tests.factories import hold, load_roster
from tests.test_progress import HELD, JUNE_3, JUNE_12, ROSTER


@pytest.fixture
def district(settings):  # type: ignore[no-untyped-def]
    st.cache_data.clear()  # fresh PostgreSQL databases share one URL; start from no cached figures
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings, ROSTER)
        counts = {(code, month): n for code, months in HELD.items() for month, n in months.items() if n}
        hold(s, settings, counts, today=JUNE_12)
    return settings


def _open(app_for, settings, monkeypatch, today: date, **who):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ui.common.today", lambda: today)
    at = app_for(settings, **who).run()
    at.switch_page("app_pages/progress.py").run()
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    assert [t.value for t in at.title] == ["本月进度"]
    return at


def _rows(table, *columns):  # type: ignore[no-untyped-def]
    return [tuple(r) for r in table.value[list(columns)].itertuples(index=False)]


def test_a_town_clerk_sees_the_month_and_who_to_call(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, JUNE_12, role="town", town="泥江口镇")
    assert [w.value for w in at.warning][:1] == [
        "**本月还差 8 场：2 个站未开展，1 个所差 2 场，2 个站各差 1 场；距上报截止还有 23 天**"
    ]
    assert [(link.proto.label, link.proto.page) for link in at.get("page_link")][:2] == [
        ("登记活动", "register"),
        ("上传活动台账", "upload"),
    ]
    units, warnings = at.dataframe
    assert list(units.value.columns) == [
        "单位名称", "还差", "状态", "本月已开展", "本月任务", "类型", "所属乡镇", "负责人", "联系电话"
    ]  # fmt: skip
    assert _rows(units, "单位名称", "类型", "本月已开展", "本月任务", "还差", "状态") == [
        ("泥江口镇新时代文明实践所", "所", 1, 3, 2, "未完成"),
        ("和平村新时代文明实践站", "站", 0, 2, 2, "未开展"),
        ("油草塘村新时代文明实践站", "站", 0, 2, 2, "未开展"),
        ("安乐村", "站", 1, 2, 1, "未完成"),
        ("白竹村", "站", 1, 2, 1, "未完成"),
    ]
    assert set(units.value["所属乡镇"]) == {"泥江口镇"}
    # May's deadline (5 June) has passed: no 上月未报齐 section.
    assert [h.value for h in at.subheader] == ["预警"]
    assert _rows(warnings, "单位名称", "已连续未达标（月）", "还差", "负责人", "联系电话") == [
        ("油草塘村新时代文明实践站", 1, 2, "王五", ""),
        ("安乐村", 1, 1, "赵六", "13900000004"),
    ]


def test_while_last_month_is_open_its_short_units_are_listed(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, JUNE_3, role="town", town="泥江口镇")
    assert at.warning[0].value.endswith("距上报截止还有 32 天**")
    assert [h.value for h in at.subheader] == ["上月未报齐（2026-05）", "预警"]
    assert [e.value for e in at.error] == [
        "2026-05 还有 2 个单位未完成任务，共差 3 场；6月5日 24 时截止上报，还有 2 天。"
    ]
    _, last, _ = at.dataframe
    assert _rows(last, "单位名称", "上月已开展", "上月任务", "还差", "状态") == [
        ("安乐村", 0, 2, 2, "未开展"),
        ("油草塘村新时代文明实践站", 1, 2, 1, "未完成"),
    ]


def test_a_reviewer_sees_the_district_or_the_sidebars_township(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, JUNE_12, role="reviewer")
    assert at.warning[0].value == (
        "**本月还差 15 场：3 个站未开展，1 个中心差 5 场，1 个所差 2 场，2 个站各差 1 场；距上报截止还有 23 天**"
    )
    assert len(at.dataframe[0].value) == 8
    at.selectbox(key="f_town").set_value("兰溪镇").run()
    assert at.warning[0].value == "**本月还差 2 场：1 个站未开展；距上报截止还有 23 天**"
    assert _rows(at.dataframe[1], "单位名称", "已连续未达标（月）") == [("和平村", 2)]


def test_everything_done_reads_as_done(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, JUNE_12, role="reviewer")
    at.selectbox(key="f_town").set_value("兰溪镇").run()
    at.selectbox(key="f_type").set_value("所").run()
    assert [i.value for i in at.info][:1] == ["**本月任务已全部完成；距上报截止还有 23 天**"]
    assert [s.value for s in at.success] == ["目前没有本月结束后将被约谈的单位。"]


def test_on_the_deadline_day_last_month_closes_today(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, date(2026, 6, 5), role="town", town="泥江口镇")
    assert [e.value for e in at.error] == [
        "2026-05 还有 2 个单位未完成任务，共差 3 场；6月5日 24 时截止上报，今天截止。"
    ]
