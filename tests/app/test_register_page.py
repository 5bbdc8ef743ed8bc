"""活动登记 on screen: a clerk registers an activity and 本月进度 moves by one; a refused save keeps
what was typed; 我的登记 lists it and a correction moves the title. (Photos: tests/e2e/test_register.py.)"""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from sqlmodel import Session, select

from monitor.core.models import Activity, ImportBatch
from monitor.store.db import get_engine
from tests.factories import hold, load_roster
from tests.test_progress import HELD, JUNE_12, ROSTER


@pytest.fixture
def district(settings):  # type: ignore[no-untyped-def]
    st.cache_data.clear()
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings, ROSTER)
        counts = {(code, month): n for code, months in HELD.items() for month, n in months.items() if n}
        hold(s, settings, counts, today=JUNE_12)
    return settings


def _open(app_for, settings, monkeypatch, page: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("ui.common.today", lambda: JUNE_12)
    at = app_for(settings, role="town", town="泥江口镇", name="njk_clerk").run()
    at.switch_page(page).run()
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    return at


def _stored(settings) -> list[tuple[str, date, str]]:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        rows = s.exec(
            select(Activity.title, Activity.date, ImportBatch.kind).join(
                ImportBatch, Activity.batch_id == ImportBatch.id
            )
        ).all()
    return sorted((title, day, kind) for title, day, kind in rows if kind == "register")


def _owed(at) -> str:  # type: ignore[no-untyped-def]
    return [w.value for w in at.warning][0]


def test_a_clerk_registers_an_activity_and_the_month_moves_by_one(app_for, district, monkeypatch):
    progress = _open(app_for, district, monkeypatch, "app_pages/progress.py")
    assert _owed(progress).startswith("**本月还差 8 场")

    at = _open(app_for, district, monkeypatch, "app_pages/register.py")
    assert [t.value for t in at.title] == ["活动登记"]
    units = at.selectbox(key="reg0_unit")
    # The township's own five units, and no other township's.
    assert sorted(units.options) == sorted(
        ["泥江口镇新时代文明实践所", "油草塘村新时代文明实践站", "和平村新时代文明实践站", "安乐村", "白竹村"]
    )
    units.set_value("NJK-HP")
    at.text_input(key="reg0_title").set_value("理论宣讲进村组")
    at.selectbox(key="reg0_category").set_value("理论宣讲")
    at.number_input(key="reg0_people").set_value(40)
    at.button(key="reg0_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _stored(district) == [("理论宣讲进村组", JUNE_12, "register")]
    assert at.text_input(key="reg1_title").value == ""  # the next activity starts afresh
    assert "理论宣讲进村组" in at.expander[0].label and "待认定" in at.expander[0].label

    progress = _open(app_for, district, monkeypatch, "app_pages/progress.py")
    assert _owed(progress).startswith("**本月还差 7 场")


def test_a_refused_save_keeps_what_was_typed(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, "app_pages/register.py")
    at.selectbox(key="reg0_unit").set_value("NJK-HP")
    at.date_input(key="reg0_day").set_value(date(2026, 6, 2))
    at.text_input(key="reg0_title").set_value("6月2日例会")
    at.button(key="reg0_save").click().run()
    assert _stored(district) == [("6月2日例会", date(2026, 6, 2), "register")]
    at.selectbox(key="reg1_unit").set_value("NJK-HP")
    at.date_input(key="reg1_day").set_value(date(2026, 6, 2))
    at.text_input(key="reg1_title").set_value("6月2日例会")
    at.text_input(key="reg1_location").set_value("村部会议室")
    at.button(key="reg1_save").click().run()
    assert "已有活动“6月2日例会”" in at.error[0].value and "同名活动只记一次" in at.error[0].value
    assert at.text_input(key="reg1_title").value == "6月2日例会"
    assert at.text_input(key="reg1_location").value == "村部会议室"
    assert len(_stored(district)) == 1


def test_a_registration_is_corrected_from_my_registrations(app_for, district, monkeypatch):
    at = _open(app_for, district, monkeypatch, "app_pages/register.py")
    at.selectbox(key="reg0_unit").set_value("NJK-YCT")
    at.text_input(key="reg0_title").set_value("志愿服务")
    at.button(key="reg0_save").click().run()
    with Session(get_engine(district.database_url)) as s:
        activity_id = s.exec(select(Activity.id).where(Activity.title == "志愿服务")).one()
    at.text_input(key=f"fix{activity_id}_title").set_value("环境卫生志愿服务")
    at.button(key=f"fix{activity_id}_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _stored(district) == [("环境卫生志愿服务", JUNE_12, "register")]
