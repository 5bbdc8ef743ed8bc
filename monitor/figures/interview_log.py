"""Interviews (约谈): the due list with each unit's status, and recording one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from sqlmodel import Session, select

from monitor.core import calendar
from monitor.core.errors import Refusal
from monitor.core.models import Interview, Unit
from monitor.core.permissions import Actor, may_touch, require
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.store import audit
from monitor.store.db import bump_version


class InterviewError(Refusal, ValueError):
    """An interview record that cannot be stored as given."""

    code = "refused"


@dataclass(frozen=True)
class InterviewInput:
    code: str
    month: str
    held_on: date
    interviewer: str
    notes: str = ""
    deadline: date | None = None


def due_with_status(*, session: Session, query: Query, min_streak: int = 2) -> pd.DataFrame:
    """Units due at the query's month, with the interview recorded for this run of missed months, if any."""
    due = metrics.interviews(session=session, query=query, min_streak=min_streak)
    talks = session.exec(select(Interview).where(Interview.month == query.month)).all()
    latest: dict[int, Interview] = {}
    for talk in sorted(talks, key=lambda t: (t.held_on, t.id or 0)):
        latest[talk.unit_id] = talk
    due["status"] = pd.Series(
        [f"已约谈（{latest[i].held_on}，{latest[i].interviewer}）" if i in latest else "未约谈" for i in due["id"]],
        index=due.index,
        dtype="str",
    )
    due["interviewed"] = due["id"].isin(list(latest)).astype(bool)
    due["deadline"] = [latest[i].deadline if i in latest else None for i in due["id"]]
    due["interview_notes"] = [latest[i].notes if i in latest else "" for i in due["id"]]
    return due


def record_interview(*, session: Session, actor: Actor, entry: InterviewInput) -> Interview:
    """Store an interview held with a unit's head about the run of months ending at entry.month."""
    require(actor, "interview")
    user = actor.name
    unit = session.exec(select(Unit).where(Unit.code == entry.code)).first()
    if unit is None or unit.id is None:
        raise InterviewError(f"单位编码“{entry.code}”不存在。")
    may_touch(actor, "interview", unit.town)
    if not entry.interviewer.strip():
        raise InterviewError("请填写约谈人。")
    if len(entry.interviewer.strip()) > 100:
        raise InterviewError("约谈人不能超过 100 个字。")
    if entry.deadline is not None and entry.deadline < entry.held_on:
        raise InterviewError("整改期限不能早于约谈日期。")
    talk = Interview(
        unit_id=unit.id,
        month=calendar.parse_month_arg(entry.month),
        held_on=entry.held_on,
        interviewer=entry.interviewer.strip(),
        notes=entry.notes.strip(),
        deadline=entry.deadline,
        recorded_by=user,
        recorded_at=datetime.now(UTC),
    )
    session.add(talk)
    audit.record(
        session,
        actor=user,
        action="interview",
        target=f"{unit.code} {unit.name}",
        after={
            "month": talk.month,
            "held_on": talk.held_on,
            "interviewer": talk.interviewer,
            "deadline": talk.deadline,
            "notes": talk.notes,
        },
    )
    bump_version(session)
    session.commit()
    session.refresh(talk)
    return talk
