"""Month locks: a locked month takes no rows and no rollback; auto-lock after the deadline; the on-time rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import OPERATOR, RULES, activities_csv, checked_rows, load_roster
from sqlmodel import Session, func, select

from monitor.core.calendar import deadline_of
from monitor.core.config import Settings
from monitor.core.models import Activity, ImportBatch, Unit
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.counts import unitmonths
from monitor.figures import metrics
from monitor.ingest.importer import import_activities
from monitor.ingest.inserts import insert_activities
from monitor.ingest.rollback import RollbackRefused, rollback_batch
from monitor.store.locks import LockError, lock_month, locked_months, unlock_month

TODAY = date(2026, 11, 26)
SHANGHAI = ZoneInfo("Asia/Shanghai")
REVIEWER = Actor(name="审核员", role="reviewer")
ROWS = [
    ("NJK-S", "", "", "2025-02-27", "理论宣讲", ""),
    ("NJK-S", "", "", "2025-03-02", "志愿服务", ""),
    ("NJK-HP", "", "", "2025-03-05", "文体活动", ""),
    ("NJK-HP", "", "", "2025-04-01", "科普宣传", ""),
]


def _import(session: Session, settings: Settings, rows=ROWS, *, today: date = TODAY):
    return import_activities(
        session=session, data=activities_csv(rows), file_name="台账.csv", settings=settings, actor=REVIEWER, today=today
    )


def _count(session: Session, month: str | None = None) -> int:
    statement = select(func.count()).select_from(Activity)
    if month is not None:
        statement = statement.where(Activity.month == month)
    return session.exec(statement).one()


def test_a_locked_month_refuses_its_rows_and_takes_the_others(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    lock_month(session=session, month="2025-03", actor=REVIEWER)
    result = _import(session, settings)
    assert result.imported == 2
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "活动日期", "locked_month"),
        (4, "活动日期", "locked_month"),
    ]
    assert "2025-03 已由审核人员锁定" in result.errors[0].message
    assert (_count(session, "2025-02"), _count(session, "2025-03"), _count(session, "2025-04")) == (1, 0, 1)


def test_unlocking_lets_the_month_be_imported_again(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    lock_month(session=session, month="2025-03", actor=REVIEWER)
    assert _import(session, settings).imported == 2
    unlock_month(session=session, month="2025-03", actor=REVIEWER)
    again = _import(session, settings)
    assert (again.errors, again.imported, again.duplicates) == ([], 2, 2)
    assert _count(session, "2025-03") == 2


def test_locking_twice_or_unlocking_an_open_month_is_refused(session: Session, settings: Settings) -> None:
    lock_month(session=session, month="2025-3", actor=REVIEWER)
    with pytest.raises(LockError, match="已经锁定"):
        lock_month(session=session, month="2025-03", actor=REVIEWER)
    with pytest.raises(LockError, match="没有锁定"):
        unlock_month(session=session, month="2025-04", actor=REVIEWER)
    assert locked_months(session=session) == {"2025-03"}


def test_rollback_of_a_batch_touching_a_locked_month_is_refused(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    batch_id = _import(session, settings).batch_id
    lock_month(session=session, month="2025-04", actor=REVIEWER)
    with pytest.raises(RollbackRefused, match="2025-04"):
        rollback_batch(session=session, batch_id=batch_id, actor=REVIEWER, settings=settings, today=TODAY)
    session.rollback()
    assert _count(session) == 4
    assert session.get(ImportBatch, batch_id).status == "imported"
    unlock_month(session=session, month="2025-04", actor=REVIEWER)
    assert (
        rollback_batch(session=session, batch_id=batch_id, actor=REVIEWER, settings=settings, today=TODAY).removed == 4
    )
    assert _count(session) == 0


def test_autolock_locks_months_n_days_past_their_deadline(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    autolock = replace(settings, autolock_days=10)
    # The deadline of March 2025 is 5 April; ten days past it is the end of 15 April.
    assert "2025-03" not in locked_months(session=session, settings=autolock, today=date(2025, 4, 15))
    assert "2025-03" in locked_months(session=session, settings=autolock, today=date(2025, 4, 16))
    assert "2025-04" not in locked_months(session=session, settings=autolock, today=date(2025, 5, 15))
    rows = [("NJK-S", "", "", "2025-03-02", "志愿服务", ""), ("NJK-S", "", "", "2025-04-01", "科普宣传", "")]
    late = _import(session, autolock, rows, today=date(2025, 4, 16))
    assert ([e.code for e in late.errors], late.imported) == (["locked_month"], 1)
    assert _count(session, "2025-03") == 0


def test_autolock_is_off_by_default(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    assert settings.autolock_days == 0
    assert locked_months(session=session, settings=settings, today=TODAY) == set()
    result = _import(session, settings, [("NJK-S", "", "", "2025-03-02", "志愿服务", "")], today=TODAY)
    assert (result.errors, result.imported) == ([], 1)


def test_the_deadline_is_the_end_of_day_5_of_the_next_month_in_shanghai(settings: Settings) -> None:
    assert deadline_of("2025-01", settings) == datetime(2025, 2, 5, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert deadline_of("2025-12", settings) == datetime(2026, 1, 5, 23, 59, 59, 999999, tzinfo=SHANGHAI)


# On-time reporting of January 2025: the deadline is the end of 5 February, Shanghai time.
ON_TIME = datetime(2025, 2, 5, 23, 59, tzinfo=SHANGHAI)
LATE = datetime(2025, 2, 6, 0, 0, 1, tzinfo=SHANGHAI)  # still 5 February in UTC
STORED = {  # unit -> (on time, late); quotas: ZX 8, institutes 3, stations 2; 新建村 inactive in January
    "ZX": (8, 0),  # on time
    "NJK-S": (3, 0),  # on time
    "NJK-YCT": (1, 1),  # quota met only with a late one: not on time
    "NJK-HP": (2, 1),  # on time
    "LX-S": (0, 3),  # late
    "LX-HP": (2, 0),  # on time
}


def _store(session: Session, code: str, count: int, stored_at: datetime, first_day: int) -> None:
    unit_id = session.exec(select(Unit.id).where(Unit.code == code)).one()
    days = range(first_day, first_day + count)
    titles = [f"活动{day}" for day in days]
    rows = checked_rows([unit_id] * count, [date(2025, 1, day) for day in days], titles)
    batch = ImportBatch(kind="activities", created_at=stored_at, file_name="台账.csv", sha256="", status="imported")
    session.add(batch)
    session.flush()
    assert insert_activities(session, rows, batch_id=batch.id, stored_at=stored_at) == count


def test_on_time_rate_counts_unit_months_met_by_activities_stored_by_the_deadline(
    session: Session, settings: Settings
) -> None:
    load_roster(session, settings)
    for code, (on_time, late) in STORED.items():
        _store(session, code, on_time, ON_TIME, 1)
        _store(session, code, late, LATE, on_time + 1)
    session.commit()
    doc = metrics.report(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-01")
    ).to_json()
    assert (doc["held"], doc["required"]) == (21, 20)
    assert doc["on_time_rate"] == 4 / 6
    assert {t["town"]: t["on_time_rate"] for t in doc["by_town"]} == {"兰溪镇": 1 / 2, "泥江口镇": 2 / 3}


def test_activities_stored_later_by_import_are_not_on_time(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    rows = [("NJK-S", "", "", f"2025-01-0{day}", "宣讲", "") for day in (1, 2, 3)]
    assert _import(session, settings, rows).imported == 3
    doc = metrics.report(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-01", town="泥江口镇")
    ).to_json()
    assert doc["on_time_rate"] == 0.0
    for activity in session.exec(select(Activity)).all():
        activity.stored_at = (ON_TIME - timedelta(days=3)).astimezone(UTC)
        session.add(activity)
    session.flush()
    unitmonths.rebuild(session, day=RULES.deadline_day)  # the stored moments were rewritten behind its back
    session.commit()
    doc = metrics.report(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-01", town="泥江口镇")
    ).to_json()
    assert doc["on_time_rate"] == 1 / 3
