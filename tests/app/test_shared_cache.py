"""Figures cached on screen are shared by every account that may see the same: one computation for
thirty reviewers, never a figure of one township handed to a clerk of another."""

from __future__ import annotations

import pytest
import streamlit as st
from sqlmodel import Session

from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.figures import views
from monitor.store.db import get_engine
from tests.factories import load_roster
from ui import common

ROSTER = [
    {"code": "A-S", "name": "甲镇新时代文明实践所", "type": "所", "town": "甲镇"},
    {"code": "B-S", "name": "乙镇新时代文明实践所", "type": "所", "town": "乙镇"},
]
CALLS: list[tuple[str, str | None]] = []


def counted(*, session: Session, query: Query) -> str:
    CALLS.append((query.actor.name, query.town))
    return f"{query.town or '全区'} {query.start}"


@pytest.fixture
def district(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MONITOR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(settings.data_dir))
    st.cache_data.clear()
    CALLS.clear()
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings, ROSTER)
    return settings


def _ask(settings, actor: Actor, town: str | None = None):  # type: ignore[no-untyped-def]
    query = Query(actor=actor, settings=settings, start="2025-01", end="2025-03", town=town)
    return common.cached(counted, query=query)


def test_reviewers_share_one_computation(district):
    answers = [_ask(district, Actor(name=f"审核员{i}", role="reviewer")) for i in range(30)]
    assert answers == ["全区 2025-01"] * 30
    assert CALLS == [("审核员0", None)]


def test_clerks_share_their_townships_figures_and_no_other(district):
    first = _ask(district, Actor(name="甲镇一", role="town", town="甲镇"))
    second = _ask(district, Actor(name="甲镇二", role="town", town="甲镇"))
    other = _ask(district, Actor(name="乙镇一", role="town", town="乙镇"))
    reviewer = _ask(district, Actor(name="审核员", role="reviewer"), town="甲镇")
    assert (first, second, other, reviewer) == ("甲镇 2025-01", "甲镇 2025-01", "乙镇 2025-01", "甲镇 2025-01")
    # The reviewer's view of 甲镇 is computed for the reviewer's role: a check made for a role
    # (views.unit_detail's) is never skipped by a clerk's cached answer, nor the other way round.
    assert CALLS == [("甲镇一", "甲镇"), ("乙镇一", "乙镇"), ("审核员", "甲镇")]


def test_a_clerk_is_refused_another_townships_unit_though_a_reviewer_has_it_cached(district):
    reviewer = Actor(name="审核员", role="reviewer")
    clerk = Actor(name="乙镇一", role="town", town="乙镇")
    month = {"settings": district, "start": "2025-01", "end": "2025-01"}
    assert common.cached(views.unit_detail, code="A-S", query=Query(actor=reviewer, **month)) is not None
    with pytest.raises(Forbidden, match="只能查看本乡镇"):
        common.cached(views.unit_detail, code="A-S", query=Query(actor=clerk, **month))
