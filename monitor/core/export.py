"""Excel downloads: every table the app hands out goes through here, escaped against formulas."""

from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PERCENT_FORMAT = "0.00%"


def safe_text(value: str) -> str:
    """A text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if hasattr(value, "item") and not isinstance(value, str | date):
        return value.item()  # numpy scalars
    return value


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def workbook_bytes(sheets: dict[str, pd.DataFrame], *, percent: tuple[str, ...] = ()) -> bytes:
    """Several tables as one xlsx: bold frozen header, widths that fit, landscape print.

    Text is always written as text (never as a formula) and, where it starts like a formula,
    with a leading apostrophe, so a title such as "=1+1" cannot run when the file is opened.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    header = book.add_format(
        {"bold": True, "bg_color": "#F2DCDB", "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
    )
    formats = {
        "percent": book.add_format({"num_format": PERCENT_FORMAT}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
    }
    for title, frame in sheets.items():
        sheet = book.add_worksheet(title[:31])
        columns = [str(c) for c in frame.columns]
        for j, name in enumerate(columns):
            sheet.write_string(0, j, safe_text(name), header)
        for i, record in enumerate(frame.itertuples(index=False, name=None), start=1):
            for j, raw in enumerate(record):
                value = _plain(raw)
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(i, j, safe_text(value))
                elif isinstance(value, bool):
                    sheet.write_boolean(i, j, value)
                elif isinstance(value, int | float):
                    if columns[j] in percent and isinstance(value, float):
                        sheet.write_number(i, j, value, formats["percent"])
                    else:
                        sheet.write_number(i, j, value)
                elif isinstance(value, datetime):
                    sheet.write_datetime(i, j, value, formats["datetime"])
                elif isinstance(value, date):
                    sheet.write_datetime(i, j, datetime.combine(value, datetime.min.time()), formats["date"])
                else:
                    sheet.write_string(i, j, safe_text(str(value)))
        for j, name in enumerate(columns):
            sample = [name, *frame.iloc[:200, j].tolist()]
            sheet.set_column(j, j, min(60, max(8, max(_width(_plain(v)) for v in sample) + 2)))
        sheet.freeze_panes(1, 0)
        if columns:
            sheet.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
        sheet.repeat_rows(0)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
    book.close()
    return buffer.getvalue()


def frame_xlsx(frame: pd.DataFrame, sheet: str = "Sheet1", *, percent: tuple[str, ...] = ()) -> bytes:
    return workbook_bytes({sheet: frame}, percent=percent)
