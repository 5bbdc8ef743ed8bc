"""Sign-in sessions kept across refreshes (monitor/sessions.py), on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from monitor.admin.accounts import add_user, disable_user, set_password
from monitor.admin.sessions import end_session, end_session_by_id, open_sessions, session_actor, start_session
from monitor.core.models import AuditEvent, SignInSession
from monitor.core.permissions import Actor, Forbidden

ADMIN = Actor(name="管理员", role="admin")
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def clerk(session, settings):
    add_user(session=session, actor=ADMIN, name="管理员", role="admin", password="admin-password-1")
    add_user(session=session, actor=ADMIN, name="clerk", role="reviewer", password="clerk-password-1")
    return Actor(name="clerk", role="reviewer")


def test_a_token_signs_its_account_in_and_the_database_keeps_only_its_hash(session, settings, clerk):
    token = start_session(session=session, actor=clerk, settings=settings, source="10.0.0.8", now=START)
    assert len(token) >= 40
    assert session_actor(session=session, token=token, settings=settings, now=START + timedelta(minutes=5)) == clerk
    assert session_actor(session=session, token=token + "x", settings=settings, now=START) is None
    assert session_actor(session=session, token="", settings=settings, now=START) is None
    (row,) = session.exec(select(SignInSession)).all()
    assert token not in (row.token_hash, row.source) and len(row.token_hash) == 64


def test_a_session_idle_longer_than_the_setting_ends(session, settings, clerk):
    token = start_session(session=session, actor=clerk, settings=settings, now=START)
    seen = START + timedelta(hours=7)
    assert session_actor(session=session, token=token, settings=settings, now=seen) == clerk
    # Idle is counted from the last time the session was seen: 7 h 59 min later it still holds.
    assert session_actor(session=session, token=token, settings=settings, now=seen + timedelta(hours=7, minutes=59))
    later = seen + timedelta(hours=7, minutes=59) + timedelta(hours=8, minutes=1)
    assert session_actor(session=session, token=token, settings=settings, now=later) is None
    assert session.exec(select(SignInSession.ended_reason)).one() == "idle"
    # Once ended it stays ended, even if asked again at once.
    assert session_actor(session=session, token=token, settings=settings, now=later) is None


def test_a_session_ends_after_seven_days_however_active(session, settings, clerk):
    token = start_session(session=session, actor=clerk, settings=settings, now=START)
    moment = START
    while moment < START + timedelta(days=7) - timedelta(hours=1):
        moment += timedelta(hours=1)
        assert session_actor(session=session, token=token, settings=settings, now=moment) == clerk
    assert session_actor(session=session, token=token, settings=settings, now=START + timedelta(days=7)) is None
    assert session.exec(select(SignInSession.ended_reason)).one() == "expired"


def test_signing_out_ends_the_session_and_is_audited(session, settings, clerk):
    token = start_session(session=session, actor=clerk, settings=settings, now=START)
    end_session(session=session, token=token)
    assert session_actor(session=session, token=token, settings=settings) is None
    assert session.exec(select(AuditEvent.actor).where(AuditEvent.action == "logout")).all() == ["clerk"]


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disabling_the_account_or_resetting_its_password_ends_all_its_sessions(session, settings, clerk, change):
    tokens = [start_session(session=session, actor=clerk, settings=settings) for _ in range(3)]
    mine = start_session(session=session, actor=ADMIN, settings=settings)
    if change == "disable":
        disable_user(session=session, actor=ADMIN, name="clerk")
    else:
        set_password(session=session, actor=ADMIN, name="clerk", password="a-new-password-1")
    assert [session_actor(session=session, token=t, settings=settings) for t in tokens] == [None] * 3
    assert session_actor(session=session, token=mine, settings=settings) == ADMIN  # other accounts keep theirs


def test_an_admin_sees_open_sessions_and_ends_one(session, settings, clerk):
    phone = start_session(session=session, actor=clerk, settings=settings, source="10.0.0.9")
    desk = start_session(session=session, actor=clerk, settings=settings, source="10.0.0.8")
    listed = open_sessions(session=session, actor=ADMIN)
    assert sorted(listed["source"]) == ["10.0.0.8", "10.0.0.9"]
    with pytest.raises(Forbidden):
        open_sessions(session=session, actor=clerk)
    phone_id = int(listed.loc[listed["source"] == "10.0.0.9", "id"].iloc[0])
    with pytest.raises(Forbidden):
        end_session_by_id(session=session, actor=clerk, session_id=phone_id)
    end_session_by_id(session=session, actor=ADMIN, session_id=phone_id)
    assert session_actor(session=session, token=phone, settings=settings) is None
    assert session_actor(session=session, token=desk, settings=settings) == clerk
    assert list(open_sessions(session=session, actor=ADMIN)["source"]) == ["10.0.0.8"]
