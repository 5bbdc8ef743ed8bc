"""认定: an activity 不予认定 is held nowhere, the decision can be changed, and only reviewers decide.

Every figure is checked against numbers worked out by hand from the activities each test stores.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from factories import OPERATOR, TODAY, hold, load_roster
from sqlmodel import Session, col, select

from monitor.core.models import Activity, AuditEvent, Feedback, Review, Unit
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.counts import unitmonths
from monitor.evidence.review import ReviewRefused, decide, decisions_of, feedback, reply, thread
from monitor.figures import metrics
from monitor.reports.bulletin import bulletin
from monitor.reports.ledger import ledger_xlsx
from monitor.store.locks import lock_month

REVIEWER = Actor(name="审核员", role="reviewer")
NJK_CLERK = Actor(name="泥江口文书", role="town", town="泥江口镇")
LX_CLERK = Actor(name="兰溪文书", role="town", town="兰溪镇")


def activity_ids(session: Session, code: str, month: str) -> list[int]:
    unit = session.exec(select(Unit).where(Unit.code == code)).one()
    rows = session.exec(
        select(Activity.id).where(Activity.unit_id == unit.id, Activity.month == month).order_by(col(Activity.date))
    ).all()
    return [int(i) for i in rows if i is not None]


def reject(session: Session, settings, activity_id: int, reason: str = "照片与活动内容不符") -> Review:
    return decide(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=activity_id,
        decision="rejected",
        reason=reason,
        seen=decisions_of(session, [activity_id]).get(activity_id, ("", ""))[0],
        today=TODAY,
    )


@pytest.fixture
def district(session, settings):
    """油草塘村 (quota 2) holds 2 in May and 2 in June 2025; 兰溪镇和平村 holds 3 in June."""
    load_roster(session, settings)
    hold(
        session, settings, {("NJK-YCT", "2025-05"): 2, ("NJK-YCT", "2025-06"): 2, ("LX-HP", "2025-06"): 3}, today=TODAY
    )
    return session


def yct(grid: pd.DataFrame, month: str) -> pd.Series:
    return grid[(grid["code"] == "NJK-YCT") & (grid["month"] == month)].iloc[0]


def test_a_rejected_activity_is_not_held_in_the_report(district, settings):
    reject(district, settings, activity_ids(district, "NJK-YCT", "2025-06")[0])
    doc = metrics.report(
        session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06")
    ).to_json()
    # June: 油草塘村 2 - 1 rejected = 1, 兰溪镇和平村 3; required 8 + 3 + 3 + 2 + 2 + 2 + 2 (新建村 active to June) = 22
    assert (doc["held"], doc["not_recognised"], doc["required"]) == (4, 1, 22)
    town = metrics.report(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06", town="泥江口镇"),
    ).to_json()
    assert (town["held"], town["not_recognised"]) == (1, 1)
    row = yct(
        metrics.unit_months(
            session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06")
        ),
        "2025-06",
    )
    assert (row["held"], row["not_recognised"], row["status"]) == (1, 1, "below")


def test_rejections_in_two_months_make_a_unit_due_for_interview(district, settings):
    def due() -> dict[str, int]:
        frame = metrics.interviews(
            session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06")
        )
        return dict(zip(frame["code"], frame["streak"], strict=True))

    assert "NJK-YCT" not in due()  # met its quota of 2 in May and June
    reject(district, settings, activity_ids(district, "NJK-YCT", "2025-05")[0])
    assert "NJK-YCT" not in due()  # May below, June met
    reject(district, settings, activity_ids(district, "NJK-YCT", "2025-06")[1])
    assert due()["NJK-YCT"] == 2


def test_rejections_count_against_cumulative_laggards(district, settings):
    def laggards() -> dict[str, int]:
        frame = metrics.laggards(
            session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-05", end="2025-06"), below=4
        )
        return dict(zip(frame["code"], frame["held"], strict=True))

    assert "NJK-YCT" not in laggards()  # 4 held
    reject(district, settings, activity_ids(district, "NJK-YCT", "2025-05")[1])
    assert laggards()["NJK-YCT"] == 3


def test_the_ledger_lists_a_rejected_activity_but_does_not_count_it(district, settings):
    first = activity_ids(district, "NJK-YCT", "2025-06")[0]
    reject(district, settings, first, reason="同一组照片重复使用")
    data = ledger_xlsx(
        session=district,
        query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06", town=None, unit_type=None),
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["开展活动（场次）"] == 4
    assert summary["不予认定（场次，未计入开展活动）"] == 1
    details = pd.DataFrame(book["明细"].values)
    details.columns = details.iloc[0]
    details = details.iloc[1:]
    assert len(details) == 5  # every stored row is listed
    marked = details[details["认定情况"] == "不予认定"]
    assert list(marked["单位编码"]) == ["NJK-YCT"]
    assert list(marked["不予认定理由"]) == ["同一组照片重复使用"]
    assert set(details["认定情况"]) == {"不予认定", "未认定"}


def test_the_bulletin_names_units_with_activities_not_recognised(district, settings):
    reject(district, settings, activity_ids(district, "NJK-YCT", "2025-06")[0])
    content = bulletin(
        session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06"), today=TODAY
    )
    assert "经审核，另有1场次活动不予认定，未计入开展活动数。" in content.overall
    assert (
        content.problems()[3] == "（四）有活动经审核不予认定的单位（1个）：泥江口镇油草塘村新时代文明实践站（1场次）。"
    )


def test_changing_the_decision_back_restores_the_figure_and_keeps_the_history(district, settings):
    target = activity_ids(district, "NJK-YCT", "2025-06")[0]
    reject(district, settings, target)
    decide(
        session=district,
        actor=OPERATOR,
        settings=settings,
        activity_id=target,
        decision="recognised",
        reason="补充照片后认定",
        seen="rejected",
        today=TODAY,
    )
    doc = metrics.report(
        session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06")
    ).to_json()
    assert (doc["held"], doc["not_recognised"]) == (5, 0)
    assert district.get(Review, target).decision == "recognised"
    history = thread(session=district, actor=OPERATOR, activity_id=target)
    assert list(history["kind"]) == ["rejected", "recognised"]
    assert list(history["author"]) == ["审核员", "测试操作员"]
    events = district.exec(select(AuditEvent).where(AuditEvent.action == "review").order_by(col(AuditEvent.id))).all()
    assert [e.actor for e in events] == ["审核员", "测试操作员"]
    assert events[0].before == "" and "不予认定" in events[0].after
    assert "不予认定" in events[1].before and "补充照片后认定" in events[1].after


def test_a_rejection_needs_a_reason_and_a_known_decision(district, settings):
    target = activity_ids(district, "NJK-YCT", "2025-06")[0]
    with pytest.raises(ReviewRefused, match="须写明理由"):
        reject(district, settings, target, reason="  ")
    with pytest.raises(ReviewRefused, match="认定结果应为"):
        decide(
            session=district,
            actor=REVIEWER,
            settings=settings,
            activity_id=target,
            decision="maybe",
            seen="",
            today=TODAY,
        )
    with pytest.raises(ReviewRefused, match="不存在"):
        reject(district, settings, 999_999)
    assert district.exec(select(Review)).all() == []
    assert district.exec(select(Feedback)).all() == []


def test_town_staff_cannot_decide_and_answer_only_their_own_township(district, settings):
    njk = activity_ids(district, "NJK-YCT", "2025-06")[0]
    lx = activity_ids(district, "LX-HP", "2025-06")[0]
    with pytest.raises(Forbidden):
        decide(
            session=district,
            actor=NJK_CLERK,
            settings=settings,
            activity_id=njk,
            decision="recognised",
            seen="",
            today=TODAY,
        )
    reject(district, settings, njk)
    reject(district, settings, lx)
    reply(
        session=district,
        actor=NJK_CLERK,
        settings=settings,
        activity_id=njk,
        text="已补充活动现场照片 3 张",
        today=TODAY,
    )
    with pytest.raises(Forbidden):
        reply(session=district, actor=NJK_CLERK, settings=settings, activity_id=lx, text="不是我们乡镇的", today=TODAY)
    with pytest.raises(Forbidden):
        thread(session=district, actor=NJK_CLERK, activity_id=lx)
    mine = feedback(session=district, actor=NJK_CLERK)
    assert list(mine["code"]) == ["NJK-YCT"]
    assert list(mine["answered"]) == [True]
    with pytest.raises(Forbidden):
        feedback(session=district, actor=NJK_CLERK, town="兰溪镇")
    everyone = feedback(session=district, actor=REVIEWER)
    assert sorted(everyone["code"]) == ["LX-HP", "NJK-YCT"]
    assert dict(zip(everyone["code"], everyone["answered"], strict=True)) == {"LX-HP": False, "NJK-YCT": True}


def test_a_new_decision_after_an_answer_clears_answered(district, settings):
    target = activity_ids(district, "NJK-YCT", "2025-06")[0]
    reject(district, settings, target)
    reply(session=district, actor=NJK_CLERK, settings=settings, activity_id=target, text="已补充照片", today=TODAY)
    reject(district, settings, target, reason="补充的照片仍是其他活动的")
    assert list(feedback(session=district, actor=REVIEWER)["answered"]) == [False]


def test_a_locked_month_refuses_a_decision(district, settings):
    target = activity_ids(district, "NJK-YCT", "2025-06")[0]
    lock_month(session=district, month="2025-06", actor=REVIEWER)
    with pytest.raises(ReviewRefused, match="已锁定"):
        reject(district, settings, target)
    assert district.get(Review, target) is None


def test_an_activity_never_reviewed_counts_as_held(district, settings):
    target = activity_ids(district, "NJK-YCT", "2025-06")[0]
    decide(
        session=district,
        actor=REVIEWER,
        settings=settings,
        activity_id=target,
        decision="recognised",
        seen="",
        today=TODAY,
    )
    doc = metrics.report(
        session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-05", end="2025-06")
    ).to_json()
    assert (doc["held"], doc["not_recognised"]) == (7, 0)


def test_a_rejected_activity_stored_on_time_leaves_the_on_time_count(district, settings):
    # hold() stores on TODAY (2026-11-26), long after June 2025's deadline: nothing is on time.
    grid = metrics.unit_months(
        session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06")
    )
    assert int(grid["on_time_held"].sum()) == 0
    with Session(district.get_bind()) as other:
        unit = other.exec(select(Unit).where(Unit.code == "NJK-YCT")).one()
        for activity in other.exec(select(Activity).where(Activity.unit_id == unit.id)).all():
            activity.stored_at = pd.Timestamp("2025-07-01T02:00:00Z").to_pydatetime()
            other.add(activity)
        other.flush()
        unitmonths.rebuild(other, day=5)  # the stored moments were rewritten behind the table's back
        other.commit()
    reject(district, settings, activity_ids(district, "NJK-YCT", "2025-06")[0])
    row = yct(
        metrics.unit_months(
            session=district, query=Query(actor=OPERATOR, settings=settings, start="2025-06", end="2025-06")
        ),
        "2025-06",
    )
    assert (row["held"], row["on_time_held"], row["not_recognised"]) == (1, 1, 1)


def test_an_answer_needs_a_rejected_activity_in_an_open_month(district, settings):
    recognised, rejected = activity_ids(district, "NJK-YCT", "2025-06")
    never = activity_ids(district, "NJK-YCT", "2025-05")[0]
    decide(
        session=district,
        actor=REVIEWER,
        settings=settings,
        activity_id=recognised,
        decision="recognised",
        seen="",
        today=TODAY,
    )
    reject(district, settings, rejected)
    for target in (recognised, never):
        with pytest.raises(ReviewRefused, match="未被不予认定"):
            reply(session=district, actor=NJK_CLERK, settings=settings, activity_id=target, text="补充", today=TODAY)
    lock_month(session=district, month="2025-06", actor=REVIEWER)
    with pytest.raises(ReviewRefused, match="2025-06 已锁定，不再接受答复"):
        reply(session=district, actor=NJK_CLERK, settings=settings, activity_id=rejected, text="补充", today=TODAY)
    district.expire_all()
    assert district.exec(select(Feedback.kind)).all() == ["recognised", "rejected"]


def test_a_decision_on_what_another_reviewer_changed_meanwhile_is_refused(district, settings):
    target = activity_ids(district, "NJK-YCT", "2025-06")[0]
    reject(district, settings, target)  # 审核员 decides while the other still sees it undecided
    with pytest.raises(ReviewRefused, match="^已被他人处理：审核员 已于 .* 不予认定该活动"):
        decide(
            session=district,
            actor=OPERATOR,
            settings=settings,
            activity_id=target,
            decision="recognised",
            seen="",
            today=TODAY,
        )
    district.expire_all()
    assert district.get(Review, target).decision == "rejected"
    assert len(district.exec(select(Feedback)).all()) == 1
