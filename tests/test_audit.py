"""The audit trail: every kind of write leaves one event with who did it and, where it applies, before/after."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from factories import SMALL_ROSTER, activities_csv, roster_csv
from sqlmodel import Session, select

from monitor import audit
from monitor.auth import Actor, AuthError, actor_for, add_user, authenticate, disable_user, set_password
from monitor.config import Settings
from monitor.importer import import_activities
from monitor.interview_log import InterviewInput, record_interview
from monitor.locks import lock_month, unlock_month
from monitor.models import AuditEvent
from monitor.quotas import UnitChanges, set_type_quotas, update_unit
from monitor.rollback import rollback_batch
from monitor.roster import import_units

TODAY = date(2026, 11, 26)
MONITOR = Path(__file__).resolve().parent.parent / "monitor"
ADMIN = "管理员"
REVIEWER_PASSWORD = "审核员的密码-2025"
CLERK_PASSWORDS = ("clerk-password-1", "clerk-password-2")


def _import(session: Session, settings: Settings, actor: Actor, data: bytes):
    return import_activities(
        session=session, data=data, file_name="台账.csv", settings=settings, actor=actor, today=TODAY
    )


def every_kind_of_write(session: Session, settings: Settings) -> None:
    """One of each write, by the people who would do it."""
    add_user(session=session, name="审核员", role="reviewer", password=REVIEWER_PASSWORD, by=ADMIN)
    add_user(session=session, name="clerk", role="town", town="泥江口镇", password=CLERK_PASSWORDS[0], by=ADMIN)
    reviewer = actor_for(session=session, name="审核员")
    clerk = actor_for(session=session, name="clerk")
    with pytest.raises(AuthError):
        authenticate(session=session, name="clerk", password="not-the-password")
    set_password(session=session, name="clerk", password=CLERK_PASSWORDS[1], by=ADMIN)

    roster = import_units(
        session=session, data=roster_csv(SMALL_ROSTER), file_name="名册.csv", settings=settings, actor=reviewer
    )
    assert roster.created == 7
    rows = [("NJK-S", "", "", "2025-01-0" + str(day), "宣讲", "") for day in (1, 2, 3)]
    imported = _import(session, settings, clerk, activities_csv(rows))
    assert imported.imported == 3
    refused = _import(session, settings, clerk, b"")
    assert refused.file_error is not None

    set_type_quotas(session=session, quotas={"station": 3}, actor=reviewer)
    update_unit(
        session=session,
        code="NJK-HP",
        actor=reviewer,
        changes=UnitChanges(quota=None, head="赵六", phone="", active_from="", active_to=""),
    )
    record_interview(
        session=session,
        actor=reviewer,
        entry=InterviewInput(code="NJK-YCT", month="2025-02", held_on=date(2025, 3, 10), interviewer="区委宣传部"),
    )
    lock_month(session=session, month="2025-02", actor=reviewer)
    unlock_month(session=session, month="2025-02", actor=reviewer)
    assert rollback_batch(session=session, batch_id=imported.batch_id, actor=reviewer) == 3
    disable_user(session=session, name="clerk", by=ADMIN)


def _events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


# action -> one (actor, target, before, after) per event; before/after None when the event has none,
# else the keys it must hold with their values.
EXPECTED: dict[str, list[tuple[str, str, dict[str, object] | None, dict[str, object] | None]]] = {
    "user_add": [
        (ADMIN, "审核员", None, {"role": "reviewer", "town": ""}),
        (ADMIN, "clerk", None, {"role": "town", "town": "泥江口镇"}),
    ],
    "login_failed": [("clerk", "", None, None)],
    "user_passwd": [(ADMIN, "clerk", None, None)],
    "roster_import": [("审核员", "名册.csv", None, {"created": 7, "updated": 0, "rejected": 0})],
    "import": [("clerk", "台账.csv", None, {"rows": 3, "imported": 3, "duplicates": 0, "rejected": 0})],
    "import_refused": [("clerk", "台账.csv", None, None)],
    "quota_change": [
        (
            "审核员",
            "类型月度任务",
            {"center": 8, "institute": 3, "station": 2},
            {"center": 8, "institute": 3, "station": 3},
        )
    ],
    "unit_change": [("审核员", "NJK-HP 和平村新时代文明实践站", {"head": ""}, {"head": "赵六"})],
    "interview": [
        (
            "审核员",
            "NJK-YCT 油草塘村新时代文明实践站",
            None,
            {"month": "2025-02", "held_on": "2025-03-10", "interviewer": "区委宣传部"},
        )
    ],
    "lock": [("审核员", "2025-02", {"locked": False}, {"locked": True})],
    "unlock": [("审核员", "2025-02", {"locked": True}, {"locked": False})],
    "rollback": [("审核员", "台账.csv", {"status": "imported", "activities": 3}, {"status": "rolled_back"})],
    "user_disable": [(ADMIN, "clerk", {"disabled": False}, {"disabled": True})],
}


def _subset(text: str, keys: dict[str, object] | None) -> object:
    value = json.loads(text) if text else None
    if keys is None or not isinstance(value, dict):
        return value
    return {k: value.get(k) for k in keys}


def test_every_write_is_an_audit_event(session: Session, settings: Settings) -> None:
    every_kind_of_write(session, settings)
    events = _events(session)
    found: dict[str, list[tuple[object, ...]]] = {}
    for event in events:
        seen = found.setdefault(event.action, [])
        shapes = EXPECTED.get(event.action, [])
        _, _, before, after = shapes[len(seen)] if len(seen) < len(shapes) else (None, None, None, None)
        seen.append((event.actor, event.target, _subset(event.before, before), _subset(event.after, after)))
    assert found == EXPECTED
    assert all(e.at is not None for e in events)
    (refused,) = [e for e in events if e.action == "import_refused"]
    assert "空" in refused.detail
    trail = json.dumps([e.model_dump() for e in events], ensure_ascii=False, default=str)
    for password in (REVIEWER_PASSWORD, *CLERK_PASSWORDS, "not-the-password"):
        assert password not in trail


def test_events_only_grow(session: Session, settings: Settings) -> None:
    every_kind_of_write(session, settings)
    earlier = [e.model_dump() for e in _events(session)]
    reviewer = Actor(name="审核员", role="reviewer")
    again = _import(session, settings, reviewer, activities_csv([("LX-S", "", "", "2025-01-05", "宣讲", "")]))
    rollback_batch(session=session, batch_id=again.batch_id, actor=reviewer)
    later = [e.model_dump() for e in _events(session)]
    assert later[: len(earlier)] == earlier
    assert [e["action"] for e in later[len(earlier) :]] == ["import", "rollback"]
    listed = audit.events(session=session)
    assert listed["id"].tolist() == sorted((e["id"] for e in later), reverse=True)


def test_no_module_deletes_or_edits_audit_events() -> None:
    writes = re.compile(r"(delete|update)\(\s*AuditEvent|(DELETE\s+FROM|UPDATE)\s+auditevent", re.IGNORECASE)
    offenders = [p.name for p in MONITOR.glob("*.py") if writes.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_before_and_after_read_in_chinese() -> None:
    assert audit.readable('{"disabled": false}') == "已停用：否"
    assert audit.readable('{"status": "rolled_back"}') == "状态：已撤销"
    assert audit.readable('{"phone": "139", "quota": null}') == "联系电话：139；月度任务：（空）"
    assert audit.readable('{"unknown_key": 3}') == "unknown_key：3"
    assert audit.readable("") == ""
