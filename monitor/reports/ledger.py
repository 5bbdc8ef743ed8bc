"""The ledger (台账) of a period as one workbook: summary, unit × month, below quota, interviews, details."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from monitor.core.config import TYPE_LABELS
from monitor.core.export import workbook_bytes
from monitor.core.models import Activity, Unit
from monitor.core.query import Query
from monitor.evidence.photo_links import photo_counts
from monitor.evidence.review import DECISIONS, decisions_of
from monitor.figures import metrics
from monitor.figures.views import STATUS_LABELS

RATE_COLUMNS = ("完成率", "封顶完成率", "达标率", "数值")


def summary_frame(doc: dict[str, object]) -> pd.DataFrame:
    """The report's figures, one per row, as the summary sheet holds them."""
    rows = [
        ("统计期间", f"{doc['start']} 至 {doc['end']}"),
        ("单位数", doc["units"]),
        ("开展活动（场次）", doc["held"]),
        ("不予认定（场次，未计入开展活动）", doc["not_recognised"]),
        ("任务数（场次）", doc["required"]),
        ("完成率", doc["completion_rate"]),
        ("封顶完成率", doc["capped_rate"]),
        ("达标率", doc["compliance_rate"]),
    ]
    by_type = doc["by_type"]
    assert isinstance(by_type, dict)
    for unit_type, part in by_type.items():
        label = TYPE_LABELS[unit_type]
        rows += [
            (f"{label}·单位数", part["units"]),
            (f"{label}·开展活动（场次）", part["held"]),
            (f"{label}·任务数（场次）", part["required"]),
            (f"{label}·完成率", part["completion_rate"]),
        ]
    return pd.DataFrame(rows, columns=["指标", "数值"])


def _with_evidence(session: Session, details: pd.DataFrame) -> pd.DataFrame:
    """The photos stored on each activity and its 认定 (an activity 不予认定 is listed but not held)."""
    ids = [int(i) for i in details["id"]]
    photos = photo_counts(session, ids)
    reviews = decisions_of(session, ids)
    details = details.drop(columns="id")
    details["已上传照片"] = [photos.get(i, 0) for i in ids]
    details["认定情况"] = [DECISIONS[reviews[i][0]] if i in reviews else "未认定" for i in ids]
    details["不予认定理由"] = [reviews[i][1] if i in reviews and reviews[i][0] == "rejected" else "" for i in ids]
    return details


DETAIL_COLUMNS = [
    "id",
    "所属乡镇",
    "单位编码",
    "单位名称",
    "活动日期",
    "活动名称",
    "活动类型",
    "参与人数",
    "志愿者人数",
    "活动地点",
    "图片数",
    "备注",
]


def ledger_xlsx(*, session: Session, query: Query, min_streak: int = 2) -> bytes:
    query = query.allowed("export")
    report = metrics.report(session=session, query=query)
    doc = report.to_json()
    grid = report.grid
    months = query.months
    matrix = _matrix(grid, months)
    below = _below(grid)
    due = metrics.interviews(session=session, query=query, min_streak=min_streak)
    talks = _talks(due)
    details = _with_evidence(session, _details(session, query))
    by_town = pd.DataFrame(doc["by_town"], columns=["town", "held", "required", "completion_rate"]).rename(
        columns={"town": "所属乡镇", "held": "开展活动", "required": "任务数", "completion_rate": "完成率"}
    )
    return workbook_bytes(
        {
            "汇总": summary_frame(doc),
            "乡镇": by_town,
            "单位月度": matrix,
            "未达标": below,
            "约谈": talks,
            "明细": details,
        },
        percent=RATE_COLUMNS,
    )


def _matrix(grid: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """The unit × month sheet: held/required and status in each month's cell, with the period's totals."""
    matrix = grid.assign(
        cell=grid["held"].astype(str) + "/" + grid["quota_month"].astype(str) + " " + grid["status"].map(STATUS_LABELS)
    )
    matrix = matrix.pivot(index=["town", "code", "name", "type"], columns="month", values="cell")[months].reset_index()
    totals = grid.groupby("code").agg(held=("held", "sum"), required=("quota_month", "sum"))
    matrix = matrix.merge(totals, left_on="code", right_index=True)
    matrix["type"] = matrix["type"].map(TYPE_LABELS)
    return matrix.rename(
        columns={
            "town": "所属乡镇",
            "code": "单位编码",
            "name": "单位名称",
            "type": "类型",
            "held": "合计开展",
            "required": "合计任务",
        }
    )


def _below(grid: pd.DataFrame) -> pd.DataFrame:
    """The below-quota sheet: one row per unit-month below its quota, by month, township and code."""
    below = grid[grid["below"]].sort_values(["month", "town", "code"])
    return pd.DataFrame(
        {
            "月份": below["month"],
            "所属乡镇": below["town"],
            "单位编码": below["code"],
            "单位名称": below["name"],
            "类型": below["type"].map(TYPE_LABELS),
            "开展": below["held"],
            "任务": below["quota_month"],
            "负责人": below["head"],
            "联系电话": below["phone"],
        }
    )


def _talks(due: pd.DataFrame) -> pd.DataFrame:
    """The interview sheet: the units due, with their run of months below quota and their head."""
    return pd.DataFrame(
        {
            "所属乡镇": due["town"],
            "单位编码": due["code"],
            "单位名称": due["name"],
            "类型": due["type"].map(TYPE_LABELS),
            "连续未达标月数": due["streak"],
            "未达标月份": due["months_missed"].map("、".join),
            "负责人": due["head"],
            "联系电话": due["phone"],
        }
    )


def _details(session: Session, query: Query) -> pd.DataFrame:
    """Every activity of the period within the filters, by township, code and date (with its id)."""
    statement = (
        core_select(
            *[
                col(c)
                for c in (
                    Activity.id,
                    Unit.town,
                    Unit.code,
                    Unit.name,
                    Activity.date,
                    Activity.title,
                    Activity.category,
                    Activity.participants,
                    Activity.volunteers,
                    Activity.location,
                    Activity.photos,
                    Activity.notes,
                )
            ]
        )
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .where(col(Activity.month) >= query.start, col(Activity.month) <= query.end)
        .order_by(col(Unit.town), col(Unit.code), col(Activity.date))
    )
    if query.town:
        statement = statement.where(col(Unit.town) == query.town)
    if query.unit_type:
        statement = statement.where(col(Unit.type) == query.unit_type)
    return pd.DataFrame(
        [tuple(r) for r in session.connection().execute(statement).fetchall()],
        columns=DETAIL_COLUMNS,
    )
