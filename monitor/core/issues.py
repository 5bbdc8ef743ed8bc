"""Validation findings: stable codes, the row as Excel shows it, Chinese messages from one table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import pandas as pd


class Code(StrEnum):
    UNKNOWN_UNIT = "unknown_unit"
    AMBIGUOUS_UNIT = "ambiguous_unit"
    BAD_DATE = "bad_date"
    FUTURE_DATE = "future_date"
    INACTIVE_UNIT = "inactive_unit"
    MISSING_VALUE = "missing_value"
    BAD_NUMBER = "bad_number"
    LOCKED_MONTH = "locked_month"
    BAD_TYPE = "bad_type"
    BAD_MONTH = "bad_month"
    DUPLICATE_CODE = "duplicate_code"
    FORBIDDEN_UNIT = "forbidden_unit"
    TOWN_MISMATCH = "town_mismatch"
    TOO_LONG = "too_long"
    # warnings
    SKIPPED_ROW = "skipped_row"
    GUESSED_DATE = "guessed_date"
    UNKNOWN_CATEGORY = "unknown_category"
    LOOSE_NUMBER = "loose_number"  # an optional count read from words, or left empty: the row is kept
    DATE_AS_TYPED = "date_as_typed"  # a date read with words, a time or a range set aside
    CUT_TEXT = "cut_text"  # an optional text over its limit, kept cut: the row is kept


MESSAGES: dict[Code, str] = {
    Code.UNKNOWN_UNIT: "找不到单位“{value}”。{hint}",
    Code.AMBIGUOUS_UNIT: "单位名称“{value}”在多个乡镇都有（{towns}），请填写所属乡镇或单位编码，"
    "或在表格标题中写明乡镇（审核人员代为上传时也可选择乡镇）。",
    Code.BAD_DATE: "活动日期“{value}”无法识别，请写成 2025-03-05 这样的日期。",
    Code.FUTURE_DATE: "活动日期 {value} 晚于今天（{today}），尚未开展的活动不能上报。",
    Code.INACTIVE_UNIT: "{unit}在 {month} 不在启用期内（{active}），该月活动不计入。",
    Code.MISSING_VALUE: "“{column}”不能为空。",
    Code.BAD_NUMBER: "“{column}”应为 0 到 100000 之间的整数，现为“{value}”。",
    Code.LOCKED_MONTH: "{month} 已由审核人员锁定，不能再上报该月活动；如需更正请联系区委宣传部。",
    Code.BAD_TYPE: "单位类型“{value}”无法识别，应为 中心、所 或 站。",
    Code.BAD_MONTH: "“{column}”应为年月，如 2025-03，现为“{value}”。",
    Code.DUPLICATE_CODE: "单位编码“{value}”在本文件中重复出现（第 {first} 行已有），本行未导入。",
    Code.FORBIDDEN_UNIT: "{unit}属于{town}，您只能上报本乡镇（{own}）的所、站。",
    Code.SKIPPED_ROW: "{reason}。",
    Code.GUESSED_DATE: "活动日期“{value}”{reason}，已按 {day} 记入，请核对。",
    Code.TOWN_MISMATCH: "单位编码 {unit_code} 属于{town}，与本行所属乡镇“{value}”不符：请核对单位编码或所属乡镇。",
    Code.TOO_LONG: "“{column}”超过 {limit} 字（现为 {length} 字）{hint}",
    Code.UNKNOWN_CATEGORY: "活动类型“{value}”不在标准分类中，已按原样保存。",
    Code.LOOSE_NUMBER: "“{column}”有 {count} 处不是整数，已按文字读取：{examples}；读不出数字的留空，"
    "原文随活动保存，这些活动照常导入。",
    Code.CUT_TEXT: "“{column}”有 {count} 处超过 {limit} 字，已保存前 {limit} 字，原文随活动保存，这些活动照常导入。",
    Code.DATE_AS_TYPED: "活动日期“{value}”已按 {day} 记入（{note}），原文随活动保存，请核对。",
}


@dataclass(frozen=True)
class Issue:
    code: str
    row: int | None
    column: str | None
    value: str
    message: str
    sheet: str = ""  # the sheet of a workbook the row is on; "" for a CSV

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "value": self.value,
        }
        if self.sheet:
            doc["sheet"] = self.sheet
        return doc


VALUE_CHARS = 50


def shorten(value: str, limit: int = VALUE_CHARS) -> str:
    """A cell's text as a message quotes it: at most `limit` characters, then "…"."""
    return value if len(value) <= limit else value[:limit] + "…"


def issue(code: Code, row: int | None, column: str | None, value: str = "", **fields: object) -> Issue:
    value = shorten(value)
    message = MESSAGES[code].format(value=value, column=column, **fields)
    return Issue(code=code.value, row=row, column=column, value=value, message=message)


ISSUE_HEADINGS = {
    "sheet": "工作表",
    "row": "行号",
    "column": "列",
    "value": "内容",
    "code": "问题代码",
    "message": "问题说明",
}


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """The validation report as a page shows it and exports it."""
    columns = ["row", "column", "value", "code", "message"]
    if any(i.sheet for i in issues):
        columns = ["sheet", *columns]
    return pd.DataFrame([asdict(i) for i in issues], columns=["code", "row", "column", "value", "message", "sheet"])[
        columns
    ]


def issues_table(issues: list[Issue]) -> pd.DataFrame:
    """The validation report under the headings a clerk reads on screen."""
    return issues_frame(issues).rename(columns=ISSUE_HEADINGS)
