"""The audit trail: every write stored as an event. Events are only ever added, never edited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import pandas as pd
from sqlmodel import Session, col, func, select

from monitor.core.labels import BATCH_STATUS
from monitor.core.models import AuditEvent
from monitor.core.permissions import ROLE_LABELS, Actor, require

PAGE_SIZE = 200
EXPORT_LIMIT = 20_000  # events in one Excel download
COLUMNS = ["id", "at", "actor", "action", "target", "before", "after", "detail"]

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
    "logout": "退出登录",
    "session_end": "结束登录会话",
    "restore": "恢复备份",
    "demo": "载入示例数据",
    "photos": "上传活动照片",
    "photo_remove": "删除活动照片",
    "photos_gc": "清理照片文件",
    "review": "活动认定",
    "review_reply": "答复认定意见",
    "unitmonth_repair": "重建单位月度计数",
    "register": "登记活动",
    "register_correct": "更正登记的活动",
    "register_withdraw": "撤回登记的活动",
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
    "decision": "认定结果",
    "reason": "理由",
    "reply": "答复",
    "photos": "照片",
    "photo_id": "照片编号",
    "activity_id": "活动编号",
    "file_name": "文件名",
    "uploaded_by": "上传人",
    "files": "文件数",
    "bytes": "字节数",
    "grace_hours": "保留时限（小时）",
    "differences": "不一致处",
    "deadline_day": "上报截止日",
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
    "unit": "单位",
    "date": "活动日期",
    "title": "活动名称",
    "category": "活动类型",
    "participants": "参与人数",
    "location": "活动地点",
    "remarks": "备注",
    "batch_id": "导入记录",
    "removed": "删除活动",
    "kept": "保留活动",
}


def _value(key: str, v: object) -> str:
    if v is None:
        return "（空）"
    if isinstance(v, bool):
        return "是" if v else "否"
    if not isinstance(v, str):
        return str(v)
    if key == "role":
        return ROLE_LABELS.get(v, v)
    if key == "status":
        return BATCH_STATUS.get(v, v)
    return v


def readable(text: str) -> str:
    """A stored before/after document as a reviewer reads it: 键：值；… with Chinese names and values.

    Roles and statuses read as their Chinese words, booleans as 是/否; an empty text is left out.
    """
    if not text:
        return ""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if not isinstance(document, dict):
        return str(document)
    return "；".join(f"{FIELD_LABELS.get(k, k)}：{_value(k, v)}" for k, v in document.items() if v != "")


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


def day_start(day: date, timezone: tzinfo) -> datetime:
    """Midnight of a calendar day where the district lives (Settings.timezone), as a moment."""
    return datetime.combine(day, time.min, tzinfo=timezone)


@dataclass(frozen=True)
class EventPage:
    """One page of the trail, newest first, and how many events the whole selection holds."""

    frame: pd.DataFrame
    total: int
    offset: int
    limit: int


def events(
    *,
    session: Session,
    actor: Actor,
    timezone: tzinfo,
    since: date | None = None,
    until: date | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> EventPage:
    """Events from the start of `since` to the end of `until` (local calendar days, both included)."""
    require(actor, "audit")
    conditions = []
    if since is not None:
        conditions.append(col(AuditEvent.at) >= day_start(since, timezone))
    if until is not None:
        conditions.append(col(AuditEvent.at) < day_start(until + timedelta(days=1), timezone))
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    statement = (
        select(AuditEvent).where(*conditions).order_by(col(AuditEvent.id).desc()).offset(max(0, offset)).limit(limit)
    )
    rows = [e.model_dump() for e in session.exec(statement).all()]
    return EventPage(frame=pd.DataFrame(rows, columns=COLUMNS), total=total, offset=max(0, offset), limit=limit)
