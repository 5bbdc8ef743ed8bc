"""Rolling back an import says what goes with its activities (decisions, feedback, photo links) before
and after, and the ids of what it removed are never given to anything stored later."""

from __future__ import annotations

import json

import pytest
from factories import OPERATOR, TODAY, activities_csv, load_roster
from photo_factories import jpeg
from sqlalchemy import text
from sqlmodel import Session, select

from monitor.core.config import Settings
from monitor.core.models import Activity, AuditEvent, Feedback, ImportBatch, Photo, Review
from monitor.core.permissions import Actor
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import decide, reply
from monitor.ingest.importer import import_activities
from monitor.ingest.rollback import Rollback, RollbackRefused, describe, preview_rollback, rollback_batch

REVIEWER = Actor(name="审核员", role="reviewer")
NJK_CLERK = Actor(name="泥江口镇经办人", role="town", town="泥江口镇")


def _import(session: Session, settings: Settings, days, *, name: str) -> int:
    rows = [("NJK-YCT", "", "", f"2025-03-{d:02d}", f"活动{d}", "") for d in days]
    done = import_activities(
        session=session, actor=OPERATOR, data=activities_csv(rows), file_name=name, settings=settings, today=TODAY
    )
    assert done.errors == [] and done.batch_id is not None
    return done.batch_id


def _ids(session: Session) -> dict[str, int]:
    session.expire_all()
    return {a.title: int(a.id) for a in session.exec(select(Activity)).all() if a.id is not None}


def _decide(session: Session, settings: Settings, activity_id: int, decision: str) -> None:
    reason = "照片与活动不符" if decision == "rejected" else ""
    decide(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=activity_id,
        decision=decision,
        reason=reason,
        seen="",
        today=TODAY,
    )


def _photo(session: Session, settings: Settings, activity_id: int, seed: int) -> None:
    attach_one(
        session=session,
        actor=OPERATOR,
        settings=settings,
        store=open_store(settings),
        activity_id=activity_id,
        name=f"{seed}.jpg",
        data=jpeg(seed),
    )


def test_the_preview_and_the_result_say_what_goes_with_the_activities(session, settings):
    load_roster(session, settings)
    first = _import(session, settings, range(1, 5), name="甲.csv")  # 活动1-4
    second = _import(session, settings, range(3, 7), name="乙.csv")  # 活动3-6: 3 and 4 again
    ids = _ids(session)
    _decide(session, settings, ids["活动1"], "recognised")
    _decide(session, settings, ids["活动2"], "rejected")
    reply(session=session, actor=NJK_CLERK, settings=settings, activity_id=ids["活动2"], text="已补充照片", today=TODAY)
    _decide(session, settings, ids["活动3"], "recognised")  # 乙 reported it too: it stays, with its decision
    _decide(session, settings, ids["活动5"], "rejected")  # 乙's own
    for seed, title in enumerate(("活动1", "活动2", "活动3"), start=1):
        _photo(session, settings, ids[title], seed)

    # 活动1 and 活动2 go: 1 认定 and 1 不予认定, 3 feedback entries (two decisions and the reply), 2 photo links.
    expected = Rollback(batch_id=first, removed=2, kept=2, photos=2, recognised=1, not_recognised=1, feedback=3)
    preview = preview_rollback(session=session, actor=REVIEWER, settings=settings, batch_id=first, today=TODAY)
    assert preview == expected
    assert describe(preview) == (
        "删除 2 条活动，连同其 2 条认定结果（认定 1 条、不予认定 1 条）、3 条反馈记录、2 张照片的关联；"
        "保留 2 条（其他导入也上报了）"
    )
    assert len(_ids(session)) == 6  # a preview writes nothing

    done = rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=first, today=TODAY)
    assert done == expected
    session.expire_all()
    assert sorted(_ids(session)) == ["活动3", "活动4", "活动5", "活动6"]
    assert sorted(r.activity_id for r in session.exec(select(Review)).all()) == sorted([ids["活动3"], ids["活动5"]])
    assert [p.activity_id for p in session.exec(select(Photo)).all()] == [ids["活动3"]]
    assert len(session.exec(select(Feedback)).all()) == 2  # the decisions on 活动3 and 活动5
    assert session.get(ImportBatch, first).message.endswith(describe(expected))

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "rollback")).one()
    assert json.loads(event.after) == {
        "status": "rolled_back",
        "removed": 2,
        "kept": 2,
        "photos": 2,
        "recognised": 1,
        "not_recognised": 1,
        "feedback": 3,
    }

    # 乙 alone now: its four activities, 认定 on 活动3, 不予认定 on 活动5, their two notes, one photo.
    assert preview_rollback(session=session, actor=REVIEWER, settings=settings, batch_id=second, today=TODAY) == (
        Rollback(batch_id=second, removed=4, kept=0, photos=1, recognised=1, not_recognised=1, feedback=2)
    )


def test_a_preview_refuses_what_the_rollback_would_refuse(session, settings):
    load_roster(session, settings)
    batch = _import(session, settings, range(1, 3), name="甲.csv")
    with pytest.raises(RollbackRefused, match="不存在"):
        preview_rollback(session=session, actor=REVIEWER, settings=settings, batch_id=batch + 1, today=TODAY)
    rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=batch, today=TODAY)
    with pytest.raises(RollbackRefused, match="已撤销过"):
        preview_rollback(session=session, actor=REVIEWER, settings=settings, batch_id=batch, today=TODAY)


def test_a_rollback_with_nothing_attached_says_only_what_it_removes(session, settings):
    load_roster(session, settings)
    batch = _import(session, settings, range(1, 4), name="甲.csv")
    done = rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=batch, today=TODAY)
    assert describe(done) == "删除 3 条活动"


def test_ids_of_rolled_back_activities_are_never_given_again(session, settings):
    """The audit trail names activities by id (活动 #12): an id once used names that activity only."""
    load_roster(session, settings)
    _import(session, settings, range(1, 3), name="甲.csv")
    last = _import(session, settings, range(3, 6), name="乙.csv")  # the highest ids
    ids = _ids(session)
    _decide(session, settings, ids["活动5"], "rejected")
    _photo(session, settings, ids["活动5"], 1)
    used = {
        "activity": max(ids.values()),
        "feedback": max(f.id for f in session.exec(select(Feedback)).all()),
        "photo": max(p.id for p in session.exec(select(Photo)).all()),
    }
    rollback_batch(session=session, actor=REVIEWER, settings=settings, batch_id=last, today=TODAY)

    again = _import(session, settings, range(10, 14), name="丙.csv")
    fresh = {title: i for title, i in _ids(session).items() if title in {f"活动{d}" for d in range(10, 14)}}
    assert len(fresh) == 4 and min(fresh.values()) > used["activity"]
    _decide(session, settings, fresh["活动10"], "recognised")
    _photo(session, settings, fresh["活动10"], 1)
    assert session.exec(select(Feedback)).one().id > used["feedback"]
    assert session.exec(select(Photo)).one().id > used["photo"]
    # The review events name the first 活动5 and the new 活动10 by two different ids.
    named = session.connection().execute(text("SELECT detail FROM auditevent WHERE action = 'review'")).scalars()
    assert sorted(named) == sorted([f"活动 #{ids['活动5']}", f"活动 #{fresh['活动10']}"])
    assert again > last
