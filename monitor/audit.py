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


FIELD_LABELS = {
    "role": "角色",
    "town": "所属乡镇",
    "disabled": "已停用",
    "locked": "已锁定",
    "units": "单位数",
    "activities": "活动条数",
    "rows": "读取行数",
    "imported": "新增",
    "duplicates": "重复",
    "rejected": "有问题",
    "sha256": "文件 SHA-256",
    "status": "状态",
    "created": "新增单位",
    "updated": "更新单位",
    "quota": "月度任务",
    "head": "负责人",
    "phone": "联系电话",
    "active_from": "启用月份",
    "active_to": "停用月份",
    "month": "月份",
    "held_on": "约谈日期",
    "interviewer": "约谈人",
    "deadline": "整改期限",
    "notes": "约谈情况",
    "center": "中心任务",
    "institute": "所任务",
    "station": "站任务",
}
VALUE_LABELS = {"imported": "已导入", "rolled_back": "已撤销"}


def readable(text: str) -> str:
    """A stored before/after document as a reviewer reads it: 键：值；… with Chinese names."""
    if not text:
        return ""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if not isinstance(document, dict):
        return str(document)

    def value(v: object) -> str:
        if v is None:
            return "（空）"
        if isinstance(v, bool):
            return "是" if v else "否"
        return VALUE_LABELS.get(v, v) if isinstance(v, str) else str(v)

    return "；".join(f"{FIELD_LABELS.get(k, k)}：{value(v)}" for k, v in document.items())


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
