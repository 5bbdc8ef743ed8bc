"""The unit × month table never drifts from the activity rows, whatever writes happen in whatever order.

A property test runs random sequences of imports (overlapping ones included), rollbacks, review
decisions and roster changes, and after every step compares the table with a recount of the activity
and review rows written here, and the figures read from it with the figures read from the rows.
"""

from __future__ import annotations

import json
from calendar import monthrange
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from conftest import BACKENDS, make_settings
from factories import OPERATOR, SMALL_ROSTER, TODAY, activities_csv, load_roster, roster_csv
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session, select

from monitor.core.models import Activity, AuditEvent, ImportBatch, Review
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.counts import townmonths, unitmonths
from monitor.evidence.review import decide, decisions_of
from monitor.figures import metrics, summary
from monitor.figures.held import held_counts, held_from_activities
from monitor.ingest.importer import import_activities
from monitor.ingest.quotas import UnitChanges, set_type_quotas, update_unit
from monitor.ingest.rollback import RollbackRefused, rollback_batch
from monitor.ingest.roster_file import import_units
from monitor.store.db import get_engine

CODES = ["ZX", "NJK-S", "NJK-YCT", "LX-HP", "LX-XJ"]
TITLES = ["理论宣讲", "志愿服务", "文艺汇演"]
REVIEWER = Actor(name="审核员", role="reviewer")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the district's time, in which a month's deadline falls
COLUMNS = ("activities", "on_time", "recognised", "not_recognised", "not_recognised_on_time")

row = st.tuples(st.sampled_from(CODES), st.integers(1, 3), st.integers(1, 4), st.sampled_from(TITLES))
step = st.one_of(
    st.tuples(st.just("import"), st.lists(row, min_size=1, max_size=8)),
    st.tuples(st.just("rollback"), st.integers(0, 5)),
    st.tuples(st.just("review"), st.integers(0, 40), st.sampled_from(["recognised", "rejected"])),
    st.tuples(st.just("roster"), st.sampled_from(["", "2025-02", "2025-03"]), st.sampled_from(["", "2025-02"])),
    st.tuples(st.just("quota"), st.sampled_from(["station", "institute"]), st.integers(0, 3), st.integers(1, 4)),
    st.tuples(
        st.just("unit"), st.sampled_from(CODES), st.sampled_from([None, 0, 1, 4]), st.integers(1, 4), st.integers(0, 3)
    ),
)


def _import(session: Session, settings, rows) -> None:
    lines = [(code, "", "", f"2025-{month:02d}-{day:02d}", title, "") for code, month, day, title in rows]
    import_activities(
        session=session, actor=OPERATOR, data=activities_csv(lines), file_name="台账.csv", settings=settings
    )


def _apply(session: Session, settings, action) -> None:
    kind = action[0]
    if kind == "import":
        _import(session, settings, action[1])
    elif kind == "rollback":
        batches = session.exec(select(ImportBatch.id).where(ImportBatch.kind == "activities")).all()
        if batches:
            try:
                rollback_batch(
                    session=session,
                    actor=OPERATOR,
                    settings=settings,
                    batch_id=batches[action[1] % len(batches)],
                    today=TODAY,
                )
            except RollbackRefused:
                pass  # already rolled back: nothing changes
    elif kind == "review":
        ids = sorted(i for i in session.exec(select(Activity.id)).all() if i is not None)
        if ids:
            target = ids[action[1] % len(ids)]
            decide(
                session=session,
                actor=REVIEWER,
                settings=settings,
                activity_id=target,
                decision=action[2],
                reason="照片不符",
                seen=decisions_of(session, [target]).get(target, ("", ""))[0],
                today=TODAY,
            )
    elif kind == "quota":  # a type's quota from a month on: the township sums of every month follow
        set_type_quotas(
            session=session,
            actor=OPERATOR,
            settings=settings,
            quotas={action[1]: action[2]},
            today=TODAY,
            from_month=f"2025-{action[3]:02d}",
        )
    elif kind == "unit":  # a unit's own quota from a month on, and its first active month
        update_unit(
            session=session,
            actor=OPERATOR,
            settings=settings,
            code=action[1],
            changes=UnitChanges(
                quota=action[2],
                head="",
                phone="",
                active_from=f"2025-{action[4]:02d}" if action[4] else "",
                active_to="",
            ),
            today=TODAY,
            from_month=f"2025-{action[3]:02d}",
        )
    else:  # a station's active range changes: no count moves, the figures apply the range on reading
        unit = {**SMALL_ROSTER[2], "active_from": action[1], "active_to": action[2] if action[2] >= action[1] else ""}
        import_units(
            session=session,
            actor=OPERATOR,
            data=roster_csv([unit]),
            file_name="名册.csv",
            settings=settings,
            today=TODAY,
        )


def _deadline(month: str, day: int) -> datetime:
    """The end of day `day` (or the month's last day, when shorter) of the month after `month`, in Shanghai."""
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime.combine(date(year, number, min(day, monthrange(year, number)[1])), time.max, tzinfo=SHANGHAI)


def _counted_by_hand(session: Session, deadline_day: int) -> dict[tuple[str, int], tuple[int, ...]]:
    """COLUMNS per (month, unit id), recounted from the activity and review rows: every activity; those
    stored by their month's deadline (on time); those 认定; those 不予认定; those 不予认定 and on time."""
    decisions = dict(session.exec(select(Review.activity_id, Review.decision)).all())
    counts: dict[tuple[str, int], list[int]] = {}
    for activity_id, unit_id, month, stored_at in session.exec(
        select(Activity.id, Activity.unit_id, Activity.month, Activity.stored_at)
    ).all():
        stored = stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC)  # SQLite keeps naive UTC
        on_time = stored <= _deadline(month, deadline_day)
        decision = decisions.get(activity_id)
        row = counts.setdefault((month, unit_id), [0] * len(COLUMNS))
        for i, counted in enumerate(
            (True, on_time, decision == "recognised", decision == "rejected", decision == "rejected" and on_time)
        ):
            row[i] += counted
    return {key: tuple(row) for key, row in counts.items()}


def _kept(session: Session) -> dict[tuple[str, int], tuple[int, ...]]:
    """The unit-month table as stored; a row of zeros is no row."""
    rows = session.connection().execute(text(f"SELECT month, unit_id, {', '.join(COLUMNS)} FROM unitmonth")).all()
    return {(month, unit_id): tuple(counts) for month, unit_id, *counts in rows if any(counts)}


def _agrees(session: Session, settings) -> None:
    assert _kept(session) == _counted_by_hand(session, settings.deadline_day)
    assert townmonths.differences(session) == []
    for town, unit_type in [(None, None), ("泥江口镇", None), (None, "station")]:
        scope = {"town": town, "unit_type": unit_type}
        report = metrics.report(
            session=session, query=Query(actor=OPERATOR, settings=settings, start="2025-01", end="2025-04", **scope)
        )
        assert report.to_json() == metrics.grid_json("2025-01", "2025-04", report.grid)
        for month in ["2025-02", "2025-04"]:
            fast = metrics.interviews(
                session=session, query=Query(actor=OPERATOR, settings=settings, start=month, end=month, **scope)
            )
            full = metrics.interviews_from_grid(
                session=session, query=Query(actor=OPERATOR, settings=settings, start=month, end=month, **scope)
            )
            assert fast.to_dict("records") == full.to_dict("records")
    from_table = held_counts(session=session, start="2025-01", end="2025-04", settings=settings)
    from_rows = held_from_activities(session=session, start="2025-01", end="2025-04", settings=settings)
    keys = ["month", "unit_id"]
    assert from_table.sort_values(keys).reset_index(drop=True).to_dict("records") == from_rows.sort_values(
        keys
    ).reset_index(drop=True).to_dict("records")


@pytest.mark.parametrize("backend", BACKENDS)
@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_the_table_equals_a_recomputation_after_every_step(backend, tmp_path_factory, steps):
    settings = make_settings(backend, tmp_path_factory.mktemp("um"), "t_unitmonth")
    with Session(get_engine(settings.database_url)) as session:
        load_roster(session, settings)
        for action in steps:
            _apply(session, settings, action)
            session.expire_all()
            _agrees(session, settings)


def test_an_overlapping_reimport_and_its_rollback_keep_the_counts(session, settings):
    load_roster(session, settings)
    _import(session, settings, [("NJK-YCT", 1, 1, "理论宣讲"), ("NJK-YCT", 1, 2, "志愿服务")])
    _import(session, settings, [("NJK-YCT", 1, 2, "志愿服务"), ("NJK-YCT", 1, 3, "文艺汇演")])  # one overlaps
    first, second = session.exec(
        select(ImportBatch.id).where(ImportBatch.kind == "activities").order_by(ImportBatch.id)
    ).all()
    rows = unitmonths.stored(session)
    assert rows[["month", "activities"]].to_dict("records") == [{"month": "2025-01", "activities": 3}]
    rollback_batch(session=session, actor=OPERATOR, settings=settings, batch_id=first, today=TODAY)
    # 1-01 goes; 1-02 stays, the second batch reported it too; 1-03 is the second's own.
    assert list(unitmonths.stored(session)["activities"]) == [2]
    rollback_batch(session=session, actor=OPERATOR, settings=settings, batch_id=second, today=TODAY)
    assert unitmonths.stored(session).empty
    assert unitmonths.differences(session) == []


def test_a_decision_moves_one_activity_between_the_counts(session, settings):
    load_roster(session, settings)
    _import(session, settings, [("NJK-YCT", 2, 1, "理论宣讲"), ("NJK-YCT", 2, 2, "志愿服务")])
    first = session.exec(select(Activity.id).order_by(Activity.date)).first()

    def counts() -> dict[str, int]:
        return {k: int(v) for k, v in unitmonths.stored(session).iloc[0].items() if k in unitmonths.COUNTS}

    assert counts() == {
        "activities": 2,
        "on_time": 0,
        "recognised": 0,
        "not_recognised": 0,
        "not_recognised_on_time": 0,
    }
    seen = ""
    for decision, expected in (("rejected", (0, 1)), ("recognised", (1, 0)), ("rejected", (0, 1))):
        decide(
            session=session,
            actor=REVIEWER,
            settings=settings,
            activity_id=first,
            decision=decision,
            reason="核实",
            seen=seen,
            today=TODAY,
        )
        assert (counts()["recognised"], counts()["not_recognised"]) == expected
        seen = decision
    assert unitmonths.differences(session) == []


def test_check_finds_a_tampered_count_and_repair_rebuilds_it(session, settings):
    load_roster(session, settings)
    _import(session, settings, [("NJK-YCT", 1, 1, "理论宣讲"), ("LX-HP", 1, 2, "志愿服务")])
    session.connection().execute(
        text(
            "UPDATE unitmonth SET activities = activities + 2 "
            "WHERE unit_id IN (SELECT id FROM unit WHERE code = 'LX-HP')"
        )
    )
    session.commit()
    found = unitmonths.check(session=session, actor=OPERATOR, settings=settings)
    assert [(d.month, d.column, d.stored, d.actual) for d in found.differences] == [("2025-01", "activities", 3, 1)]
    # The township sums, kept from the honest count, no longer match the tampered one: a station
    # (quota 2) holding 3 instead of 1 adds 2 held, 1 capped and 1 unit-month met.
    assert [(d.unit_type, d.column, d.stored, d.actual) for d in found.sums] == [
        ("station", "held", 1, 3),
        ("station", "capped", 1, 2),
        ("station", "met", 0, 1),
    ]
    clerk = Actor(name="文书", role="town", town="兰溪镇")
    with pytest.raises(Forbidden, match="无权修复统计表"):
        unitmonths.check(session=session, actor=clerk, settings=settings, repair=True)
    # A town account reads its own township's counts only: LX-HP's difference, none of 泥江口镇's sums.
    mine = unitmonths.check(session=session, actor=clerk, settings=settings)
    assert (len(mine.differences), {s.town for s in mine.sums}) == (1, {"兰溪镇"})
    njk = Actor(name="njk", role="town", town="泥江口镇")
    assert unitmonths.check(session=session, actor=njk, settings=settings).differences == []
    repaired = unitmonths.check(session=session, actor=REVIEWER, settings=settings, repair=True)
    assert repaired.repaired and len(repaired.differences) == 1
    assert unitmonths.check(session=session, actor=OPERATOR, settings=settings).differences == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "unitmonth_repair")).one()
    assert json.loads(event.before) == {"deadline_day": 5, "differences": 1, "sum_differences": 3}
    after = unitmonths.check(session=session, actor=OPERATOR, settings=settings)
    assert (after.differences, after.sums) == ([], [])


def test_check_finds_a_tampered_township_sum_and_repair_rebuilds_it(session, settings):
    load_roster(session, settings)
    _import(session, settings, [("NJK-YCT", 1, 1, "理论宣讲"), ("NJK-YCT", 1, 2, "志愿服务")])
    session.connection().execute(text("UPDATE townmonth SET met = met + 5, held = 0"))
    session.commit()
    found = unitmonths.check(session=session, actor=OPERATOR, settings=settings)
    assert found.differences == []
    # Two activities of one station (quota 2) in January: held 2, capped 2, met 1.
    assert [(d.month, d.unit_type, d.column, d.stored, d.actual) for d in found.sums] == [
        ("2025-01", "station", "held", 0, 2),
        ("2025-01", "station", "met", 6, 1),
    ]
    unitmonths.check(session=session, actor=OPERATOR, settings=settings, repair=True)
    assert unitmonths.check(session=session, actor=OPERATOR, settings=settings).sums == []


def test_a_changed_deadline_day_is_read_from_the_rows_until_repaired(session, settings):
    from dataclasses import replace

    load_roster(session, settings)
    _import(session, settings, [("NJK-YCT", 1, 1, "理论宣讲")])
    # Stored just now, long after January 2025's deadline, for any deadline day: held 1, on time 0.
    later = replace(settings, deadline_day=7)
    grid = held_counts(session=session, start="2025-01", end="2025-01", settings=later)
    assert (int(grid["held"].sum()), int(grid["on_time_held"].sum())) == (1, 0)
    assert unitmonths.check(session=session, actor=OPERATOR, settings=later).deadline_day == 5
    unitmonths.check(session=session, actor=OPERATOR, settings=later, repair=True)
    assert unitmonths.deadline_day(session) == 7
    assert date(2025, 1, 1) < TODAY


def _sums(session: Session) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    frame = townmonths.stored(session)
    return {
        (m, t, k): (held, capped, met)
        for m, t, k, held, capped, met in frame[["month", "town", "unit_type", "held", "capped", "met"]].itertuples(
            index=False, name=None
        )
    }


def test_quota_and_roster_changes_move_the_township_sums(session, settings):
    load_roster(session, settings)
    rows = [("NJK-YCT", 1, 1, "理论宣讲"), ("NJK-YCT", 1, 2, "志愿服务"), ("NJK-YCT", 2, 1, "理论宣讲")]
    _import(session, settings, rows)
    station = "station"
    # A station's quota is 2: January holds 2 (met), February 1 (short).
    assert _sums(session) == {("2025-01", "泥江口镇", station): (2, 2, 1), ("2025-02", "泥江口镇", station): (1, 1, 0)}
    set_type_quotas(
        session=session, actor=OPERATOR, settings=settings, quotas={station: 1}, today=TODAY, from_month="2025-02"
    )
    assert _sums(session)[("2025-02", "泥江口镇", station)] == (1, 1, 1)  # 1 of 1 from February
    changes = UnitChanges(quota=3, head="王五", phone="", active_from="", active_to="")
    update_unit(
        session=session,
        actor=OPERATOR,
        settings=settings,
        code="NJK-YCT",
        changes=changes,
        today=TODAY,
        from_month="2025-01",
    )
    assert _sums(session) == {("2025-01", "泥江口镇", station): (2, 2, 0), ("2025-02", "泥江口镇", station): (1, 1, 0)}
    later = UnitChanges(quota=3, head="王五", phone="", active_from="2025-02", active_to="")
    update_unit(session=session, actor=OPERATOR, settings=settings, code="NJK-YCT", changes=later, today=TODAY)
    assert _sums(session) == {("2025-02", "泥江口镇", station): (1, 1, 0)}  # January is before it was active
    unit = {**SMALL_ROSTER[2], "active_from": "2025-01", "active_to": "2025-01"}
    import_units(
        session=session, actor=OPERATOR, data=roster_csv([unit]), file_name="名册.csv", settings=settings, today=TODAY
    )
    assert _sums(session) == {("2025-01", "泥江口镇", station): (2, 2, 0)}  # closed after January
    assert townmonths.differences(session) == []


def test_an_import_counts_this_months_rows_on_time_and_last_years_late(session, settings):
    load_roster(session, settings)
    today = datetime.now(settings.timezone).date()
    rows = [("NJK-YCT", "", "", today.isoformat(), "理论宣讲", ""), ("NJK-YCT", "", "", "2025-01-03", "理论宣讲", "")]
    import_activities(
        session=session, actor=OPERATOR, data=activities_csv(rows), file_name="台账.csv", settings=settings
    )
    counts = unitmonths.stored(session).set_index("month")
    # Stored today: before this month's deadline (next month), long after January 2025's.
    assert int(counts.at[today.strftime("%Y-%m"), "on_time"]) == 1
    assert int(counts.at["2025-01", "on_time"]) == 0
    assert unitmonths.differences(session) == [] and townmonths.differences(session) == []
    assert _kept(session) == _counted_by_hand(session, settings.deadline_day)


@pytest.mark.parametrize("by_id", [True, False])
def test_the_interview_list_reads_a_month_by_id_or_whole_alike(session, settings, monkeypatch, by_id):
    load_roster(session, settings)
    # 油草塘村 holds 1 of 2 in each month, 新建 none, the others nothing in February and March.
    rows = [("NJK-YCT", m, 3, "理论宣讲") for m in (1, 2, 3)] + [
        ("LX-HP", 1, 4, "志愿服务"),
        ("LX-HP", 1, 5, "文艺汇演"),
    ]
    _import(session, settings, rows)
    monkeypatch.setattr(summary, "_by_id", lambda *_: by_id)
    fast = metrics.interviews(
        session=session, query=Query(actor=OPERATOR, settings=settings, start="2025-03", end="2025-03")
    )
    full = metrics.interviews_from_grid(
        session=session, query=Query(actor=OPERATOR, settings=settings, start="2025-03", end="2025-03")
    )
    assert fast.to_dict("records") == full.to_dict("records")
    streaks = dict(zip(fast["code"], fast["streak"], strict=True))
    assert streaks["NJK-YCT"] == 3 and streaks["LX-HP"] == 2  # LX-HP met January's quota of 2
