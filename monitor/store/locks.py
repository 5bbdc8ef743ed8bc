"""Month locking: a reviewed month takes no more rows and no rollback touching it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlmodel import Session, select

from monitor.core.calendar import deadline_of, last_finished_month, month_range, parse_month_arg, shift_month
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.models import MonthLock
from monitor.core.permissions import Actor, require
from monitor.store import audit
from monitor.store.db import bump_version


class LockError(Refusal, ValueError):
    """A lock or unlock that cannot be done as asked."""

    code = "refused"


def lock_month(*, session: Session, month: str, actor: Actor) -> None:
    require(actor, "lock")
    month = parse_month_arg(month)
    if session.get(MonthLock, month) is not None:
        raise LockError(f"{month} 已经锁定。")
    session.add(MonthLock(month=month, locked_by=actor.name, locked_at=datetime.now(UTC)))
    audit.record(
        session, actor=actor.name, action="lock", target=month, before={"locked": False}, after={"locked": True}
    )
    bump_version(session)
    session.commit()


def unlock_month(*, session: Session, month: str, actor: Actor) -> None:
    require(actor, "lock")
    month = parse_month_arg(month)
    row = session.get(MonthLock, month)
    if row is None:
        raise LockError(f"{month} 没有锁定。")
    session.delete(row)
    audit.record(
        session, actor=actor.name, action="unlock", target=month, before={"locked": True}, after={"locked": False}
    )
    bump_version(session)
    session.commit()


def locked_months(*, session: Session, settings: Settings | None = None, today: date | None = None) -> set[str]:
    """Months locked by a reviewer, plus, when auto-locking is on, months N days past their deadline."""
    months = set(session.exec(select(MonthLock.month)).all())
    if settings is not None and settings.autolock_days and today is not None:
        last = last_finished_month(today)
        for month in month_range(shift_month(last, -36), last):
            if deadline_of(month, settings).date() + timedelta(days=settings.autolock_days) < today:
                months.add(month)
    return months


def locks_frame(*, session: Session, actor: Actor) -> pd.DataFrame:
    """The months locked, by whom and when."""
    require(actor, "view")
    rows = [lock.model_dump() for lock in session.exec(select(MonthLock).order_by(MonthLock.month)).all()]
    return pd.DataFrame(rows, columns=["month", "locked_by", "locked_at"])
