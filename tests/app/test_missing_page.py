"""催报 on 数据上传 for a reviewer: after last month's deadline day, the units and the text to send.

AppTest cannot move the clock, so only ui.common.today is patched; everything else is the app's.
"""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from sqlmodel import Session

from monitor.store.db import get_engine
from tests.factories import TODAY, hold, load_roster
from tests.test_missing import HELD, ROSTER

SECTION = "催报：上月未上报的单位"


@pytest.fixture
def district(settings):  # type: ignore[no-untyped-def]
    st.cache_data.clear()  # fresh PostgreSQL databases share one URL; start from no cached figures
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings, ROSTER)
        hold(s, settings, HELD, today=TODAY)
    return settings


def _open(app_for, settings, monkeypatch, today: date, **who):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ui.common.today", lambda: today)
    at = app_for(settings, **who).run()
    at.switch_page("app_pages/upload.py").run()
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    assert [t.value for t in at.title] == ["数据上传"]
    return at


def _section(at):  # type: ignore[no-untyped-def]
    found = [e for e in at.expander if e.label == SECTION]
    assert len(found) == 1
    return found[0]


def test_a_reviewer_sees_last_months_missing_units_after_the_deadline(app_for, district, monkeypatch):  # type: ignore[no-untyped-def]
    at = _open(app_for, district, monkeypatch, date(2025, 3, 6), role="reviewer")
    section = _section(at)
    assert [c.value for c in section.code] == [
        "请以下单位于3月7日前补报2025年2月新时代文明实践活动台账：\n"
        "兰溪镇：兰溪镇新时代文明实践所、和平村（+86 13800000002）\n"
        "泥江口镇：油草塘村新时代文明实践站（王五 13800000000）"
    ]
    table = section.dataframe[0].value
    assert [tuple(r) for r in table[["所属乡镇", "单位编码"]].itertuples(index=False)] == [
        ("兰溪镇", "LX-S"),
        ("兰溪镇", "LX-HP"),
        ("泥江口镇", "NJK-YCT"),
    ]
    assert "3 个单位没有任何活动记录" in section.caption[0].value
    assert [b.proto.label for b in section.get("download_button")] == ["下载催报名单（Excel）"]


def test_before_the_deadline_the_section_says_so(app_for, district, monkeypatch):  # type: ignore[no-untyped-def]
    at = _open(app_for, district, monkeypatch, date(2025, 3, 5), role="reviewer")
    section = _section(at)
    assert [i.value for i in section.info] == ["上月上报截止日（3月5日）未到。"]
    assert not section.code


def test_town_staff_do_not_get_the_section(app_for, district, monkeypatch):  # type: ignore[no-untyped-def]
    at = _open(app_for, district, monkeypatch, date(2025, 3, 6), role="town", town="泥江口镇")
    assert SECTION not in [e.label for e in at.expander]
