"""The audit trail: every kind of write leaves one event with who did it and, where it applies, before/after."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from factories import SMALL_ROSTER, activities_csv, roster_csv
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from monitor.admin.accounts import (
    SOURCE_FREE_ATTEMPTS,
    AuthError,
    actor_for,
    add_user,
    authenticate,
    disable_user,
    set_password,
)
from monitor.cli.main import main as cli_main
from monitor.core.config import Settings
from monitor.core.models import AuditEvent, Unit
from monitor.core.permissions import Actor, Forbidden
from monitor.figures.interview_log import InterviewInput, record_interview
from monitor.ingest.importer import import_activities
from monitor.ingest.quotas import UnitChanges, set_type_quotas, update_unit
from monitor.ingest.rollback import rollback_batch
from monitor.ingest.roster_file import import_units
from monitor.store import audit
from monitor.store.db import get_engine
from monitor.store.locks import lock_month, unlock_month

TODAY = date(2026, 11, 26)
ROOT = Path(__file__).resolve().parent.parent
MONITOR = ROOT / "monitor"
ADMIN = "管理员"
ADMIN_ACTOR = Actor(name=ADMIN, role="admin")
ZONE = Settings().timezone
REVIEWER_PASSWORD = "审核员的密码-2025"
CLERK_PASSWORDS = ("clerk-password-1", "clerk-password-2")


def _import(session: Session, settings: Settings, actor: Actor, data: bytes):
    return import_activities(
        session=session, data=data, file_name="台账.csv", settings=settings, actor=actor, today=TODAY
    )


def every_kind_of_write(session: Session, settings: Settings) -> None:
    """One of each write, by the people who would do it."""
    add_user(session=session, actor=ADMIN_ACTOR, name="审核员", role="reviewer", password=REVIEWER_PASSWORD)
    reviewer = actor_for(session=session, name="审核员")
    roster = import_units(
        session=session,
        data=roster_csv(SMALL_ROSTER),
        file_name="名册.csv",
        settings=settings,
        actor=reviewer,
        today=TODAY,
    )
    assert roster.created == 7
    add_user(
        session=session, actor=ADMIN_ACTOR, name="clerk", role="town", town="泥江口镇", password=CLERK_PASSWORDS[0]
    )
    clerk = actor_for(session=session, name="clerk")
    with pytest.raises(AuthError):
        authenticate(session=session, name="clerk", password="not-the-password")
    set_password(session=session, actor=ADMIN_ACTOR, name="clerk", password=CLERK_PASSWORDS[1])
    rows = [("NJK-S", "", "", "2025-01-0" + str(day), "宣讲", "") for day in (1, 2, 3)]
    imported = _import(session, settings, clerk, activities_csv(rows))
    assert imported.imported == 3
    refused = _import(session, settings, clerk, b"")
    assert refused.file_error is not None

    set_type_quotas(session=session, quotas={"station": 3}, actor=reviewer, settings=settings, today=TODAY)
    update_unit(
        session=session,
        code="NJK-HP",
        actor=reviewer,
        settings=settings,
        today=TODAY,
        changes=UnitChanges(quota=None, head="赵六", phone="", active_from="", active_to=""),
    )
    record_interview(
        session=session,
        actor=reviewer,
        entry=InterviewInput(code="NJK-YCT", month="2025-02", held_on=date(2025, 3, 10), interviewer="区委宣传部"),
    )
    lock_month(session=session, month="2025-02", actor=reviewer)
    unlock_month(session=session, month="2025-02", actor=reviewer)
    undone = rollback_batch(session=session, batch_id=imported.batch_id, actor=reviewer, settings=settings, today=TODAY)
    assert undone.removed == 3
    disable_user(session=session, actor=ADMIN_ACTOR, name="clerk")


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
    rollback_batch(session=session, batch_id=again.batch_id, actor=reviewer, settings=settings, today=TODAY)
    later = [e.model_dump() for e in _events(session)]
    assert later[: len(earlier)] == earlier
    assert [e["action"] for e in later[len(earlier) :]] == ["import", "rollback"]
    listed = audit.events(session=session, actor=reviewer, timezone=ZONE).frame
    assert listed["id"].tolist() == sorted((e["id"] for e in later), reverse=True)


def test_no_module_deletes_or_edits_audit_events() -> None:
    writes = re.compile(r"(delete|update)\(\s*AuditEvent|(DELETE\s+FROM|UPDATE)\s+auditevent", re.IGNORECASE)
    assert writes.search("session.execute(delete(AuditEvent))"), "the pattern sees a deletion"
    modules = list(MONITOR.rglob("*.py"))
    assert len(modules) > 50, "every room of the package is read"
    offenders = [p.name for p in modules if writes.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_before_and_after_read_in_chinese() -> None:
    assert audit.readable('{"disabled": false}') == "已停用：否"
    assert audit.readable('{"status": "rolled_back"}') == "状态：已撤销"
    assert audit.readable('{"phone": "139", "quota": null}') == "联系电话：139；月度任务：（空）"
    assert audit.readable('{"unknown_key": 3}') == "unknown_key：3"
    assert audit.readable("") == ""


def test_an_account_added_reads_in_chinese(session: Session) -> None:
    """The after column of user_add: the role's Chinese name; an empty township is left out."""
    session.add(
        Unit(code="NJK-S", name="泥江口镇新时代文明实践所", short_name="泥江口镇", type="institute", town="泥江口镇")
    )
    session.commit()
    add_user(session=session, actor=ADMIN_ACTOR, name="审核员", role="reviewer", password=REVIEWER_PASSWORD)
    add_user(session=session, actor=ADMIN_ACTOR, name="clerk", role="town", town="泥江口镇", password="password-1")
    add_user(session=session, actor=ADMIN_ACTOR, name="boss", role="admin", password="password-1")
    page = audit.events(session=session, actor=ADMIN_ACTOR, timezone=ZONE)
    after = dict(zip(page.frame["target"], page.frame["after"].map(audit.readable), strict=True))
    assert after == {
        "审核员": "角色：审核人员",
        "clerk": "角色：乡镇（街道）经办人；所属乡镇：泥江口镇",
        "boss": "角色：管理员",
    }


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ('{"status": "refused"}', "状态：未导入"),
        ('{"role": "town", "town": ""}', "角色：乡镇（街道）经办人"),
        ('{"disabled": true}', "已停用：是"),
        ('{"head": "", "phone": "139"}', "联系电话：139"),
    ],
)
def test_every_value_reads_in_chinese_and_blanks_are_left_out(text: str, read: str) -> None:
    assert audit.readable(text) == read


def _stored(session: Session, n: int, *, at: datetime | None = None) -> None:
    at = at or datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
    session.add_all([AuditEvent(at=at, actor="x", action="login", detail=str(i)) for i in range(n)])
    session.commit()


def test_the_trail_is_paged_and_says_how_many_there_are(session: Session) -> None:
    _stored(session, 450)
    first = audit.events(session=session, actor=ADMIN_ACTOR, timezone=ZONE)
    last = audit.events(session=session, actor=ADMIN_ACTOR, timezone=ZONE, offset=400)
    assert (first.total, len(first.frame), last.total, len(last.frame)) == (450, 200, 450, 50)
    ids = sorted(session.exec(select(AuditEvent.id)).all(), reverse=True)
    assert first.frame["id"].tolist() == ids[:200] and last.frame["id"].tolist() == ids[400:]


def test_town_staff_do_not_read_the_trail(session: Session) -> None:
    with pytest.raises(Forbidden, match="无权查看操作记录"):
        audit.events(session=session, actor=Actor(name="c", role="town", town="泥江口镇"), timezone=ZONE)


def test_a_flood_of_unknown_names_from_one_address_does_not_bury_the_trail(session: Session) -> None:
    _stored(session, 1)
    now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    for i in range(60):
        with pytest.raises(AuthError):
            authenticate(session=session, name=f"nobody{i}", password="guess-guess", source="10.0.0.9", now=now)
    failed = session.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert len(failed) == SOURCE_FREE_ATTEMPTS
    assert audit.events(session=session, actor=ADMIN_ACTOR, timezone=ZONE).total == SOURCE_FREE_ATTEMPTS + 1


def test_since_and_until_are_local_days_on_the_page_and_the_command_line(
    session: Session, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """2025-03-01 16:30 UTC is 2025-03-02 00:30 in Shanghai: it belongs to 2 March there."""
    _stored(session, 1, at=datetime(2025, 3, 1, 15, 30, tzinfo=UTC))  # 1 March 23:30 in Shanghai
    _stored(session, 1, at=datetime(2025, 3, 1, 16, 30, tzinfo=UTC))
    march_2 = audit.events(session=session, actor=ADMIN_ACTOR, timezone=ZONE, since=date(2025, 3, 2))
    march_1 = audit.events(session=session, actor=ADMIN_ACTOR, timezone=ZONE, until=date(2025, 3, 1))
    assert (march_2.total, march_1.total) == (1, 1)
    assert cli_main(["--db", settings.database_url, "audit", "--since", "2025-03-02", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert (listed["total"], [e["at"][:16] for e in listed["events"]]) == (1, ["2025-03-01T16:30"])
    assert cli_main(["--db", settings.database_url, "audit", "--until", "2025-03-01", "--json"]) == 0
    assert [e["at"][:16] for e in json.loads(capsys.readouterr().out)["events"]] == ["2025-03-01T15:30"]
    assert cli_main(["--db", settings.database_url, "audit", "--since", "3月2日"]) == 2
    assert "格式不对" in capsys.readouterr().err


@pytest.fixture
def page_app(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MONITOR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("MONITOR_ADMIN_PASSWORD", raising=False)
    monkeypatch.chdir(ROOT)
    main = sys.modules["__main__"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    with Session(get_engine(settings.database_url)) as s:
        add_user(session=s, actor=ADMIN_ACTOR, name="审核员", role="reviewer", password=REVIEWER_PASSWORD)
    at.session_state["actor"] = Actor(name="审核员", role="reviewer")
    yield at
    sys.modules["__main__"] = main


def test_the_audit_page_says_how_many_and_turns_pages(session: Session, page_app) -> None:  # type: ignore[no-untyped-def]
    _stored(session, 449, at=datetime.now(UTC))
    at = page_app.run()
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception
    assert any("共 450 条" in c.value for c in at.caption)
    assert len(at.dataframe[0].value) == 200
    [pages] = [n for n in at.number_input if n.label.startswith("页码")]
    assert pages.label == "页码（共 3 页）"
    pages.set_value(3).run()
    assert len(at.dataframe[0].value) == 50
    assert any("第 401–450 条" in c.value for c in at.caption)
