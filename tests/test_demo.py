"""The demo district reproduces the department's report."""

from factories import OPERATOR, RULES

from monitor.core.query import Query
from monitor.figures import metrics
from monitor.roster.units import list_units


def test_units_of_the_district(demo_session):
    units = list_units(session=demo_session, month="2025-06")
    kinds = [u["type"] for u in units]
    assert (kinds.count("center"), kinds.count("institute"), kinds.count("station")) == (1, 18, 241)
    towns = {u["town"] for u in units if u["type"] == "institute"}
    assert len(towns) == 18 and {"泥江口镇", "兰溪镇"} <= towns
    assert any(u["code"] == "NJK-YCT" and u["town"] == "泥江口镇" for u in units)


def test_first_half_2025_is_110_81_percent(demo_session):
    doc = metrics.report(
        session=demo_session, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-06")
    ).to_json()
    assert doc["held"] == 3617
    assert doc["required"] == 3264 == 6 * (8 + 18 * 3 + 241 * 2)
    assert f"{doc['completion_rate'] * 100:.2f}" == "110.81"


def test_fifteen_stations_below_ten_by_august_2024(demo_session):
    frame = metrics.laggards(
        session=demo_session,
        query=Query(actor=OPERATOR, settings=RULES, start="2024-01", end="2024-08", unit_type="station"),
        below=10,
    )
    assert len(frame) == 15
    first = frame.iloc[0]
    assert (first["code"], first["held"]) == ("NJK-YCT", 0)
    assert (frame["held"] < 10).all()


def test_some_units_due_for_interview_at_the_end_of_2025(demo_session):
    due = metrics.interviews(
        session=demo_session, query=Query(actor=OPERATOR, settings=RULES, start="2025-12", end="2025-12"), min_streak=2
    )
    assert len(due) >= 5
    assert (due["streak"] >= 2).all()
    assert set(due["type"]) >= {"station", "institute"}


def test_the_districts_late_units_are_each_units_late_months(demo_session):
    """单位明细's 未按时上报 on the demo district against the grid read row by row: each unit with
    the months whose quota was not met by activities stored before the deadline."""
    from monitor.figures import views

    query = Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-12")
    grid = metrics.streak_months(session=demo_session, query=query)
    expected: dict[str, list[str]] = {}
    for row in grid.itertuples(index=False):
        if row.quota_month > 0 and not row.on_time:
            expected.setdefault(row.code, []).append(row.month)
    late = views.units_grid(session=demo_session, query=query).late
    assert {r.code: r.months.split("、") for r in late.itertuples()} == {c: sorted(m) for c, m in expected.items()}
    assert late["late_months"].tolist() == sorted(late["late_months"].tolist(), reverse=True)
    assert 0 < len(late) < len(grid["code"].unique())  # some units late, not all
