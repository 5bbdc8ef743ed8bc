"""Validation findings: stable codes, the row as Excel shows it, Chinese messages from the catalogue
(monitor.core.errors)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import pandas as pd

from monitor.core.errors import CATALOGUE


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
    message = CATALOGUE[code.value].message(value=value, column=column, **fields)
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
