"""What a sheet's title, its name or the file's name says about its rows (year, month, township), the
sheet each row stands on, and the activity dates completed from them: a date typed without its year
or month, read as a person would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import pandas as pd

from monitor.core.issues import Code, Issue, issue, shorten
from monitor.core.normalize import map_unique, parse_date
from monitor.files.cells import DateRead, read_date
from monitor.files.layout import SheetTable, context_of
from monitor.files.loose import Context, Loose, typed_date
from monitor.files.readers import Table
from monitor.roster.unit_index import UnitIndex


@dataclass(frozen=True)
class SheetContext:
    """What a sheet's title, its name, the file's name or the upload says about its rows."""

    year: int | None
    month: int | None
    town: str | None
    sources: dict[str, str]  # "year" / "town" -> where it was read: 标题, 工作表名, 文件名, 上传时选择


def sheet_contexts(
    table: Table, index: UnitIndex, *, file_name: str, town: str | None, town_source: str = "上传时选择"
) -> list[SheetContext]:
    sheets: list[SheetTable | None] = list(table.reading.sheets) if table.reading else []
    out = []
    for sheet in sheets or [None]:
        places = [
            ("标题", sheet.title if sheet else ""),
            ("工作表名", sheet.name if sheet else ""),
            ("文件名", file_name),
        ]
        year = month = None
        sources: dict[str, str] = {}
        for where, text in places:
            year, month = context_of(text)
            if year:
                sources["year"] = where
                break
        found = town
        if found:
            sources["town"] = town_source
        else:
            for where, text in places:
                found = index.find_town(text)
                if found:
                    sources["town"] = where
                    break
        out.append(SheetContext(year=year, month=month, town=found, sources=sources))
    return out


class RowSheets(NamedTuple):
    """Which sheet each row stands on, and what its sheet gives a row that names no unit or township."""

    number: pd.Series  # the sheet's position among the sheets read, per row
    from_sheet: list[str]  # per sheet: its name when the unit is read from it, else ""
    names: pd.Series  # the unit name per row; the sheet's name where the row has none and the sheet gives one
    hints: pd.Series  # the township the sheet's context names, per row ("" when none)


def row_sheets(table: Table, contexts: list[SheetContext]) -> RowSheets:
    frame = table.frame
    sheet_number = frame["_sheet"] if "_sheet" in frame else pd.Series(0, index=frame.index)
    sheets = table.reading.sheets if table.reading else []
    from_sheet = [s.name if s.unit_from_sheet else "" for s in sheets] or [""]
    names = frame["name"].where(frame["name"] != "", sheet_number.map(dict(enumerate(from_sheet))).fillna(""))
    hints = sheet_number.map({n: c.town or "" for n, c in enumerate(contexts)}).fillna("")
    return RowSheets(number=sheet_number, from_sheet=from_sheet, names=names, hints=hints)


@dataclass
class TypedDates:
    """The rows' dates (None where none was read), and what reading the dates not written plainly found."""

    dates: pd.Series
    no_year: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> (month, day) read without a year
    no_month: set[int] = field(default_factory=set)  # rows with a day alone and nothing to give its month
    completed: dict[int, list[int]] = field(default_factory=dict)  # sheet -> rows whose year came from the context
    warnings: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class _Typed:
    """One row's date as typed, read, and the sheet it stands on."""

    row: int
    text: str
    read: DateRead
    sheet: int
    context: SheetContext


def read_dates(
    frame: pd.DataFrame, column: str, contexts: list[SheetContext], sheet_number: pd.Series, loose: Loose
) -> TypedDates:
    """The rows' dates: as typed (words, a time or a range set aside); without their year or month, from
    the sheet's title, its name or the file's name, else (a day alone) from the activity above them."""
    typed = TypedDates(pd.Series(map_unique(frame["date"], parse_date), index=frame.index, dtype=object))
    undated = (frame["date"] != "") & typed.dates.isna()
    if undated.any():
        reads: dict[str, DateRead | None] = {}
        for row in frame.index[undated]:
            text, number = frame.at[row, "date"], int(sheet_number[row])
            if text not in reads:
                reads[text] = read_date(text)
            read = reads[text]
            if read is None:
                continue
            at = _Typed(row=row, text=text, read=read, sheet=number, context=contexts[number])
            completed = _completed(typed, at, sheet_number)
            if completed is None:
                continue
            found, source = completed
            typed.dates[row] = found
            if source == "context":
                typed.completed.setdefault(number, []).append(row)
            warning = _date_warning(at, found, source, column, loose)
            if warning is not None:
                typed.warnings.append(warning)
    return typed


def _completed(typed: TypedDates, at: _Typed, sheet_number: pd.Series) -> tuple[date, str] | None:
    """The row's date and where its year and month came from; None (the row noted in `typed` when
    its year or month is missing) when there is none."""
    read, context = at.read, at.context
    earlier = None
    if read.month is None or (read.year is None and context.year is None):
        dates = typed.dates
        above = dates[(sheet_number == at.sheet) & (dates.index < at.row) & dates.notna()]
        earlier = above.iloc[-1] if len(above) else None
    year, month, source = typed_date(read, Context(context.year, context.month), earlier)
    if month is None:
        typed.no_month.add(at.row)
        return None
    if year is None:
        typed.no_year[at.row] = (month, read.day)
        return None
    try:
        return date(year, month, read.day), source
    except ValueError:
        return None


def _date_warning(at: _Typed, found: date, source: str, column: str, loose: Loose) -> Issue | None:
    """The warning for a date read from what was typed, if any; a date read with words around it keeps
    its text as written."""
    read, context = at.read, at.context
    note = read.note
    if read.month is None:
        where = context.sources.get("year", "标题") if source == "context" else "上一项活动"
        note = "、".join(n for n in (note, f"只写了日，年月取自{where}") if n)
    elif source == "earlier":
        note = "、".join(n for n in (note, "没有写年份，年份取自上一项活动") if n)
    if note:
        loose.keep(at.row, column, at.text, found.isoformat())
        return issue(Code.DATE_AS_TYPED, at.row, column, at.text, day=found.isoformat(), note=note)
    month = found.month
    reason = ""
    if read.unsure:
        reason = f"可能是 {month}月{read.day}日，也可能是 {month}月{read.day * 10}日（数字单元格会省去末尾的 0）"
    elif context.month is not None and context.month != month:
        reason = f"不在{context.sources.get('year', '标题')}所写的 {context.year}年{context.month}月"
    if reason:
        return issue(Code.GUESSED_DATE, at.row, column, at.text, reason=reason, day=found.isoformat())
    return None


def completed_year_warnings(
    table: Table, contexts: list[SheetContext], completed: dict[int, list[int]], column: str
) -> list[Issue]:
    """One warning a sheet whose rows' year was not written on them but taken from its context."""
    warnings = []
    for number, rows in completed.items():
        context = contexts[number]
        sheets_named = table.reading.sheets if table.reading else []
        where = f"工作表“{sheets_named[number].label}”中" if len(sheets_named) > 1 else ""
        warnings.append(
            Issue(
                code=Code.GUESSED_DATE.value,
                row=rows[0],
                column=column,
                value=table.frame.at[rows[0], "date"],
                message=f"{where}{len(rows)} 个活动日期没有写年份，已按{context.sources.get('year', '标题')}中的 "
                f"{context.year} 年补全，请核对。",
            )
        )
    return warnings


def bad_date_issue(typed: TypedDates, row: int, text: str, *, today: date, column: str) -> Issue:
    """The error for a date that could not be read: what is missing from it, when that is known."""
    value = shorten(text)
    example = ""
    if row in typed.no_year:
        month, day = typed.no_year[row]
        example = f"没有年份：请写成 {today.year}-{month:02d}-{day:02d}，或在表格标题、工作表名或文件名中写明年份"
    elif row in typed.no_month:
        example = f"只写了日，没有年月：请写完整日期（如 {today.year}-06-03），或在表格标题中写明年月"
    if example:
        message = f"活动日期“{value}”{example}（如“2026年6月活动台账”）。"
        return Issue(code=Code.BAD_DATE.value, row=row, column=column, value=value, message=message)
    return issue(Code.BAD_DATE, row, column, text)
