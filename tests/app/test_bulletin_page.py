"""通报 page: a period whose reporting is not over, and one with no activity, read as on the command line.

AppTest cannot move the clock, so only ui.common.today is patched; everything else is the app's.
"""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from sqlmodel import Session

from monitor.store.db import get_engine
from tests.factories import TODAY, hold, load_roster

# June and July 2025 on the small roster; on 3 August July's reporting is open until 5 August.
HELD = {("NJK-S", "2025-06"): 3, ("NJK-YCT", "2025-06"): 2, ("NJK-HP", "2025-06"): 1, ("NJK-S", "2025-07"): 1}
EARLY_AUGUST = date(2025, 8, 3)


@pytest.fixture
def district(settings):  # type: ignore[no-untyped-def]
    st.cache_data.clear()  # fresh PostgreSQL databases share one URL; start from no cached figures
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
        hold(s, settings, HELD, today=TODAY)
    return settings


def _bulletin(app_for, settings, monkeypatch, start: str, end: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ui.common.today", lambda: EARLY_AUGUST)
    at = app_for(settings, role="reviewer")
    at.session_state["f_start"], at.session_state["f_end"] = start, end
    at.run()
    at.switch_page("app_pages/bulletin.py").run()
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    assert [t.value for t in at.title] == ["通报"]
    assert (at.session_state["f_start"], at.session_state["f_end"]) == (start, end)
    return at


def test_a_month_still_open_for_reporting_is_refused_with_the_reason(app_for, district, monkeypatch):  # type: ignore[no-untyped-def]
    at = _bulletin(app_for, district, monkeypatch, "2025-07", "2025-07")
    assert [i.value for i in at.info] == [
        "2025年7月的活动台账尚在上报期内（2025年8月5日截止），截止后才能统计和通报；最近已截止上报的是2025年6月。"
    ]
    assert not at.get("download_button")


def test_only_the_months_whose_reporting_is_over_are_judged(app_for, district, monkeypatch):  # type: ignore[no-untyped-def]
    at = _bulletin(app_for, district, monkeypatch, "2025-06", "2025-07")
    text = [m.value for m in at.markdown]
    assert "#### 关于2025年6-7月全区新时代文明实践活动开展情况的通报" in text
    assert "2025年7月的活动台账尚在上报期内（2025年8月5日截止），暂不纳入本通报统计；目前已上报1场次。" in text
    overall = [t for t in text if t.startswith("据统计，")]
    assert len(overall) == 1 and overall[0].startswith("据统计，截至2025年6月30日，")
    assert "2025年6月开展活动6场次" in overall[0]
    # June on the small roster: the center (8), two institutes (3 each), four stations (2 each, 新建村
    # still open): 22 required; 6 held, 27.27 %.
    assert overall == [
        "据统计，截至2025年6月30日，区新时代文明实践服务中心、2个新时代文明实践所和4个新时代文明实践站"
        "2025年6月开展活动6场次，完成率达到27.27%。"
    ]
    assert not [t for t in text if "2025-07" in t]  # nobody is listed for July
    assert "下载通报（Word）" in [b.label for b in at.get("download_button")]


def test_a_period_without_any_activity_says_so(app_for, district, monkeypatch):  # type: ignore[no-untyped-def]
    at = _bulletin(app_for, district, monkeypatch, "2024-01", "2024-12")
    text = [m.value for m in at.markdown]
    assert "该时段（2024年1-12月）没有任何活动记录，无法统计开展场次和完成率；请核实活动台账是否已上报、导入。" in text
    assert "该时段没有任何活动记录，暂不评价各单位任务完成情况。" in text
    assert not [t for t in text if "未完成月度任务的单位" in t or "全期未开展活动" in t]
