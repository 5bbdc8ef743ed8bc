"""Who may do what: the role matrix through the monitor API, passwords, sign-in and its slow-down."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from factories import SMALL_ROSTER, activities_csv, hold, load_roster, roster_csv
from sqlmodel import Session, delete, func, select

from monitor.admin.accounts import (
    SOURCE_FREE_ATTEMPTS,
    AuthError,
    UserError,
    actor_for,
    add_user,
    authenticate,
    create_first_admin,
    disable_user,
    enable_user,
    set_password,
)
from monitor.cli.main import main as cli_main
from monitor.core.config import Settings
from monitor.core.models import Activity, AuditEvent, Interview, LoginThrottle, MonthLock, Unit, User
from monitor.core.permissions import Actor, Forbidden, shell_actor
from monitor.core.query import Query
from monitor.demo.district import DemoRefused, load_demo
from monitor.evidence.photo_store import open_store
from monitor.figures import views
from monitor.figures.interview_log import InterviewInput, due_with_status, record_interview
from monitor.ingest.importer import import_activities
from monitor.ingest.quotas import UnitChanges, set_type_quotas, update_unit
from monitor.ingest.rollback import rollback_batch
from monitor.ingest.roster_file import import_units
from monitor.reports.ledger import ledger_xlsx
from monitor.roster.units import type_quotas
from monitor.store.audit import events
from monitor.store.db import data_version, get_engine
from monitor.store.locks import lock_month, unlock_month

TODAY = date(2026, 11, 26)
ACTORS = {
    "admin": Actor(name="管理员", role="admin"),
    "reviewer": Actor(name="审核员", role="reviewer"),
    "town": Actor(name="泥江口镇经办人", role="town", town="泥江口镇"),
}
OTHER_TOWN = "兰溪镇"


@dataclass
class World:
    session: Session
    settings: Settings
    batch_id: int


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    """The small roster, January-February 2025 held by both towns' institutes, and 2025-04 locked."""
    load_roster(session, settings)
    held = hold(
        session,
        settings,
        {("NJK-S", "2025-01"): 3, ("NJK-S", "2025-02"): 3, ("LX-S", "2025-01"): 1, ("LX-S", "2025-02"): 1},
        today=TODAY,
    )
    lock_month(session=session, month="2025-04", actor=ACTORS["admin"])
    add_user(session=session, actor=ACTORS["admin"], name="将停用", role="reviewer", password="to-disable-1")
    assert held.batch_id is not None
    return World(session=session, settings=settings, batch_id=held.batch_id)


def _import(world: World, actor: Actor, rows: list[tuple[str, ...]]):
    return import_activities(
        session=world.session,
        data=activities_csv(rows),
        file_name="台账.csv",
        settings=world.settings,
        actor=actor,
        today=TODAY,
    )


def import_own_town(world: World, actor: Actor) -> bool:
    result = _import(
        world,
        actor,
        [
            ("NJK-YCT", "", "", "2025-03-02", "理论宣讲", "20"),
            ("", "泥江口镇", "和平村", "2025-03-03", "志愿服务", "15"),
        ],
    )
    return (result.errors, result.imported) == ([], 2)


def import_roster(world: World, actor: Actor) -> bool:
    data = roster_csv([*SMALL_ROSTER, {"code": "NJK-XC", "name": "新村", "type": "站", "town": "泥江口镇"}])
    result = import_units(
        session=world.session, actor=actor, data=data, file_name="名册.csv", settings=world.settings, today=TODAY
    )
    return result.created == 1


def change_quotas(world: World, actor: Actor) -> bool:
    set_type_quotas(session=world.session, actor=actor, settings=world.settings, quotas={"station": 3}, today=TODAY)
    return type_quotas(session=world.session, month=TODAY.strftime("%Y-%m"))["station"] == 3


def change_unit(world: World, actor: Actor) -> bool:
    changes = UnitChanges(quota=4, head="赵六", phone="", active_from="", active_to="")
    saved = update_unit(
        session=world.session, actor=actor, settings=world.settings, code="NJK-HP", changes=changes, today=TODAY
    )
    return (saved.changed["quota"], saved.changed["head"][1]) == ((None, 4), "赵六")


def roll_back(world: World, actor: Actor) -> bool:
    done = rollback_batch(
        session=world.session, actor=actor, settings=world.settings, batch_id=world.batch_id, today=TODAY
    )
    return done.removed == 8


def record_talk(world: World, actor: Actor) -> bool:
    entry = InterviewInput(code="LX-S", month="2025-02", held_on=date(2025, 3, 10), interviewer="区委宣传部")
    record_interview(session=world.session, actor=actor, entry=entry)
    return world.session.exec(select(func.count()).select_from(Interview)).one() == 1


def lock(world: World, actor: Actor) -> bool:
    lock_month(session=world.session, month="2025-03", actor=actor)
    return world.session.get(MonthLock, "2025-03") is not None


def unlock(world: World, actor: Actor) -> bool:
    unlock_month(session=world.session, month="2025-04", actor=actor)
    return world.session.get(MonthLock, "2025-04") is None


def export_other_town(world: World, actor: Actor) -> bool:
    asked = Query(actor=actor, settings=world.settings, start="2025-01", end="2025-02", town=OTHER_TOWN)
    return ledger_xlsx(session=world.session, query=asked)[:2] == b"PK"


def view_scoped(world: World, actor: Actor) -> bool:
    asked = Query(actor=actor, settings=world.settings, start="2025-01", end="2025-02", town=OTHER_TOWN)
    return asked.town == OTHER_TOWN


def view_due(world: World, actor: Actor) -> bool:
    due = due_with_status(
        session=world.session,
        query=Query(actor=actor, settings=world.settings, start="2025-02", end="2025-02", town=OTHER_TOWN),
    )
    return sorted(due["code"]) == ["LX-HP", "LX-S"]


def view_unit(world: World, actor: Actor) -> bool:
    detail = views.unit_detail(
        session=world.session,
        query=Query(actor=actor, settings=world.settings, start="2025-01", end="2025-02"),
        code="LX-S",
    )
    return detail is not None and len(detail.activities) == 2


def view_center(world: World, actor: Actor) -> bool:
    detail = views.unit_detail(
        session=world.session,
        query=Query(actor=actor, settings=world.settings, start="2025-01", end="2025-02"),
        code="ZX",
    )
    return detail is not None and detail.unit["code"] == "ZX"


def add_account(world: World, actor: Actor) -> bool:
    add_user(session=world.session, actor=actor, name="新同事", role="reviewer", password="new-colleague-1")
    return world.session.exec(select(User).where(User.name == "新同事")).first() is not None


def disable_account(world: World, actor: Actor) -> bool:
    disable_user(session=world.session, actor=actor, name="将停用")
    return world.session.exec(select(User.disabled).where(User.name == "将停用")).one()


def load_the_demo(world: World, actor: Actor) -> bool:
    """Authorised, the demo is still refused here (the roster is not empty): the role check comes first."""
    try:
        load_demo(session=world.session, actor=actor, store=open_store(world.settings), accounts=False)
    except DemoRefused:
        return True
    return False


ACTIONS: dict[str, tuple[Callable[[World, Actor], bool], set[str]]] = {
    "add an account": (add_account, {"admin"}),
    "disable an account": (disable_account, {"admin"}),
    "load the demo": (load_the_demo, {"admin"}),
    "import own town": (import_own_town, {"admin", "reviewer", "town"}),
    "roster import": (import_roster, {"admin", "reviewer"}),
    "quota change": (change_quotas, {"admin", "reviewer"}),
    "unit change": (change_unit, {"admin", "reviewer"}),
    "rollback": (roll_back, {"admin", "reviewer"}),
    "record interview": (record_talk, {"admin", "reviewer"}),
    "lock month": (lock, {"admin", "reviewer"}),
    "unlock month": (unlock, {"admin", "reviewer"}),
    "ledger of another town": (export_other_town, {"admin", "reviewer"}),
    "a query for another town": (view_scoped, {"admin", "reviewer"}),
    "due interviews of another town": (view_due, {"admin", "reviewer"}),
    "unit detail in another town": (view_unit, {"admin", "reviewer"}),
    "unit detail of the district center": (view_center, {"admin", "reviewer"}),
}


def _writes(session: Session) -> tuple[int, int, int]:
    session.rollback()
    return (
        data_version(session),
        session.exec(select(func.count()).select_from(AuditEvent)).one(),
        session.exec(select(func.count()).select_from(Activity)).one(),
    )


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_matrix(world: World, role: str, action: str) -> None:
    run, allowed = ACTIONS[action]
    before = _writes(world.session)
    if role in allowed:
        assert run(world, ACTORS[role])
    else:
        with pytest.raises(Forbidden):
            run(world, ACTORS[role])
        assert _writes(world.session) == before


def test_a_town_user_sees_its_own_township_by_default(world: World) -> None:
    asked = Query(actor=ACTORS["town"], settings=world.settings, start="2025-01", end="2025-02")
    assert asked.town == "泥江口镇"
    due = due_with_status(
        session=world.session,
        query=Query(actor=ACTORS["town"], settings=world.settings, start="2025-02", end="2025-02"),
    )
    assert set(due["town"]) == {"泥江口镇"}


def test_town_staff_see_only_their_townships_batches(world: World) -> None:
    own = _import(world, ACTORS["town"], [("NJK-HP", "", "", "2025-03-02", "宣讲", "")])
    other = _import(
        world, Actor(name="兰溪镇经办人", role="town", town=OTHER_TOWN), [("LX-HP", "", "", "2025-03-02", "宣讲", "")]
    )
    assert (own.imported, other.imported) == (1, 1)
    seen = views.batches(session=world.session, actor=ACTORS["town"])
    assert seen["id"].tolist() == [own.batch_id]
    assert {own.batch_id, other.batch_id, world.batch_id} <= set(
        views.batches(session=world.session, actor=ACTORS["reviewer"])["id"]
    )


def test_a_town_user_importing_another_towns_rows_gets_forbidden_unit_per_row(world: World) -> None:
    rows = [
        ("NJK-HP", "", "", "2025-03-02", "宣讲", ""),
        ("LX-S", "", "", "2025-03-03", "宣讲", ""),
        ("", "兰溪镇", "和平村", "2025-03-04", "宣讲", ""),
        ("ZX", "", "", "2025-03-05", "宣讲", ""),
    ]
    result = _import(world, ACTORS["town"], rows)
    assert result.imported == 1
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "单位编码", "forbidden_unit"),
        (4, "单位名称", "forbidden_unit"),
        (5, "单位编码", "forbidden_unit"),
    ]
    named = [("兰溪镇新时代文明实践所", "兰溪镇"), ("兰溪镇和平村", "兰溪镇"), ("区新时代文明实践服务中心", "区级")]
    for error, (unit, town) in zip(result.errors, named, strict=True):
        assert unit in error.message and f"属于{town}" in error.message and "泥江口镇" in error.message
    stored = world.session.exec(
        select(Unit.code).join(Activity, Activity.unit_id == Unit.id).where(Activity.month == "2025-03")
    ).all()
    assert stored == ["NJK-HP"]


def test_a_clerks_bare_name_means_the_unit_of_their_own_township(world: World) -> None:
    """和平村 stands in both townships: to a 泥江口镇 clerk it is 泥江口镇's; to a reviewer it is ambiguous."""
    rows = [("", "", "和平村", "2025-03-02", "宣讲", "")]
    clerk = _import(world, ACTORS["town"], rows)
    assert (clerk.errors, clerk.imported) == ([], 1)
    stored = world.session.exec(
        select(Unit.code).join(Activity, Activity.unit_id == Unit.id).where(Activity.month == "2025-03")
    ).all()
    assert stored == ["NJK-HP"]
    reviewer = _import(world, ACTORS["reviewer"], [("", "", "和平村", "2025-03-09", "宣讲", "")])
    assert [e.code for e in reviewer.errors] == ["ambiguous_unit"]


def test_a_clerk_naming_only_another_townships_unit_is_told_it_is_not_theirs(world: World) -> None:
    """兰溪镇's institute, by its bare name, is refused as forbidden_unit rather than as unknown."""
    result = _import(world, ACTORS["town"], [("", "", "兰溪镇新时代文明实践所", "2025-03-02", "宣讲", "")])
    assert [(e.code, e.column) for e in result.errors] == [("forbidden_unit", "单位名称")]
    assert "属于兰溪镇" in result.errors[0].message


@pytest.mark.parametrize("role", ["admin", "reviewer"])
def test_reviewers_import_any_towns_rows(world: World, role: str) -> None:
    rows = [
        ("NJK-HP", "", "", "2025-03-02", "宣讲", ""),
        ("LX-S", "", "", "2025-03-03", "宣讲", ""),
        ("ZX", "", "", "2025-03-05", "宣讲", ""),
    ]
    result = _import(world, ACTORS[role], rows)
    assert (result.errors, result.imported) == ([], 3)


ADMIN = Actor(name="管理员", role="admin")
WRONG = "用户名或密码不正确。"
THROTTLED = "秒后再试"


def _user_row(session: Session, name: str) -> User:
    session.expire_all()
    return session.exec(select(User).where(User.name == name)).one()


def add_township(session: Session, town: str = "泥江口镇") -> None:
    """A roster holding one unit of the township, so that town accounts of it can be made."""
    session.add(Unit(code=f"{town}-S", name=f"{town}新时代文明实践所", short_name=town, type="institute", town=town))
    session.commit()


@pytest.fixture
def clerk(session: Session) -> Session:
    """One township in the roster and one town account, clerk of 泥江口镇 with password-1."""
    add_township(session)
    add_user(session=session, actor=ADMIN, name="clerk", role="town", town="泥江口镇", password="password-1")
    return session


def test_passwords_are_stored_as_argon2_hashes(session: Session) -> None:
    add_user(session=session, actor=ADMIN, name="reviewer1", role="reviewer", password="correct horse 9")
    row = _user_row(session, "reviewer1")
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse 9" not in row.password_hash
    assert authenticate(session=session, name="reviewer1", password="correct horse 9") == Actor(
        name="reviewer1", role="reviewer", town=""
    )


def test_a_short_password_is_refused(session: Session) -> None:
    with pytest.raises(UserError, match="至少 8 位"):
        add_user(session=session, actor=ADMIN, name="short", role="admin", password="1234567")
    assert session.exec(select(User)).all() == []


def test_a_town_user_needs_a_township(session: Session) -> None:
    with pytest.raises(UserError, match="所属乡镇"):
        add_user(session=session, actor=ADMIN, name="clerk", role="town", password="password-1")


@pytest.mark.parametrize(
    ("name", "town", "words"),
    [
        ("长" * 101, "", "最多 100 个字符"),
        ("x" * 150, "", "最多 100 个字符"),
        ("two\nlines", "", "控制字符"),
        ("tab\there", "", "控制字符"),
        ("zero\u200bwidth", "", "控制字符"),
        ("   ", "", "不能为空"),
        ("clerk2", "不存在镇", "名册中没有乡镇“不存在镇”"),
    ],
)
def test_an_account_that_cannot_be_stored_is_a_user_error(session: Session, name: str, town: str, words: str) -> None:
    add_township(session)
    role = "town" if town else "reviewer"
    with pytest.raises(UserError, match=words):
        add_user(session=session, actor=ADMIN, name=name, role=role, town=town, password="password-1")
    session.rollback()
    assert session.exec(select(User)).all() == []


def test_a_name_of_100_characters_is_stored(session: Session) -> None:
    add_user(session=session, actor=ADMIN, name="名" * 100, role="reviewer", password="password-1")
    assert _user_row(session, "名" * 100).role == "reviewer"


@pytest.mark.parametrize("role", ["reviewer", "town"])
def test_only_the_users_permission_manages_accounts(clerk: Session, role: str) -> None:
    someone = Actor(name="someone", role=role, town="泥江口镇" if role == "town" else "")
    changes = [
        lambda: add_user(session=clerk, actor=someone, name="new", role="admin", password="password-1"),
        lambda: disable_user(session=clerk, actor=someone, name="clerk"),
        lambda: enable_user(session=clerk, actor=someone, name="clerk"),
        lambda: set_password(session=clerk, actor=someone, name="clerk", password="password-9"),
    ]
    for change in changes:
        with pytest.raises(Forbidden, match="无权管理用户"):
            change()
    assert [u.name for u in clerk.exec(select(User)).all()] == ["clerk"]
    assert authenticate(session=clerk, name="clerk", password="password-1").name == "clerk"


def test_the_first_admin_only_on_an_empty_database(session: Session) -> None:
    first = create_first_admin(session=session, name="admin", password="password-1")
    assert (first.name, first.role) == ("admin", "admin")
    with pytest.raises(UserError, match="已有账号"):
        create_first_admin(session=session, name="second", password="password-2")
    assert [u.name for u in session.exec(select(User)).all()] == ["admin"]
    trail = events(session=session, actor=first_actor(first), timezone=Settings().timezone).frame
    assert trail[["actor", "action", "target"]].values.tolist() == [["admin", "user_add", "admin"]]


def first_actor(user: User) -> Actor:
    return Actor(name=user.name, role=user.role, town=user.town)


def test_two_first_admins_at_once_make_one(settings: Settings) -> None:
    engine = get_engine(settings.database_url)
    barrier = threading.Barrier(4)

    def create(i: int) -> str:
        with Session(engine) as s:
            barrier.wait()
            try:
                create_first_admin(session=s, name=f"admin{i}", password="password-1")
            except UserError as exc:
                return str(exc)
            return "created"

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(create, range(4)))
    assert answers.count("created") == 1, answers
    with Session(engine) as s:
        assert len(s.exec(select(User)).all()) == 1


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(clerk: Session) -> None:
    with pytest.raises(AuthError) as wrong:
        authenticate(session=clerk, name="clerk", password="password-2")
    with pytest.raises(AuthError) as unknown:
        authenticate(session=clerk, name="nobody", password="password-1")
    assert str(wrong.value) == str(unknown.value) == WRONG


def _answers(session: Session, name: str, tries: int, now: datetime, source: str = "") -> list[str]:
    answers = []
    for _ in range(tries):
        try:
            authenticate(session=session, name=name, password="guess-guess", now=now, source=source)
        except AuthError as exc:
            answers.append(WRONG if str(exc) == WRONG else THROTTLED if THROTTLED in str(exc) else str(exc))
    return answers


def test_an_unknown_name_is_throttled_like_a_real_one(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    real = _answers(clerk, "clerk", 7, start)
    unknown = _answers(clerk, "nobody", 7, start)
    assert real == unknown == [WRONG] * 5 + [THROTTLED] * 2
    with pytest.raises(AuthError, match="请 30 秒后再试") as real_wait:
        authenticate(session=clerk, name="clerk", password="guess-guess", now=start + timedelta(seconds=1))
    with pytest.raises(AuthError, match="请 30 秒后再试") as unknown_wait:
        authenticate(session=clerk, name="nobody", password="guess-guess", now=start + timedelta(seconds=1))
    assert str(real_wait.value) == str(unknown_wait.value)


def test_the_name_is_throttled_whatever_its_case_and_spaces(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    spellings = ["Clerk", " clerk", "CLERK ", "clerk", "cLeRk"]
    for name in spellings:
        assert _answers(clerk, name, 1, start) == [WRONG]
    assert _answers(clerk, "clerk", 1, start) == [THROTTLED]


def test_an_unknown_name_costs_a_password_check(clerk: Session) -> None:
    """Timing: an unknown name runs the same argon2 check as a known one (not answered at once)."""

    def elapsed(name: str) -> float:
        best = []
        for attempt in range(3):
            now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC) + timedelta(days=attempt)
            clerk.execute(delete(LoginThrottle))
            clerk.commit()
            started = time.perf_counter()
            with pytest.raises(AuthError, match=WRONG):
                authenticate(session=clerk, name=name, password="guess-guess", now=now)
            best.append(time.perf_counter() - started)
        return min(best)

    known, unknown = elapsed("clerk"), elapsed("no-such-account")
    assert unknown >= known / 2, (known, unknown)


def test_sixteen_concurrent_guesses_check_exactly_five_passwords(settings: Settings) -> None:
    engine = get_engine(settings.database_url)
    with Session(engine) as s:
        add_township(s)
        add_user(session=s, actor=ADMIN, name="clerk", role="town", town="泥江口镇", password="password-1")
    barrier = threading.Barrier(16)

    def guess(i: int) -> str:
        with Session(engine) as s:
            barrier.wait()
            try:
                authenticate(session=s, name="clerk", password=f"guess-{i:04d}")
            except AuthError as exc:
                return WRONG if str(exc) == WRONG else THROTTLED if THROTTLED in str(exc) else str(exc)
            return "signed in"

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(guess, range(16)))
    assert sorted(answers) == sorted([WRONG] * 5 + [THROTTLED] * 11), answers
    with Session(engine) as s:
        failed = s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login_failed")).one()
        assert failed == 5
        assert s.get(LoginThrottle, "name:clerk").failures == 5


def test_a_source_gets_a_larger_allowance_across_names(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    answers = []
    for i in range(SOURCE_FREE_ATTEMPTS + 1):
        answers += _answers(clerk, f"user{i}", 1, start, source="10.1.2.3")
    assert answers == [WRONG] * SOURCE_FREE_ATTEMPTS + [THROTTLED]
    assert _answers(clerk, "someone-else", 1, start, source="10.1.2.3") == [THROTTLED]
    # Another office is not held up, and the names of the first were tried once each.
    assert _answers(clerk, "user0", 1, start, source="10.9.9.9") == [WRONG]


def test_after_five_wrong_passwords_even_the_right_one_waits(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    for attempt in range(5):
        with pytest.raises(AuthError, match=WRONG):
            authenticate(session=clerk, name="clerk", password="guess", now=start + timedelta(seconds=attempt))
    last = start + timedelta(seconds=4)
    with pytest.raises(AuthError, match="秒后再试"):
        authenticate(session=clerk, name="clerk", password="password-1", now=last + timedelta(seconds=29))
    actor = authenticate(session=clerk, name="clerk", password="password-1", now=last + timedelta(seconds=31))
    assert actor == Actor(name="clerk", role="town", town="泥江口镇")
    clerk.expire_all()
    assert clerk.get(LoginThrottle, "name:clerk").failures == 0


def test_each_further_try_waits_twice_as_long_up_to_fifteen_minutes(clerk: Session) -> None:
    now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    waits = []
    for _ in range(12):
        try:
            authenticate(session=clerk, name="clerk", password="guess-guess", now=now)
        except AuthError:
            pass
        clerk.expire_all()
        row = clerk.get(LoginThrottle, "name:clerk")
        if row.next_at is not None:
            waits.append(int((row.next_at.replace(tzinfo=UTC) - now).total_seconds()))
            now = row.next_at.replace(tzinfo=UTC)
        else:
            waits.append(0)
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]


def test_four_wrong_passwords_do_not_slow_down_the_right_one(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    for _ in range(4):
        with pytest.raises(AuthError):
            authenticate(session=clerk, name="clerk", password="guess", now=start)
    assert authenticate(session=clerk, name="clerk", password="password-1", now=start).name == "clerk"


def test_a_new_password_lifts_the_wait(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert _answers(clerk, "clerk", 6, start)[-1] == THROTTLED
    set_password(session=clerk, actor=ADMIN, name="clerk", password="password-9")
    assert authenticate(session=clerk, name="clerk", password="password-9", now=start).name == "clerk"


def test_a_disabled_user_cannot_sign_in(clerk: Session) -> None:
    assert actor_for(session=clerk, name="clerk").town == "泥江口镇"
    disable_user(session=clerk, actor=ADMIN, name="clerk")
    with pytest.raises(AuthError, match="停用"):
        authenticate(session=clerk, name="clerk", password="password-1")
    with pytest.raises(UserError, match="停用"):
        actor_for(session=clerk, name="clerk")


def test_an_admin_cannot_disable_their_own_account(clerk: Session) -> None:
    with pytest.raises(UserError, match="不能停用自己"):
        disable_user(session=clerk, actor=Actor(name="clerk", role="admin"), name="clerk")


def test_a_disabled_user_enabled_again_signs_in_and_both_changes_are_on_record(clerk: Session) -> None:
    disable_user(session=clerk, actor=ADMIN, name="clerk")
    with pytest.raises(UserError, match="已是停用"):
        disable_user(session=clerk, actor=ADMIN, name="clerk")
    enable_user(session=clerk, actor=ADMIN, name="clerk")
    assert authenticate(session=clerk, name="clerk", password="password-1").town == "泥江口镇"
    with pytest.raises(UserError, match="未停用"):
        enable_user(session=clerk, actor=ADMIN, name="clerk")
    trail = events(session=clerk, actor=ADMIN, timezone=Settings().timezone).frame
    assert list(trail.loc[trail["target"] == "clerk", "action"])[:2] == ["user_enable", "user_disable"]
    assert set(trail.loc[trail["target"] == "clerk", "actor"]) == {"管理员"}


def test_failed_logins_are_audit_events_and_throttled_ones_are_not(clerk: Session) -> None:
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    for name in ("clerk", "nobody"):
        assert _answers(clerk, name, 7, start) == [WRONG] * 5 + [THROTTLED] * 2
    failed = clerk.exec(
        select(AuditEvent.actor).where(AuditEvent.action == "login_failed").order_by(AuditEvent.id)
    ).all()
    assert failed == ["clerk"] * 5 + ["nobody"] * 5


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["clerk", "--role", "town", "--town", "不存在镇"], "名册中没有乡镇“不存在镇”"),
        (["x" * 150, "--role", "reviewer"], "最多 100 个字符"),
    ],
)
def test_cli_users_add_refuses_what_cannot_be_stored_with_exit_2(
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    add_township(session)
    monkeypatch.setattr("sys.stdin", io.StringIO("password-1\n"))
    assert cli_main(["--db", settings.database_url, "users", "add", *args, "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    session.expire_all()
    assert session.exec(select(User)).all() == []


def test_cli_users_commands_act_as_the_operator(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_township(session)
    monkeypatch.setattr("sys.stdin", io.StringIO("password-1\n"))
    add = ["users", "add", "clerk", "--role", "town", "--town", "泥江口镇", "--password-stdin"]
    assert cli_main(["--db", settings.database_url, *add]) == 0
    assert cli_main(["--db", settings.database_url, "users", "disable", "clerk"]) == 0
    trail = events(session=session, actor=ADMIN, timezone=Settings().timezone).frame
    assert set(trail["actor"]) == {shell_actor().name}
