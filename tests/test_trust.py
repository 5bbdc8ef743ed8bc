"""SPEC §6 on both engines: nothing lost on rollback or roster re-import, history that stays put,
locks that hold under a running import, implausible rows refused, the same streak everywhere."""

from __future__ import annotations

import inspect
import json
import threading
import time
from dataclasses import replace
from datetime import date

import pytest
from factories import OPERATOR, RULES, SMALL_ROSTER, TODAY, activities_csv, hold, load_roster, roster_csv
from sqlalchemy import text
from sqlmodel import Session, func, select

import monitor
from monitor.core.models import Activity, ImportBatch, Unit
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.figures import metrics, views
from monitor.ingest.importer import import_activities
from monitor.ingest.quotas import EditError, UnitChanges, set_type_quotas, update_unit
from monitor.ingest.rollback import rollback_batch
from monitor.ingest.roster_file import import_units
from monitor.roster.units import units_frame
from monitor.store.db import TAKE_WRITERS_TURN, get_engine
from monitor.store.locks import lock_month

REVIEWER = Actor(name="审核员", role="reviewer")


def _import(session, settings, rows, *, name="台账.csv", **options):
    return import_activities(
        session=session,
        actor=OPERATOR,
        data=activities_csv(rows),
        file_name=name,
        settings=settings,
        today=TODAY,
        **options,
    )


def _days(code: str, month: str, days) -> list[tuple[str, ...]]:
    return [(code, "", "", f"{month}-{d:02d}", f"活动{d}", "") for d in days]


def _titles(session, code: str) -> list[str]:
    unit = session.exec(select(Unit).where(Unit.code == code)).one()
    return sorted(session.exec(select(Activity.title).where(Activity.unit_id == unit.id)).all())


def _report(session, **kwargs) -> dict:
    return metrics.report(session=session, query=Query(actor=OPERATOR, settings=RULES, **kwargs)).to_json()


# 4. An activity belongs to every batch that reported it.
def test_rollback_keeps_what_a_later_live_batch_also_reported(session, settings):
    load_roster(session, settings)
    first = _import(session, settings, _days("NJK-YCT", "2025-03", range(1, 7)), name="甲.csv")
    second = _import(session, settings, _days("NJK-YCT", "2025-03", range(4, 11)), name="乙.csv")
    assert (first.imported, second.imported, second.duplicates) == (6, 4, 3)

    done = rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=first.batch_id, today=TODAY)
    assert (done.removed, done.kept) == (3, 3)
    assert _titles(session, "NJK-YCT") == sorted(f"活动{d}" for d in range(4, 11))  # the 4th to the 10th
    assert "保留 3 条" in session.get(ImportBatch, first.batch_id).message

    # What 乙 reported now belongs to 乙 alone: rolling it back empties the unit.
    done = rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=second.batch_id, today=TODAY)
    assert (done.removed, done.kept) == (7, 0)
    assert _titles(session, "NJK-YCT") == []


def test_rollback_of_the_later_batch_leaves_the_first_whole(session, settings):
    load_roster(session, settings)
    first = _import(session, settings, _days("NJK-YCT", "2025-03", range(1, 7)), name="甲.csv")
    second = _import(session, settings, _days("NJK-YCT", "2025-03", range(4, 11)), name="乙.csv")
    done = rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=second.batch_id, today=TODAY)
    assert (done.removed, done.kept) == (4, 0)
    assert _titles(session, "NJK-YCT") == sorted(f"活动{d}" for d in range(1, 7))
    assert first.batch_id != second.batch_id


# 5. Re-importing a roster never erases.
def test_a_roster_without_some_columns_or_with_blanks_leaves_stored_values(session, settings):
    load_roster(session, settings)
    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-YCT",
        today=TODAY,
        changes=UnitChanges(quota=4, head="王五", phone="13900000000", active_from="2024-01", active_to=""),
    )
    thin = "单位编码,单位名称,单位类型,所属乡镇\r\nNJK-YCT,油草塘村新时代文明实践站,站,泥江口镇\r\n".encode()
    blanks = roster_csv([{"code": "NJK-YCT", "name": "油草塘村新时代文明实践站", "type": "站", "town": "泥江口镇"}])
    for data in (thin, blanks):
        result = import_units(
            session=session, actor=OPERATOR, data=data, file_name="名册.csv", settings=settings, today=TODAY
        )
        assert (result.errors, result.updated) == ([], 0)
        unit = session.exec(select(Unit).where(Unit.code == "NJK-YCT")).one()
        session.refresh(unit)
        own = units_frame(session=session, month=TODAY.strftime("%Y-%m")).set_index("code").at["NJK-YCT", "quota"]
        assert (unit.head, unit.phone, own, unit.active_from) == ("王五", "13900000000", 4, "2024-01")


def test_the_roster_preview_lists_each_change_and_the_activities_a_new_range_leaves_out(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-YCT", "2025-01"): 2, ("NJK-YCT", "2025-05"): 1}, today=TODAY)
    data = roster_csv([{**SMALL_ROSTER[2], "head": "赵六", "active_from": "2025-04"}])
    preview = import_units(
        session=session, actor=OPERATOR, data=data, file_name="名册.csv", settings=settings, today=TODAY, dry_run=True
    )
    changes = preview.changes.set_index("项目")
    assert changes.loc["负责人", ["原值", "新值"]].tolist() == ["王五", "赵六"]
    assert changes.loc["启用月份", ["原值", "新值"]].tolist() == ["", "2025-04"]
    assert "2 场活动不在新启用期内" in changes.loc["启用月份", "说明"]
    unit = session.exec(select(Unit).where(Unit.code == "NJK-YCT")).one()
    assert unit.head == "王五"  # a preview changes nothing


# 6. A quota holds from a month on.
def test_a_quota_change_leaves_past_months_as_they_were(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-HP", "2025-01"): 2, ("NJK-HP", "2025-02"): 2}, today=TODAY)
    before = _report(session, start="2025-01", end="2025-02", town="泥江口镇", unit_type="station")
    set_type_quotas(session=session, actor=OPERATOR, settings=settings, quotas={"station": 4}, today=TODAY)
    after = _report(session, start="2025-01", end="2025-02", town="泥江口镇", unit_type="station")
    assert (before["required"], after["required"]) == (8, 8)  # two stations × 2 × 2 months, unchanged
    now = _report(session, start="2026-11", end="2026-11", town="泥江口镇", unit_type="station")
    assert now["required"] == 2 * 4  # from the current month on


def test_a_quota_change_from_a_month_on_never_touches_a_locked_month(session, settings):
    load_roster(session, settings)
    lock_month(session=session, month="2025-02", actor=OPERATOR)
    with pytest.raises(EditError, match="2025-02"):
        set_type_quotas(
            session=session, actor=OPERATOR, settings=settings, quotas={"station": 5}, today=TODAY, from_month="2025-01"
        )
    session.rollback()
    set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={"station": 5}, today=TODAY, from_month="2025-03"
    )
    stations = _report(session, start="2025-01", end="2025-03", unit_type="station")
    # Three stations active all along at 2, 2, then 5; 新建村 joins them in March.
    assert [m["required"] for m in stations["by_month"]] == [3 * 2, 3 * 2, 4 * 5]


def test_a_units_own_quota_change_holds_from_its_month(session, settings):
    load_roster(session, settings)
    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        today=TODAY,
        from_month="2025-02",
        changes=UnitChanges(quota=6, head="", phone="", active_from="", active_to=""),
    )
    hp = _report(session, start="2025-01", end="2025-03", town="泥江口镇", unit_type="station")
    assert [m["required"] for m in hp["by_month"]] == [4, 8, 8]


# 7. Held and required over the same active months.
def test_activities_outside_a_units_active_months_count_for_neither(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-HP", "2025-01"): 3, ("NJK-HP", "2025-04"): 1}, today=TODAY)
    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-HP",
        today=TODAY,
        changes=UnitChanges(quota=None, head="", phone="", active_from="2025-04", active_to=""),
    )
    doc = _report(session, start="2025-01", end="2025-04", town="泥江口镇", unit_type="station")
    # 油草塘村 2 a month for four months, 和平村 2 in April only; held: 和平村's April activity.
    assert (doc["held"], doc["required"]) == (1, 4 * 2 + 2)
    assert doc["by_month"][0]["held"] == 0


# 2. Implausible dates; 3. absurd numbers and long titles.
@pytest.mark.parametrize(
    ("row", "column", "code"),
    [
        (("NJK-HP", "", "", "0202-06-03", "宣讲", ""), "活动日期", "bad_date"),
        (("NJK-HP", "", "", "1900-01-01", "宣讲", ""), "活动日期", "bad_date"),
        (("NJK-HP", "", "", "1025-06-03", "宣讲", ""), "活动日期", "bad_date"),
        (("NJK-HP", "", "", "2025-06-03", "讲" * 1000, ""), "活动名称", "too_long"),
    ],
)
def test_implausible_values_are_refused_with_a_chinese_message(session, settings, row, column, code):
    load_roster(session, settings)
    result = _import(session, settings, [row, ("NJK-HP", "", "", "2025-06-04", "好的一行", "30")])
    assert [(e.row, e.column, e.code) for e in result.errors] == [(2, column, code)]
    assert len(result.errors[0].message) < 300
    assert result.imported == 1
    assert session.exec(select(func.count()).select_from(Activity)).one() == 1
    if code == "too_long":
        assert "备注" in result.errors[0].message


@pytest.mark.parametrize("written", ["99999999999999999999", "2147483648", "100001"])
def test_absurd_counts_are_stored_empty_with_a_chinese_warning(session, settings, written):
    """SPEC §7 round two: a count refuses nothing. One nobody can read (over 100,000, beyond any
    integer column) is stored as NULL, its text kept, and the import warns once (loose_number)."""
    load_roster(session, settings)
    row = ("NJK-HP", "", "", "2025-06-03", "宣讲", written)
    result = _import(session, settings, [row, ("NJK-HP", "", "", "2025-06-04", "好的一行", "30")])
    assert result.errors == []
    assert [(w.row, w.column, w.code, w.value) for w in result.warnings] == [(2, "参与人数", "loose_number", written)]
    assert len(result.warnings[0].message) < 300 and "参与人数" in result.warnings[0].message
    assert (result.imported, result.rejected, result.exit_code) == (2, 0, 0)
    kept = session.exec(select(Activity.date, Activity.participants, Activity.as_written).order_by(Activity.date)).all()
    assert [(day, people) for day, people, _ in kept] == [(date(2025, 6, 3), None), (date(2025, 6, 4), 30)]
    assert [json.loads(w) if w else {} for _, _, w in kept] == [{"参与人数": written}, {}]


def test_the_month_list_ignores_months_an_older_version_stored_with_a_mistyped_year(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-HP", "2025-03"): 1}, today=TODAY)
    unit_id = session.exec(select(Unit.id).where(Unit.code == "NJK-HP")).one()
    for day, month in (("0202-06-03", "202-06"), ("1900-01-01", "1900-01")):
        session.connection().execute(
            text(
                "INSERT INTO activity (unit_id, date, month, title, title_key, category, location, notes, stored_at) "
                "VALUES (:u, :d, :m, :t, :t, '', '', '', :s)"
            ),
            {
                "u": unit_id,
                "d": date.fromisoformat(day.replace("0202", "2020")) if day.startswith("0202") else date(1900, 1, 1),
                "m": month,
                "t": f"旧{month}",
                "s": "2025-04-01 00:00:00",
            },
        )
    session.commit()
    months = views.month_options(session=session, settings=settings, today=TODAY)
    assert months[0] == "2024-11" and months[-1] == "2026-10"
    due = metrics.interviews(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-04", end="2025-04")
    )
    assert due["streak"].max() <= 5  # counted from 2025-03, not from 1900


# 9. Locks are atomic; a preview takes no write lock.
def test_a_month_locked_while_an_import_waits_takes_none_of_its_rows(session, settings):
    load_roster(session, settings)
    engine = get_engine(settings.database_url)
    blocker = engine.raw_connection()  # a reviewer locking March, not yet committed
    cursor = blocker.cursor()
    if engine.dialect.name == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    cursor.execute(
        "INSERT INTO monthlock (month, locked_by, locked_at) VALUES ('2025-03', '审核员', CURRENT_TIMESTAMP)"
    )
    outcome: dict[str, object] = {}

    def run() -> None:
        with Session(engine) as mine:
            outcome["result"] = _import(mine, settings, _days("NJK-HP", "2025-03", range(1, 4)))

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.5)  # the import has read the file and waits for the lock's transaction
    blocker.commit()
    blocker.close()
    worker.join(timeout=60)
    result = outcome["result"]
    assert [e.code for e in result.errors] == ["locked_month"] * 3  # type: ignore[attr-defined]
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0


def test_a_preview_stores_nothing_and_takes_no_write_lock(session, settings):
    load_roster(session, settings)
    hold(session, settings, {("NJK-HP", "2025-03"): 2}, today=TODAY)
    engine = get_engine(settings.database_url)
    blocker = engine.raw_connection()
    cursor = blocker.cursor()
    if engine.dialect.name == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("LOCK TABLE activity IN EXCLUSIVE MODE")  # writers wait, readers do not
    try:
        started = time.monotonic()
        preview = _import(
            session, replace(settings, busy_seconds=0.5), _days("NJK-HP", "2025-03", range(1, 5)), dry_run=True
        )
        assert time.monotonic() - started < 5
    finally:
        blocker.rollback()
        blocker.close()
    assert (preview.file_error, preview.imported, preview.duplicates) == (None, 2, 2)
    assert (
        session.exec(select(func.count()).select_from(ImportBatch).where(ImportBatch.kind == "activities")).one() == 1
    )


def test_a_database_held_by_another_writer_gives_a_refused_recorded_batch(session, settings):
    load_roster(session, settings)
    engine = get_engine(settings.database_url)
    blocker = engine.raw_connection()
    if engine.dialect.name == "sqlite":
        blocker.cursor().execute("BEGIN IMMEDIATE")  # the whole database, released after the import gave up
    else:
        blocker.cursor().execute("LOCK TABLE monthlock IN ACCESS EXCLUSIVE MODE")
    releaser = threading.Timer(1.6, lambda: (blocker.rollback(), blocker.close()))
    releaser.start()
    result = _import(session, replace(settings, busy_seconds=1.0), _days("NJK-HP", "2025-03", range(1, 3)))
    releaser.join()
    assert result.file_error is not None and result.file_error.code == "busy"
    assert "数据库正忙" in result.file_error.message and result.exit_code == 2
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0
    batch = session.get(ImportBatch, result.batch_id)
    assert batch is not None and (batch.status, batch.message) == ("refused", "数据库正忙，请稍后重试。")


def test_an_import_waiting_on_another_imports_insert_gives_up_as_busy(session, settings):
    """Writers of activities take turns: one kept waiting longer than busy_seconds by another import's
    insert (PostgreSQL: its turn; SQLite: its write transaction) stores nothing and is told why."""
    load_roster(session, settings)
    engine = get_engine(settings.database_url)
    blocker = engine.raw_connection()
    if engine.dialect.name == "sqlite":
        blocker.cursor().execute("BEGIN IMMEDIATE")
    else:
        blocker.cursor().execute(TAKE_WRITERS_TURN)
    try:
        result = _import(session, replace(settings, busy_seconds=0.5), _days("NJK-HP", "2025-03", range(1, 3)))
    finally:
        blocker.rollback()
        blocker.close()
    assert result.file_error is not None and result.file_error.code == "busy"
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0
    again = _import(session, settings, _days("NJK-HP", "2025-03", range(1, 3)))
    assert (again.file_error, again.imported) == (None, 2)


# 13. One streak for one unit, whatever the page's period.
def test_the_units_grid_and_the_interview_list_give_one_unit_the_same_streak(session, settings):
    load_roster(session, settings)
    # 和平村 below quota in February, March and April; the sidebar starts in April.
    hold(session, settings, {("NJK-HP", "2025-01"): 2, ("NJK-HP", "2025-02"): 1, ("NJK-HP", "2025-04"): 1}, today=TODAY)
    grid = views.units_grid(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-04", end="2025-04")
    )
    shown = dict(zip(grid.grid["code"], grid.grid["streak"], strict=True))
    due = metrics.interviews(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-04", end="2025-04"), min_streak=1
    )
    listed = dict(zip(due["code"], due["streak"], strict=True))
    assert shown["NJK-HP"] == listed["NJK-HP"] == 3
    detail = views.unit_detail(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2025-04", end="2025-04"), code="NJK-HP"
    )
    assert detail is not None and detail.history["streak"].tolist() == [3]


# 10. The acting account is required and keyword-only everywhere in the domain.
def test_no_domain_function_takes_an_optional_acting_account():
    import importlib
    import pkgutil

    offenders = []
    for info in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if info.ispkg or info.name == "monitor.__main__" or ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue
            parameters = inspect.signature(function).parameters
            parameter = parameters.get("actor")
            if parameter is None:
                continue
            # The checks themselves (scope, require) take it first; what reads or writes the
            # database takes it by keyword. None of them has a default that skips the checks.
            by_keyword = "session" not in parameters or parameter.kind is inspect.Parameter.KEYWORD_ONLY
            if parameter.default is not inspect.Parameter.empty or not by_keyword:
                offenders.append(f"{info.name}.{name}")
    assert offenders == []


def test_a_town_clerk_cannot_roll_back_or_change_quotas(session, settings):
    load_roster(session, settings)
    clerk = Actor(name="clerk", role="town", town="泥江口镇")
    batch = _import(session, settings, _days("NJK-HP", "2025-03", range(1, 3)))
    from monitor.core.permissions import Forbidden

    with pytest.raises(Forbidden):
        rollback_batch(session=session, actor=clerk, settings=settings, batch_id=batch.batch_id, today=TODAY)
    with pytest.raises(Forbidden):
        set_type_quotas(session=session, actor=clerk, settings=settings, quotas={"station": 1}, today=TODAY)
    with pytest.raises(Forbidden):
        metrics.report(
            session=session, query=Query(actor=clerk, settings=RULES, start="2025-03", end="2025-03", town="兰溪镇")
        )
    assert _report(session, start="2025-03", end="2025-03")["held"] == 2


# 11. Reads of accounts, locks and kept files take the acting account too, and check it.
def test_accounts_locks_and_kept_files_are_read_as_someone(session, settings):
    from monitor.admin.accounts import users_frame
    from monitor.core.permissions import Forbidden
    from monitor.ingest.batches import original_file
    from monitor.store.locks import locks_frame

    load_roster(session, settings)
    lanxi, nijiang = (
        Actor(name="兰溪镇经办人", role="town", town="兰溪镇"),
        Actor(name="泥江口镇", role="town", town="泥江口镇"),
    )
    rows = activities_csv(_days("LX-S", "2025-03", [1, 2]))
    done = import_activities(
        session=session, actor=lanxi, data=rows, file_name="兰溪镇三月.csv", settings=settings, today=TODAY
    )
    lock_month(session=session, month="2025-03", actor=OPERATOR)
    uploads = settings.uploads_dir

    assert locks_frame(session=session, actor=lanxi)["month"].tolist() == ["2025-03"]
    assert users_frame(session=session, actor=OPERATOR).empty  # accounts are added by the operator, none yet
    with pytest.raises(Forbidden):
        users_frame(session=session, actor=REVIEWER)
    name, data = original_file(session=session, actor=lanxi, batch_id=done.batch_id, uploads_dir=uploads)
    assert name == f"{done.batch_id}_兰溪镇三月.csv" and "LX-S" in data.decode("utf-8")
    with pytest.raises(Forbidden, match="只能查看本乡镇"):
        original_file(session=session, actor=nijiang, batch_id=done.batch_id, uploads_dir=uploads)
    assert original_file(session=session, actor=OPERATOR, batch_id=10_000, uploads_dir=uploads) is None
