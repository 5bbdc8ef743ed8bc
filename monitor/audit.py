"""The audit trail: every write stored as an event. Events are only ever added, never edited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
from sqlmodel import Session, col, select

from monitor.models import AuditEvent

ACTION_LABELS = {
    "import": "导入活动台账",
    "import_refused": "导入被拒",
    "roster_import": "导入单位名册",
    "rollback": "撤销导入",
    "unit_change": "修改单位",
    "quota_change": "修改月度任务",
    "interview": "登记约谈",
    "lock": "锁定月份",
    "unlock": "解锁月份",
    "user_add": "新增用户",
    "user_disable": "停用用户",
    "user_enable": "启用用户",
    "user_passwd": "修改密码",
    "login_failed": "登录失败",
    "login": "登录",
    "restore": "恢复备份",
    "demo": "载入示例数据",
}


def _json(value: object) -> str:
    if value is None or value == "":
        return ""
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    before: object = None,
    after: object = None,
    detail: str = "",
) -> None:
    """Add an event to the caller's transaction; it is stored with the change it describes."""
    session.add(
        AuditEvent(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            target=target,
            before=_json(before),
            after=_json(after),
            detail=detail,
        )
    )


def events(
    *, session: Session, since: datetime | None = None, town_actors: set[str] | None = None, limit: int = 5000
) -> pd.DataFrame:
    statement = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if since is not None:
        statement = statement.where(col(AuditEvent.at) >= since)
    rows = [e.model_dump() for e in session.exec(statement).all()]
    frame = pd.DataFrame(rows, columns=["id", "at", "actor", "action", "target", "before", "after", "detail"])
    if town_actors is not None:
        frame = frame[frame["actor"].isin(town_actors)]
    return frame
