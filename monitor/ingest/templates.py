"""Blank files for town staff: the activity log and the roster, as xlsx and csv."""

from __future__ import annotations

import pandas as pd

from monitor.core.export import workbook_bytes
from monitor.ingest.roster_file import ROSTER_COLUMNS
from monitor.ingest.validate import ACTIVITY_COLUMNS, CATEGORIES

ACTIVITY_EXAMPLE = [
    "NJK-YCT",
    "泥江口镇",
    "油草塘村",
    "2025-03-05",
    "3月移风易俗·婚事新办倡议",
    "移风易俗",
    "45",
    "6",
    "油草塘村党群服务中心",
    "5",
    "",
]
GUIDE = [
    ("单位编码 / 单位名称", "至少填一项；名称可写“油草塘村”或“油草塘村新时代文明实践站”；重名时请填所属乡镇或编码。"),
    ("活动日期", "如 2025-03-05、2025/3/5、2025年3月5日；不能晚于今天。"),
    ("活动名称", "必填；同一单位同一天同名的活动只记一次。"),
    ("活动类型", "、".join(CATEGORIES)),
    ("参与人数 / 志愿者人数 / 图片数", "不小于 0 的整数，可不填。"),
    ("一行一场", "每场活动占一行；重复上传同一文件不会重复计数。"),
]


def activity_template_xlsx(units: pd.DataFrame | None = None) -> bytes:
    header = pd.DataFrame(columns=[c.header for c in ACTIVITY_COLUMNS])
    sheets = {
        "活动台账": header,
        "填写示例": pd.DataFrame([ACTIVITY_EXAMPLE], columns=header.columns),
        "填写说明": pd.DataFrame(GUIDE, columns=["项目", "说明"]),
    }
    if units is not None and not units.empty:
        sheets["单位名单"] = units[["code", "town", "name"]].rename(
            columns={"code": "单位编码", "town": "所属乡镇", "name": "单位名称"}
        )
    return workbook_bytes(sheets)


def activity_template_csv() -> bytes:
    return (",".join(c.header for c in ACTIVITY_COLUMNS) + "\r\n").encode("utf-8-sig")


def roster_template_xlsx() -> bytes:
    return workbook_bytes({"单位名册": pd.DataFrame(columns=[c.header for c in ROSTER_COLUMNS])})


def roster_template_csv() -> bytes:
    return (",".join(c.header for c in ROSTER_COLUMNS) + "\r\n").encode("utf-8-sig")
