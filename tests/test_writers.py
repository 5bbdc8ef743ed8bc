"""Writers of different kinds at the same moment: decisions, rollbacks, imports and roster imports.

Each test starts its writers together at a barrier, each thread with its own connection, and ends
with `check`: the unit × month counts and the township sums equal what the rows say. On
PostgreSQL the writers take turns on the advisory lock, on SQLite on the database's write lock;
one of two people acting on one thing wins and the other is told 已被他人处理.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from factories import OPERATOR, TODAY, activities_csv, hold, load_roster, roster_csv
from sqlmodel import Session, col, func, select

from monitor.core.config import Settings
from monitor.core.models import Activity, AuditEvent, Feedback, Review, Unit, UnitMonth
from monitor.core.permissions import Actor
from monitor.counts import unitmonths
from monitor.evidence.review import ReviewRefused, decide
from monitor.ingest.importer import import_activities
from monitor.ingest.rollback import RollbackRefused, rollback_batch
from monitor.ingest.roster_file import import_units
from monitor.store.db import get_engine

REVIEWERS = [Actor(name=f"审核员{n}", role="reviewer") for n in range(8)]
Outcome = tuple[str, object]


def at_once(settings: Settings, jobs: list[Callable[[Session], object]]) -> list[Outcome]:
    """Run the jobs in threads released together; each outcome is ("ok", value) or ("refused", message)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[Outcome] = [("", None)] * len(jobs)

    def work(number: int) -> None:
        with Session(get_engine(settings.database_url)) as session:
            barrier.wait(timeout=30)
            try:
                outcomes[number] = ("ok", jobs[number](session))
            except (ReviewRefused, RollbackRefused) as exc:
                outcomes[number] = ("refused", str(exc))
            except Exception as exc:  # anything else is the defect this file looks for
                outcomes[number] = ("error", f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def roomy(settings: Settings) -> Settings:
    """Eight writers queue behind each other: each may wait longer than the default."""
    return replace(settings, busy_seconds=60)


def counts(session: Session, code: str, month: str) -> tuple[int, int, int]:
    session.expire_all()
    row = session.exec(
        select(UnitMonth.activities, UnitMonth.recognised, UnitMonth.not_recognised)
        .join(Unit, col(Unit.id) == col(UnitMonth.unit_id))
        .where(Unit.code == code, UnitMonth.month == month)
    ).first()
    return tuple(row) if row else (0, 0, 0)  # type: ignore[return-value]


def no_difference(session: Session, settings: Settings) -> None:
    session.expire_all()
    done = unitmonths.check(session=session, actor=OPERATOR, settings=settings)
    assert (done.differences, done.sums) == ([], [])


def ids(session: Session, code: str, month: str) -> list[int]:
    unit = session.exec(select(Unit).where(Unit.code == code)).one()
    found = session.exec(
        select(Activity.id).where(Activity.unit_id == unit.id, Activity.month == month).order_by(col(Activity.id))
    ).all()
    return [int(i) for i in found if i is not None]


def deciding(settings: Settings, reviewer: Actor, activity_id: int, decision: str, seen: str):  # type: ignore[no-untyped-def]
    def job(session: Session) -> object:
        review = decide(
            session=session,
            actor=reviewer,
            settings=roomy(settings),
            activity_id=activity_id,
            decision=decision,
            reason="照片与活动不符" if decision == "rejected" else "",
            seen=seen,
            today=TODAY,
        )
        return (review.reviewer, review.decision)

    return job


@pytest.fixture
def june(session: Session, settings: Settings) -> Session:
    """油草塘村 holds 8 activities in June 2025, 和平村 (泥江口镇) 2."""
    load_roster(session, settings)
    hold(session, settings, {("NJK-YCT", "2025-06"): 8, ("NJK-HP", "2025-06"): 2}, today=TODAY)
    return session


@pytest.mark.parametrize("round_", range(3))
def test_eight_first_decisions_on_one_activity_at_once_one_wins_the_rest_are_told(june, settings, round_):
    target = ids(june, "NJK-YCT", "2025-06")[0]
    jobs = [
        deciding(settings, reviewer, target, "rejected" if n % 2 else "recognised", seen="")
        for n, reviewer in enumerate(REVIEWERS)
    ]
    outcomes = at_once(settings, jobs)
    assert [kind for kind, _ in outcomes if kind == "error"] == [], outcomes
    won = [value for kind, value in outcomes if kind == "ok"]
    told = [str(value) for kind, value in outcomes if kind == "refused"]
    assert len(won) == 1 and len(told) == 7
    winner, decision = won[0]  # type: ignore[misc]
    assert all(t.startswith(f"已被他人处理：{winner} 已于") for t in told), told
    june.expire_all()
    stored = june.get(Review, target)
    assert stored is not None and (stored.reviewer, stored.decision) == (winner, decision)
    # 8 held; the one decision moves exactly one activity
    expected = (8, 1, 0) if decision == "recognised" else (8, 0, 1)
    assert counts(june, "NJK-YCT", "2025-06") == expected
    assert june.exec(select(func.count()).select_from(Feedback)).one() == 1
    assert june.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "review")).one() == 1
    no_difference(june, settings)


def test_eight_changes_of_one_decision_at_once_one_wins(june, settings):
    target = ids(june, "NJK-YCT", "2025-06")[0]
    [(kind, _)] = at_once(settings, [deciding(settings, REVIEWERS[0], target, "recognised", seen="")])
    assert kind == "ok"
    outcomes = at_once(
        settings, [deciding(settings, reviewer, target, "rejected", seen="recognised") for reviewer in REVIEWERS]
    )
    assert [kind for kind, _ in outcomes].count("ok") == 1, outcomes
    assert [kind for kind, _ in outcomes].count("refused") == 7, outcomes
    assert counts(june, "NJK-YCT", "2025-06") == (8, 0, 1)
    assert june.exec(select(func.count()).select_from(Feedback)).one() == 2
    no_difference(june, settings)


def test_eight_decisions_on_eight_activities_of_one_unit_month_all_count(june, settings):
    """Each reviewer takes one of 油草塘村's eight June activities: 5 不予认定, 3 认定."""
    targets = ids(june, "NJK-YCT", "2025-06")
    jobs = [
        deciding(settings, reviewer, target, "rejected" if n < 5 else "recognised", seen="")
        for n, (reviewer, target) in enumerate(zip(REVIEWERS, targets, strict=True))
    ]
    outcomes = at_once(settings, jobs)
    assert [kind for kind, _ in outcomes] == ["ok"] * 8, outcomes
    assert counts(june, "NJK-YCT", "2025-06") == (8, 3, 5)
    no_difference(june, settings)


def test_a_decision_racing_a_rollback_of_its_batch_leaves_no_trace(june, settings):
    """Either the rollback comes first (the decision finds no activity) or the decision does (the
    rollback removes it with its activity); never a half of each."""
    batch = june.exec(select(Activity.batch_id)).first()
    targets = ids(june, "NJK-YCT", "2025-06")

    def rolling(session: Session) -> object:
        return rollback_batch(session=session, actor=OPERATOR, settings=roomy(settings), batch_id=batch, today=TODAY)

    jobs = [deciding(settings, REVIEWERS[n], targets[n], "rejected", seen="") for n in range(3)] + [rolling]
    outcomes = at_once(settings, jobs)
    assert [kind for kind, _ in outcomes if kind == "error"] == [], outcomes
    assert outcomes[3][0] == "ok"
    for kind, value in outcomes[:3]:
        assert kind == "ok" or "不存在" in str(value), value
    june.expire_all()
    assert june.exec(select(func.count()).select_from(Activity)).one() == 0
    assert june.exec(select(func.count()).select_from(Review)).one() == 0
    assert june.exec(select(func.count()).select_from(UnitMonth)).one() == 0
    no_difference(june, settings)


def test_an_import_into_a_unit_month_while_its_activities_are_decided(june, settings):
    """Two more June activities of 油草塘村 arrive while four of its eight are 不予认定."""
    targets = ids(june, "NJK-YCT", "2025-06")[:4]
    data = activities_csv([("NJK-YCT", "", "", f"2025-06-{day}", f"新增活动{day}", "") for day in (20, 21)])

    def importing(session: Session) -> object:
        done = import_activities(
            session=session, actor=OPERATOR, data=data, file_name="新增.csv", settings=roomy(settings), today=TODAY
        )
        return done.imported

    jobs = [deciding(settings, REVIEWERS[n], targets[n], "rejected", seen="") for n in range(4)] + [importing]
    outcomes = at_once(settings, jobs)
    assert outcomes == [("ok", (REVIEWERS[n].name, "rejected")) for n in range(4)] + [("ok", 2)]
    assert counts(june, "NJK-YCT", "2025-06") == (10, 0, 4)
    no_difference(june, settings)


def test_a_roster_import_while_activities_are_imported(session, settings):
    load_roster(session, settings)
    rows = [("NJK-YCT", "", "", f"2025-07-{day:02d}", f"七月活动{day}", "") for day in range(1, 21)]
    data = activities_csv(rows)
    roster = roster_csv([{"code": "NJK-YCT", "name": "油草塘村", "type": "站", "town": "泥江口镇", "head": "李四"}])

    def importing(session: Session) -> object:
        done = import_activities(
            session=session, actor=OPERATOR, data=data, file_name="七月.csv", settings=roomy(settings), today=TODAY
        )
        return done.imported

    def renaming(session: Session) -> object:
        done = import_units(
            session=session, actor=OPERATOR, data=roster, file_name="名册.csv", settings=roomy(settings), today=TODAY
        )
        return (done.file_error, done.errors)

    outcomes = at_once(settings, [importing, renaming, importing])
    assert sorted(outcomes, key=str) == sorted([("ok", 20), ("ok", (None, [])), ("ok", 0)], key=str)
    assert counts(session, "NJK-YCT", "2025-07") == (20, 0, 0)
    no_difference(session, settings)
