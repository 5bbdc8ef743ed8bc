"""Locked months never move and the dated quota rules are the one quota (SPEC §4, §6), on both engines.

A roster import, a unit edit or a quota change leaves a locked month's figures as they were: its
units, required, compliance and interview list. The quota a page or a form shows for a month is
the quota the figures use for it; a request that changes nothing writes nothing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from factories import OPERATOR, RULES, SMALL_ROSTER, TODAY, hold, load_roster, roster_csv
from sqlmodel import Session, func, select

from monitor.core.models import AuditEvent, MonthLock, Unit
from monitor.core.query import Query
from monitor.counts import unitmonths
from monitor.figures import metrics
from monitor.ingest.quotas import EditError, UnitChanges, set_type_quotas, update_unit
from monitor.ingest.roster_file import import_units
from monitor.roster.units import list_units, type_quotas, units_frame
from monitor.store.db import begin_write, get_engine
from monitor.store.locks import lock_month

NEW_STATIONS = [
    {"code": "NJK-XC", "name": "新村", "type": "站", "town": "泥江口镇"},
    {"code": "LX-DS", "name": "东山村", "type": "站", "town": "兰溪镇"},
]
# January to March 2025; 新建村 (LX-XJ) is active from March. 和平村 (NJK-HP) is below quota all three
# months, 兰溪镇's institute (LX-S) and 新建村 only in March.
HELD = {
    **{
        (code, month): n
        for month in ("2025-01", "2025-02", "2025-03")
        for code, n in (("ZX", 8), ("NJK-S", 3), ("NJK-YCT", 2), ("LX-HP", 2))
    },
    ("LX-S", "2025-01"): 3,
    ("LX-S", "2025-02"): 3,
    ("LX-S", "2025-03"): 1,
    ("NJK-HP", "2025-01"): 1,
    ("LX-XJ", "2025-03"): 1,
}


def _month(session: Session, month: str) -> dict[str, object]:
    doc = metrics.report(session=session, query=Query(actor=OPERATOR, settings=RULES, start=month, end=month)).to_json()
    return {k: doc[k] for k in ("units", "held", "required", "compliance_rate")}


def _due(session: Session, month: str) -> list[tuple[str, int]]:
    due = metrics.interviews(session=session, query=Query(actor=OPERATOR, settings=RULES, start=month, end=month))
    return list(zip(due["code"], due["streak"], strict=True))


def _roster(session: Session, settings, units, *, dry_run: bool = False, today=TODAY):
    return import_units(
        session=session,
        actor=OPERATOR,
        data=roster_csv(units),
        file_name="名册.csv",
        settings=settings,
        today=today,
        dry_run=dry_run,
    )


def _unit(session: Session, code: str) -> Unit:
    session.expire_all()
    return session.exec(select(Unit).where(Unit.code == code)).one()


def _events(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def _checked(session: Session, settings) -> None:
    found = unitmonths.check(session=session, actor=OPERATOR, settings=settings)
    assert (found.differences, found.sums) == ([], [])


def _district_locked_in_march(session: Session, settings) -> None:
    load_roster(session, settings)
    hold(session, settings, HELD, today=TODAY)
    lock_month(session=session, month="2025-03", actor=OPERATOR)


# March 2025 by hand: 7 units (center, 2 institutes, 4 stations with 新建村); required 8 + 2×3 + 4×2 = 22;
# held 8 + 3 + 1 + 2 + 0 + 2 + 1 = 17; met: the center, 泥江口镇's institute, 油草塘村, 兰溪镇和平村 = 4 of 7.
MARCH = {"units": 7, "held": 17, "required": 22, "compliance_rate": 4 / 7}
MARCH_DUE = [("NJK-HP", 3)]  # below in January (1 of 2), February and March (none)


def test_new_units_without_an_active_month_start_after_the_locked_month(session, settings):
    _district_locked_in_march(session, settings)
    assert (_month(session, "2025-03"), _due(session, "2025-03")) == (MARCH, MARCH_DUE)

    preview = _roster(session, settings, NEW_STATIONS, dry_run=True)
    notes = preview.changes.set_index("单位编码")
    assert notes.loc["NJK-XC", ["项目", "原值", "新值"]].tolist() == ["启用月份", "", "2025-04"]
    assert notes.loc["NJK-XC", "说明"] == "未填启用月份，自 2025-04 起计入（2025-03 及以前已锁定）"

    done = _roster(session, settings, NEW_STATIONS)
    assert (done.errors, done.created) == ([], 2)
    assert (_unit(session, "NJK-XC").active_from, _unit(session, "LX-DS").active_from) == ("2025-04", "2025-04")
    assert (_month(session, "2025-03"), _due(session, "2025-03")) == (MARCH, MARCH_DUE)
    assert _month(session, "2025-02")["units"] == 6  # 新建村 starts in March; the new stations not at all

    hold(session, settings, {("NJK-XC", "2025-04"): 2}, today=TODAY)
    # April: the 7 units and the 2 new stations; required 22 + 2×2 = 26; only 新村 held anything (2 of 2).
    assert _month(session, "2025-04") == {"units": 9, "held": 2, "required": 26, "compliance_rate": 1 / 9}
    _checked(session, settings)


def test_a_roster_that_would_move_a_locked_month_is_refused_for_those_units(session, settings):
    _district_locked_in_march(session, settings)
    rows = [
        {**SMALL_ROSTER[3], "active_from": "2025-02"},  # 和平村 out of January
        {**SMALL_ROSTER[6], "active_from": "2025-04"},  # 新建村 out of March
        {**SMALL_ROSTER[5], "town": "泥江口镇"},  # 兰溪镇和平村 moved to another township
        {"code": "LX-GC", "name": "古城村", "type": "站", "town": "兰溪镇", "active_from": "2024-06"},
        {**SMALL_ROSTER[2], "active_to": "2025-06", "head": "赵六"},  # closes after the locked month: fine
    ]
    result = _roster(session, settings, rows)
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (2, "启用月份", "locked_month"),
        (3, "启用月份", "locked_month"),
        (4, "所属乡镇", "locked_month"),
        (5, "启用月份", "locked_month"),
    ]
    assert all("2025-03" in e.message for e in result.errors)
    assert (result.created, result.updated, result.rejected) == (0, 1, 4)
    assert (_unit(session, "NJK-HP").active_from, _unit(session, "LX-XJ").active_from) == (None, "2025-03")
    assert _unit(session, "LX-HP").town == "兰溪镇"
    assert (_unit(session, "NJK-YCT").active_to, _unit(session, "NJK-YCT").head) == ("2025-06", "赵六")
    assert session.exec(select(Unit).where(Unit.code == "LX-GC")).first() is None
    assert (_month(session, "2025-03"), _due(session, "2025-03")) == (MARCH, MARCH_DUE)
    _checked(session, settings)


def test_a_unit_edit_that_would_move_a_locked_month_is_refused(session, settings):
    _district_locked_in_march(session, settings)
    for active_from, active_to in (("", "2025-02"), ("2025-02", ""), ("2025-04", "")):
        with pytest.raises(EditError, match="2025-03"):
            update_unit(
                session=session,
                actor=OPERATOR,
                settings=settings,
                code="NJK-HP",
                changes=UnitChanges(quota=None, head="", phone="", active_from=active_from, active_to=active_to),
                today=TODAY,
            )
        session.rollback()
    with pytest.raises(EditError, match="2025-03"):  # its own quota from the locked month
        update_unit(
            session=session,
            actor=OPERATOR,
            settings=settings,
            code="NJK-HP",
            changes=UnitChanges(quota=1, head="", phone="", active_from="", active_to=""),
            today=TODAY,
            from_month="2025-03",
        )
    session.rollback()
    with pytest.raises(EditError, match="2025-03"):  # a type's quota from before the locked month
        set_type_quotas(
            session=session, actor=OPERATOR, settings=settings, quotas={"station": 1}, today=TODAY, from_month="2025-02"
        )
    session.rollback()
    assert (_month(session, "2025-03"), _due(session, "2025-03")) == (MARCH, MARCH_DUE)
    update_unit(  # closing it after the locked month is fine
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        changes=UnitChanges(quota=None, head="", phone="", active_from="", active_to="2025-05"),
        today=TODAY,
    )
    assert _unit(session, "NJK-HP").active_to == "2025-05"
    assert (_month(session, "2025-03"), _due(session, "2025-03")) == (MARCH, MARCH_DUE)
    _checked(session, settings)


def test_a_roster_quota_change_in_a_locked_current_month_refuses_that_unit_only(session, settings):
    load_roster(session, settings)
    lock_month(session=session, month="2026-11", actor=OPERATOR)  # the current month (TODAY)
    result = _roster(session, settings, [{**SMALL_ROSTER[3], "quota": "4"}, {**SMALL_ROSTER[2], "head": "赵六"}])
    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, "月度任务", "locked_month")]
    assert "2026-11" in result.errors[0].message
    assert (result.file_error, result.updated) == (None, 1)
    assert _unit(session, "NJK-YCT").head == "赵六"
    assert _quota_of(session, "NJK-HP", "2026-11") == 2
    _checked(session, settings)


def _quota_of(session: Session, code: str, month: str) -> int:
    """The quota the figures give a unit in a month."""
    grid = metrics.unit_months(session=session, query=Query(actor=OPERATOR, settings=RULES, start=month, end=month))
    return int(grid.loc[grid["code"] == code, "quota_month"].iloc[0])


def _shown(session: Session, code: str, month: str) -> tuple[int, str]:
    """The quota and its start the roster page shows for a unit in a month."""
    frame = units_frame(session=session, month=month).set_index("code")
    return int(frame.at[code, "monthly_quota"]), str(frame.at[code, "quota_from"])


def test_the_roster_shows_the_quota_the_figures_use_in_each_month(session, settings):
    load_roster(session, settings)
    set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=TODAY, from_month="2026-12"
    )
    # November is still at 2 (the rule in force since the beginning); December at 3, from 2026-12.
    assert (_quota_of(session, "NJK-HP", "2026-11"), _shown(session, "NJK-HP", "2026-11")) == (2, (2, ""))
    assert (_quota_of(session, "NJK-HP", "2026-12"), _shown(session, "NJK-HP", "2026-12")) == (3, (3, "2026-12"))
    assert type_quotas(session=session, month="2026-11")["station"] == 2
    assert type_quotas(session=session, month="2026-12")["station"] == 3

    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        changes=UnitChanges(quota=5, head="", phone="", active_from="", active_to=""),
        today=TODAY,
        from_month="2027-01",
    )
    assert (_quota_of(session, "NJK-HP", "2026-12"), _shown(session, "NJK-HP", "2026-12")) == (3, (3, "2026-12"))
    assert (_quota_of(session, "NJK-HP", "2027-01"), _shown(session, "NJK-HP", "2027-01")) == (5, (5, "2027-01"))
    listed = {u["code"]: u["quota"] for u in list_units(session=session, month="2026-12")}
    assert (listed["NJK-HP"], listed["NJK-YCT"]) == (None, None)  # on the type's quota in December
    assert {u["code"]: u["quota"] for u in list_units(session=session, month="2027-01")}["NJK-HP"] == 5
    _checked(session, settings)


def test_a_quota_asked_from_before_a_later_rule_of_the_same_value_is_stored(session, settings):
    """3 from 2027-01 already set; 3 asked from 2026-12 is a change for December, and is stored."""
    load_roster(session, settings)
    set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=TODAY, from_month="2027-01"
    )
    before = _events(session)
    saved = set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=TODAY, from_month="2026-12"
    )
    assert (saved.month, saved.changed) == ("2026-12", {"station": (2, 3)})
    assert _events(session) == before + 1
    assert [_quota_of(session, "NJK-HP", m) for m in ("2026-11", "2026-12", "2027-01")] == [2, 3, 3]
    _checked(session, settings)


def test_a_roster_quota_equal_to_a_later_rule_is_a_change_from_this_month(session, settings):
    """和平村 gets 4 from 2027-01; a roster saying 4 in November 2026 makes it 4 from November."""
    load_roster(session, settings)
    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        changes=UnitChanges(quota=4, head="", phone="", active_from="", active_to=""),
        today=TODAY,
        from_month="2027-01",
    )
    result = _roster(session, settings, [{**SMALL_ROSTER[3], "quota": "4"}])
    assert (result.updated, result.duplicates) == (1, 0)
    changes = result.changes[["项目", "原值", "新值", "说明"]].values.tolist()
    assert changes == [["月度任务", "", "4", "自 2026-11 起生效"]]
    assert [_quota_of(session, "NJK-HP", m) for m in ("2026-10", "2026-11", "2027-01")] == [2, 4, 4]
    _checked(session, settings)


def test_a_request_that_changes_nothing_says_so_and_writes_no_audit(session, settings):
    load_roster(session, settings)
    set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=TODAY, from_month="2026-12"
    )
    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        changes=UnitChanges(quota=4, head="李四", phone="", active_from="", active_to=""),
        today=TODAY,
    )
    before = _events(session)
    again = set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=TODAY, from_month="2026-12"
    )
    assert (again.month, again.changed) == ("2026-12", {})
    same = set_type_quotas(  # what is in force from 2027-02 on, and every month after
        session=session,
        actor=OPERATOR,
        settings=settings,
        quotas={"center": 8, "institute": 3, "station": 3},
        today=TODAY,
        from_month="2027-02",
    )
    assert same.changed == {}
    unit = update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        changes=UnitChanges(quota=4, head="李四", phone="", active_from="", active_to=""),
        today=TODAY,
    )
    assert unit.changed == {}
    roster = _roster(session, settings, [{**SMALL_ROSTER[3], "quota": "4", "head": "李四"}])
    assert (roster.updated, roster.duplicates, roster.changes.empty) == (0, 1, True)
    assert _events(session) == before + 1  # the roster import itself, nothing else
    assert [_quota_of(session, "NJK-HP", m) for m in ("2026-11", "2026-12")] == [4, 4]
    _checked(session, settings)


def _locking(settings, month: str) -> Session:
    """A reviewer's transaction locking `month`, holding the writers' lock until committed."""
    blocker = Session(get_engine(settings.database_url))
    begin_write(blocker, busy_seconds=5)
    blocker.add(MonthLock(month=month, locked_by="审核员", locked_at=datetime.now(UTC)))
    blocker.flush()
    return blocker


def _while_locking(settings, month: str, write) -> object:  # type: ignore[no-untyped-def]
    """Run `write(session)` in another thread while `month` is being locked; its outcome."""
    blocker = _locking(settings, month)
    outcome: dict[str, object] = {}

    def run() -> None:
        with Session(get_engine(settings.database_url)) as mine:
            try:
                outcome["value"] = write(mine)
            except EditError as exc:
                outcome["value"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.0)  # the write has started and waits for the lock's transaction
    blocker.commit()
    blocker.close()
    worker.join(timeout=60)
    return outcome["value"]


def test_a_quota_change_waits_for_a_month_being_locked_and_is_refused_for_it(session, settings):
    load_roster(session, settings)

    def change(mine: Session) -> object:
        return set_type_quotas(session=mine, actor=OPERATOR, settings=settings, quotas={"station": 5}, today=TODAY)

    outcome = _while_locking(settings, "2026-11", change)
    assert isinstance(outcome, EditError) and "2026-11" in str(outcome)
    assert _quota_of(session, "NJK-HP", "2026-11") == 2
    _checked(session, settings)


def test_a_roster_import_waits_for_a_month_being_locked_and_starts_new_units_after_it(session, settings):
    load_roster(session, settings)

    def add(mine: Session) -> object:
        return _roster(mine, settings, NEW_STATIONS[:1])

    result = _while_locking(settings, "2025-03", add)
    assert (result.errors, result.created) == ([], 1)  # type: ignore[attr-defined]
    assert _unit(session, "NJK-XC").active_from == "2025-04"
    _checked(session, settings)


def test_a_quota_change_kept_waiting_too_long_says_the_database_is_busy(session, settings):
    load_roster(session, settings)
    blocker = _locking(settings, "2025-03")
    try:
        with pytest.raises(EditError, match="数据库正忙"):
            set_type_quotas(
                session=session,
                actor=OPERATOR,
                settings=replace(settings, busy_seconds=0.3),
                quotas={"station": 5},
                today=TODAY,
            )
    finally:
        blocker.rollback()
        blocker.close()
    session.rollback()
    assert _quota_of(session, "NJK-HP", "2026-11") == 2
    _checked(session, settings)


def test_a_roster_preview_reads_only_and_waits_for_no_writer(session, settings):
    load_roster(session, settings)
    blocker = _locking(settings, "2025-03")  # another writer holds the writers' lock meanwhile
    try:
        started = time.monotonic()
        preview = _roster(session, replace(settings, busy_seconds=0.3), NEW_STATIONS, dry_run=True)
        assert time.monotonic() - started < 5
    finally:
        blocker.rollback()
        blocker.close()
    assert (preview.file_error, preview.created) == (None, 2)
    assert session.exec(select(Unit).where(Unit.code == "NJK-XC")).first() is None
    _checked(session, settings)
