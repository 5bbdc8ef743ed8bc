"""Rolling back an import batch: the activities only it reported removed, the rollback itself recorded.

An activity belongs to every batch that reported it (Activity.batch_id, the batch that stored it
first, and ActivityBatch for the batches that reported it again). Rolling a batch back removes
only the activities no other live batch reported, and hands the others over to such a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.models import ImportBatch
from monitor.core.permissions import Actor, may_touch, require
from monitor.counts import unitmonths
from monitor.store import audit
from monitor.store.db import Busy, begin_write, bump_version, is_busy
from monitor.store.locks import locked_months


def _live_other(activity: str, what: str = "1") -> str:
    """A subquery over the other batches, still imported, that reported `activity` as well."""
    return (
        f"SELECT {what} FROM activitybatch ab JOIN importbatch ib ON ib.id = ab.batch_id "
        f"WHERE ab.activity_id = {activity}.id AND ab.batch_id <> :b AND ib.status = 'imported'"
    )


ACTIVITY_KINDS = ("activities", "register")  # the batches that bring activities: a file, or one registration


class RollbackRefused(Refusal):
    """The batch cannot be rolled back (unknown, already rolled back, or touches a locked month)."""

    code = "refused"


@dataclass(frozen=True)
class Rollback:
    """What rolling a batch back removes (or removed): its activities and what hangs on them."""

    batch_id: int
    removed: int  # activities deleted
    kept: int  # activities this batch reported that another live batch reported too
    photos: int = 0  # photo links removed with the deleted activities (the files stay in the store)
    recognised: int = 0  # 认定 decisions removed with them
    not_recognised: int = 0  # 不予认定 decisions removed with them
    feedback: int = 0  # feedback entries removed with them: the decisions' notes and the townships' replies

    def counts(self) -> dict[str, int]:
        """The counts by name, as the command line and the audit trail give them."""
        return {
            "removed": self.removed,
            "kept": self.kept,
            "photos": self.photos,
            "recognised": self.recognised,
            "not_recognised": self.not_recognised,
            "feedback": self.feedback,
        }


def describe(done: Rollback) -> str:
    """What a rollback removes and keeps, in one sentence for the person confirming or reading it."""
    attached = []
    if done.recognised or done.not_recognised:
        attached.append(
            f"{done.recognised + done.not_recognised} 条认定结果"
            f"（认定 {done.recognised} 条、不予认定 {done.not_recognised} 条）"
        )
    if done.feedback:
        attached.append(f"{done.feedback} 条反馈记录")
    if done.photos:
        attached.append(f"{done.photos} 张照片的关联")
    said = f"删除 {done.removed} 条活动" + ("，连同其 " + "、".join(attached) if attached else "")
    return said + (f"；保留 {done.kept} 条（其他导入也上报了）" if done.kept else "")


def preview_rollback(*, session: Session, actor: Actor, settings: Settings, batch_id: int, today: date) -> Rollback:
    """What rolling the batch back would remove, read without writing or locking anything; refused
    (RollbackRefused) as the rollback itself would be. Reviewers and admins only."""
    require(actor, "rollback")
    return _checked(session, actor=actor, settings=settings, batch_id=batch_id, today=today)[1]


def rollback_batch(*, session: Session, actor: Actor, settings: Settings, batch_id: int, today: date) -> Rollback:
    """Roll one activity import back in one write transaction. Reviewers and admins only."""
    require(actor, "rollback")
    try:
        begin_write(session, busy_seconds=settings.busy_seconds)
        done = remove_batch(session, actor=actor, settings=settings, batch_id=batch_id, today=today)
        batch = session.get(ImportBatch, batch_id)
        assert batch is not None  # checked by remove_batch
        audit.record(
            session,
            actor=actor.name,
            action="rollback",
            target=batch.file_name,
            detail=f"导入记录 #{batch_id}",
            before={"status": "imported", "activities": done.removed + done.kept},
            after={"status": "rolled_back", **done.counts()},
        )
        session.commit()
    except Busy as exc:
        raise RollbackRefused(str(exc)) from exc
    except Exception as exc:
        session.rollback()
        if is_busy(exc):
            raise RollbackRefused("数据库正忙，请稍后重试。") from exc
        raise
    return done


def _checked(
    session: Session, *, actor: Actor, settings: Settings, batch_id: int, today: date, action: str = "rollback"
) -> tuple[ImportBatch, Rollback]:
    """The batch, if it can be rolled back (by an actor whose role allows `action` in its township),
    and what its rollback removes."""
    batch = session.get(ImportBatch, batch_id, populate_existing=True)
    if batch is None or batch.kind not in ACTIVITY_KINDS:
        raise RollbackRefused(f"导入记录 {batch_id} 不存在或不是活动台账导入。")
    if batch.status == "rolled_back":
        raise RollbackRefused(f"导入记录 {batch_id} 已撤销过。")
    if batch.status != "imported":
        raise RollbackRefused(f"导入记录 {batch_id} 未导入任何数据，无需撤销。")
    if batch.town:
        may_touch(actor, action, batch.town)

    params = {"b": batch_id}
    connection = session.connection()
    shared = f"SELECT {{}} FROM activity a WHERE a.batch_id = :b AND {{}} EXISTS ({_live_other('a')})"
    months = {m for (m,) in connection.execute(text(shared.format("DISTINCT month", "NOT")), params)}
    locked = sorted(months & locked_months(session=session, settings=settings, today=today))
    if locked:
        raise RollbackRefused("该批次含已锁定月份（" + "、".join(locked) + "），不能撤销。")
    # The activities that go (no other live batch reported them), and what hangs on them.
    attached = "(SELECT count(*) FROM {} x JOIN gone g ON g.id = x.activity_id{})"
    counts = connection.execute(
        text(
            f"WITH gone AS ({shared.format('a.id', 'NOT')}) SELECT "
            f"({shared.format('count(*)', '')}), (SELECT count(*) FROM gone), "
            + ", ".join(
                (
                    attached.format("photo", ""),
                    attached.format("review", " WHERE x.decision = 'recognised'"),
                    attached.format("review", " WHERE x.decision = 'rejected'"),
                    attached.format("feedback", ""),
                )
            )
        ),
        params,
    ).one()
    kept, removed, photos, recognised, not_recognised, feedback = (int(n) for n in counts)
    return batch, Rollback(
        batch_id=batch_id,
        removed=removed,
        kept=kept,
        photos=photos,
        recognised=recognised,
        not_recognised=not_recognised,
        feedback=feedback,
    )


def remove_batch(
    session: Session, *, actor: Actor, settings: Settings, batch_id: int, today: date, action: str = "rollback"
) -> Rollback:
    """In the caller's write transaction: remove the activities only this batch reported, with their counts,
    photo links, decisions and feedback, and mark the batch rolled back (a rollback record beside it).
    The caller records the audit event; `action`: what the actor's role must allow in the batch's township."""
    batch, done = _checked(session, actor=actor, settings=settings, batch_id=batch_id, today=today, action=action)
    params = {"b": batch_id}
    connection = session.connection()
    # Activities another live batch reported too pass to the earliest such batch.
    connection.execute(
        text(
            f"UPDATE activity SET batch_id = ({_live_other('activity', 'min(ab.batch_id)')}) "
            f"WHERE batch_id = :b AND EXISTS ({_live_other('activity')})"
        ),
        params,
    )
    connection.execute(text("DELETE FROM activitybatch WHERE batch_id = :b"), params)
    connection.execute(
        text(
            "DELETE FROM activitybatch WHERE EXISTS (SELECT 1 FROM activity a "
            "WHERE a.id = activitybatch.activity_id AND a.batch_id = activitybatch.batch_id)"
        )
    )
    # The photos, decisions and feedback of the activities that go, go with them (the photo files
    # stay in the store: another activity may show the same picture).
    unitmonths.take(session, where="a.batch_id = :b", params=params)
    for table in ("photo", "review", "feedback"):
        connection.execute(
            text(f"DELETE FROM {table} WHERE activity_id IN (SELECT id FROM activity WHERE batch_id = :b)"), params
        )
    connection.execute(text("DELETE FROM activity WHERE batch_id = :b"), params)
    when = datetime.now(UTC)
    batch.status = "rolled_back"
    batch.message = f"{when:%Y-%m-%d %H:%M} UTC 由 {actor.name} 撤销，{describe(done)}"
    session.add(batch)
    session.add(
        ImportBatch(
            kind="rollback",
            user=actor.name,
            created_at=when,
            file_name=batch.file_name,
            sha256=batch.sha256,
            town=batch.town,
            status="done",
            imported=-done.removed,
            duplicates=done.kept,
            message=f"撤销{'登记' if batch.kind == 'register' else '导入'}记录 {batch_id}：{describe(done)}",
        )
    )
    bump_version(session)
    return done
