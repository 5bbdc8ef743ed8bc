"""删除 on an activity's photo: the clerk who uploaded it until review, after a confirmation; nobody else
of the township."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from monitor.core.models import AuditEvent, Photo
from monitor.core.permissions import Actor
from monitor.store.db import get_engine
from tests.factories import TODAY, hold, load_roster
from tests.test_gallery import attach, ids_of

JUNE = "2025-06"
CLERK = Actor(name="t_town_泥江口镇", role="town", town="泥江口镇")  # the account app_for signs in as


@pytest.fixture
def june(settings):  # type: ignore[no-untyped-def]
    """油草塘村's first June activity with two photos: one the clerk uploaded, one the operator did."""
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
        hold(s, settings, {("NJK-YCT", JUNE): 1}, today=TODAY)
        first = ids_of(s, "NJK-YCT", JUNE)[0]
        attach(s, settings, first, 1, actor=CLERK)
        attach(s, settings, first, 2)
    return settings


def _photos(settings) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return list(s.exec(select(Photo.file_name).order_by(col(Photo.id))).all())


def _open(app_for, settings, **who):  # type: ignore[no-untyped-def]
    at = app_for(settings, **who)
    at.session_state["f_start"], at.session_state["f_end"] = JUNE, JUNE
    at.run()
    at.switch_page("app_pages/units.py").run()
    [unit] = [s for s in at.selectbox if s.label == "选择单位"]
    unit.set_value([o for o in unit.options if "NJK-YCT" in o][0]).run()
    assert not at.exception, [x.value for x in at.exception]
    return at


def test_the_clerk_removes_their_own_photo_after_confirming(app_for, june):
    at = _open(app_for, june, role="town", town="泥江口镇")
    removes = [b for b in at.button if b.label == "删除"]
    assert len(removes) == 1, "only the photo this clerk uploaded"
    removes[0].click().run()
    [no] = [b for b in at.button if b.label == "取消"]
    no.click().run()
    assert "确认删除" not in {b.label for b in at.button}
    [b for b in at.button if b.label == "删除"][0].click().run()
    assert any("删除后无法恢复" in c.value for c in at.caption)
    assert _photos(june) == ["1.jpg", "2.jpg"], "nothing goes before the confirmation"
    [sure] = [b for b in at.button if b.label == "确认删除"]
    sure.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("已删除照片 1.jpg" in s.value for s in at.success)
    assert _photos(june) == ["2.jpg"]
    assert not [b for b in at.button if b.label == "删除"]
    with Session(get_engine(june.database_url)) as s:
        assert s.exec(select(AuditEvent.actor).where(AuditEvent.action == "photo_remove")).all() == [CLERK.name]


def test_a_reviewer_may_remove_any_photo(app_for, june):
    at = _open(app_for, june, role="reviewer")
    assert len([b for b in at.button if b.label == "删除"]) == 2
