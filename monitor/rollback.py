"""Rolling back an import batch: its activities removed, the rollback itself recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from monitor import audit
from monitor.auth import Actor, require
from monitor.config import Settings
from monitor.db import bump_version
from monitor.locks import locked_months
from monitor.models import Activity, ImportBatch


class RollbackRefused(Exception):
    """The batch cannot be rolled back (unknown, already rolled back, or touches a locked month)."""


def rollback_batch(
    *,
    session: Session,
    batch_id: int,
    user: str = "",
    actor: Actor | None = None,
    settings: Settings | None = None,
    today: date | None = None,
) -> int:
    """Remove the activities a batch stored; returns how many. One transaction. Reviewers and admins only."""
    if actor is not None:
        require(actor, "rollback")
        user = actor.name
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.kind != "activities":
        raise RollbackRefused(f"导入记录 {batch_id} 不存在或不是活动台账导入。")
    if batch.status == "rolled_back":
        raise RollbackRefused(f"导入记录 {batch_id} 已撤销过。")
    months = set(session.exec(select(Activity.month).where(Activity.batch_id == batch_id).distinct()).all())
    locked = sorted(months & locked_months(session=session, settings=settings, today=today))
    if locked:
        raise RollbackRefused("该批次含已锁定月份（" + "、".join(locked) + "），不能撤销。")
    count = session.exec(select(func.count()).select_from(Activity).where(Activity.batch_id == batch_id)).one()
    session.exec(delete(Activity).where(col(Activity.batch_id) == batch_id))  # type: ignore[call-overload]
    batch.status = "rolled_back"
    batch.message = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC 由 {user or '未署名'} 撤销，删除 {count} 条活动"
    session.add(batch)
    session.add(
        ImportBatch(
            kind="rollback",
            user=user,
            created_at=datetime.now(UTC),
            file_name=batch.file_name,
            sha256=batch.sha256,
            status="done",
            imported=-int(count),
            message=f"撤销导入记录 {batch_id}",
        )
    )
    audit.record(
        session,
        actor=user,
        action="rollback",
        target=batch.file_name,
        detail=f"导入记录 #{batch_id}",
        before={"status": "imported", "activities": int(count)},
        after={"status": "rolled_back"},
    )
    bump_version(session)
    session.commit()
    return int(count)
