"""认定: a reviewer's decision on an activity, town staff's answers, and the feedback (反馈) they read.

An activity 不予认定 is not held (monitor.figures.metrics leaves it out of every figure); one never
reviewed counts as reported. A decision can be changed; every decision and answer is kept in
the feedback thread and the audit trail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from monitor.core.calendar import as_utc
from monitor.core.clock import local_text
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.models import Activity, Feedback, Review, Unit
from monitor.core.permissions import Actor, may_touch, scope
from monitor.counts import unitmonths
from monitor.evidence.photo_links import photo_counts
from monitor.store import audit
from monitor.store.db import begin_write, bump_version, chunks, fetch_tuples
from monitor.store.locks import locked_months

DECISIONS = {"recognised": "认定", "rejected": "不予认定"}
KIND_LABELS = {**DECISIONS, "reply": "答复"}
MAX_TEXT = 1000


class ReviewRefused(Refusal, ValueError):
    """A decision or answer that cannot be taken as asked; the message says why."""

    code = "review_refused"


def _activity(session: Session, activity_id: int) -> tuple[Activity, Unit]:
    found = session.exec(
        select(Activity, Unit).join(Unit, col(Unit.id) == col(Activity.unit_id)).where(Activity.id == activity_id)
    ).first()
    if found is None:
        raise ReviewRefused(f"活动 {activity_id} 不存在（可能已被撤销）。")
    return found


def _label(activity: Activity, unit: Unit) -> str:
    return f"{unit.town}{unit.name} {activity.date:%Y-%m-%d} {activity.title}"[:255]


def _taken(current: Review | None, settings: Settings) -> str:
    if current is None:
        return "已被他人处理：该活动的认定结果已不存在，请刷新后再看。"
    at = local_text(current.decided_at, settings.timezone)
    return f"已被他人处理：{current.reviewer} 已于 {at} {DECISIONS[current.decision]}该活动，请刷新后再看。"


def _text(value: str, what: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > MAX_TEXT:
        raise ReviewRefused(f"{what}最多 {MAX_TEXT} 字，现有 {len(value)} 字。")
    return value


def decide(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    activity_id: int,
    decision: str,
    reason: str = "",
    seen: str,
    today: date,
) -> Review:
    """Mark an activity 认定 or 不予认定 (a reason is required for 不予认定), or change the decision.

    `seen`: the decision as the reviewer saw it when choosing ("" for none yet). The current one is
    read under the writers' lock; when another reviewer decided meanwhile, the decision is refused
    (已被他人处理) and nothing is written: one of two reviewers acting at once wins, the other is told.
    """
    if decision not in DECISIONS:
        raise ReviewRefused(f"认定结果应为 recognised（认定）或 rejected（不予认定），而不是“{decision}”。")
    reason = _text(reason, "理由")
    if decision == "rejected" and not reason:
        raise ReviewRefused("不予认定须写明理由，乡镇据此整改或补充材料。")
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        activity, unit = _activity(session, activity_id)
        may_touch(actor, "review", unit.town)
        if activity.month in locked_months(session=session, settings=settings, today=today):
            raise ReviewRefused(f"{activity.month} 已锁定，认定结果会改变该月数字；请先解锁该月。")
        current = session.get(Review, activity_id, populate_existing=True)
        if (current.decision if current else "") != seen:
            raise ReviewRefused(_taken(current, settings))
        before = {"decision": DECISIONS[current.decision], "reason": current.reason} if current else None
        counted = {"activity_id": activity_id}
        # As it was counted; the month's sums are refreshed once, by the add below.
        unitmonths.take(session, where="a.id = :activity_id", params=counted, sums=False)
        now = datetime.now(UTC)
        review = current or Review(activity_id=activity_id, decision=decision, decided_at=now)
        review.decision, review.reason, review.reviewer, review.decided_at = decision, reason, actor.name, now
        session.add(review)
        session.flush()
        unitmonths.add(session, where="a.id = :activity_id", params=counted)  # as it counts now
        session.add(Feedback(activity_id=activity_id, at=now, author=actor.name, kind=decision, text=reason))
        audit.record(
            session,
            actor=actor.name,
            action="review",
            target=_label(activity, unit),
            detail=f"活动 #{activity_id}",
            before=before,
            after={"decision": DECISIONS[decision], "reason": reason},
        )
        bump_version(session)
        session.commit()
        session.refresh(review)
    except BaseException:
        session.rollback()
        raise
    return review


def reply(*, session: Session, actor: Actor, settings: Settings, activity_id: int, text: str, today: date) -> Feedback:
    """Town staff answer a 不予认定 (with more photos attached separately); the reviewer sees it.
    An activity not 不予认定 has nothing to answer, and a locked month takes no more answers."""
    text = _text(text, "答复")
    if not text:
        raise ReviewRefused("答复内容不能为空。")
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        activity, unit = _activity(session, activity_id)
        may_touch(actor, "import", unit.town)
        current = session.get(Review, activity_id, populate_existing=True)
        if current is None or current.decision != "rejected":
            raise ReviewRefused("只有“不予认定”的活动需要答复；该活动未被不予认定。")
        if activity.month in locked_months(session=session, settings=settings, today=today):
            raise ReviewRefused(f"{activity.month} 已锁定，不再接受答复；如需补充，请联系审核人员解锁该月。")
        note = Feedback(activity_id=activity_id, at=datetime.now(UTC), author=actor.name, kind="reply", text=text)
        session.add(note)
        audit.record(
            session,
            actor=actor.name,
            action="review_reply",
            target=_label(activity, unit),
            detail=f"活动 #{activity_id}",
            after={"reply": text},
        )
        bump_version(session)
        session.commit()
        session.refresh(note)
    except BaseException:
        session.rollback()
        raise
    return note


def thread(*, session: Session, actor: Actor, activity_id: int) -> pd.DataFrame:
    """The decisions and answers on one activity, oldest first."""
    _, unit = _activity(session, activity_id)
    may_touch(actor, "view", unit.town)
    rows = fetch_tuples(
        session,
        select(Feedback.at, Feedback.author, Feedback.kind, Feedback.text)
        .where(Feedback.activity_id == activity_id)
        .order_by(col(Feedback.at), col(Feedback.id)),
    )
    frame = pd.DataFrame.from_records(rows, columns=["at", "author", "kind", "text"])
    frame["kind_label"] = frame["kind"].map(KIND_LABELS)
    return frame


def decisions_of(session: Session, activity_ids: list[int]) -> dict[int, tuple[str, str]]:
    """activity id -> (decision, reason) for the reviewed ones among `activity_ids`."""
    out: dict[int, tuple[str, str]] = {}
    for chunk in chunks(activity_ids):
        rows = fetch_tuples(
            session,
            select(Review.activity_id, Review.decision, Review.reason).where(col(Review.activity_id).in_(chunk)),
        )
        out.update((int(a), (str(d), str(r))) for a, d, r in rows)
    return out


FEEDBACK_COLUMNS = [
    "activity_id",
    "code",
    "name",
    "town",
    "date",
    "title",
    "decision",
    "reason",
    "reviewer",
    "decided_at",
    "photos",
    "answered",
]


def feedback(
    *,
    session: Session,
    actor: Actor,
    town: str | None = None,
    start: str | None = None,
    end: str | None = None,
    decision: str | None = "rejected",
) -> pd.DataFrame:
    """Reviewed activities in scope (不予认定 by default), newest decision first; `answered`: town staff
    have replied since the decision, so the reviewer should look again."""
    town = scope(actor, "view", town)
    statement = (
        core_select(
            col(Activity.id),
            col(Unit.code),
            col(Unit.name),
            col(Unit.town),
            col(Activity.date),
            col(Activity.title),
            col(Review.decision),
            col(Review.reason),
            col(Review.reviewer),
            col(Review.decided_at),
        )
        .join(Activity, col(Activity.id) == col(Review.activity_id))
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .order_by(col(Review.decided_at).desc())
    )
    if town:
        statement = statement.where(col(Unit.town) == town)
    if decision:
        statement = statement.where(col(Review.decision) == decision)
    if start:
        statement = statement.where(col(Activity.month) >= start)
    if end:
        statement = statement.where(col(Activity.month) <= end)
    frame = pd.DataFrame.from_records(fetch_tuples(session, statement), columns=FEEDBACK_COLUMNS[:10])
    ids = [int(i) for i in frame["activity_id"]]
    photos = photo_counts(session, ids)
    replies = last_replies(session, ids)
    frame["photos"] = [photos.get(i, 0) for i in ids]
    frame["answered"] = [
        i in replies and replies[i] > as_utc(decided) for i, decided in zip(ids, frame["decided_at"], strict=True)
    ]
    return frame


def last_replies(session: Session, activity_ids: list[int]) -> dict[int, datetime]:
    """Activity id -> the moment of the township's latest answer, for those answered."""
    found: dict[int, datetime] = {}
    for chunk in chunks(activity_ids):
        rows = fetch_tuples(
            session,
            select(Feedback.activity_id, func.max(Feedback.at))
            .where(col(Feedback.activity_id).in_(chunk), col(Feedback.kind) == "reply")
            .group_by(col(Feedback.activity_id)),
        )
        found.update((int(a), as_utc(at)) for a, at in rows if at is not None)
    return found
