"""Activity rows -> accepted rows and Issues; every row checked, every problem collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import pandas as pd

from monitor.core.issues import Code, Issue, issue
from monitor.core.normalize import map_unique, map_unique_text, title_key
from monitor.files.layout_header import Column
from monitor.files.loose import cut_texts, read_counts
from monitor.files.readers import Table
from monitor.ingest.row_check import RowCheck
from monitor.ingest.sheet_context import (
    SheetContext,
    TypedDates,
    bad_date_issue,
    completed_year_warnings,
    read_dates,
    row_sheets,
    sheet_contexts,
)
from monitor.ingest.unit_checks import check_active, check_units
from monitor.roster.unit_index import UnitIndex

__all__ = ["ACTIVITY_COLUMNS", "UNIT_ANCHORS", "UNIT_KEYS", "Checked", "UnitIndex", "check_activities"]

CATEGORIES = ("理论宣讲", "志愿服务", "移风易俗", "文体活动", "科普宣传", "法治宣传", "卫生健康", "其他")
COUNT_KEYS = ("participants", "volunteers", "photos")

# The header vocabulary: the template's header, the English alias, then the words offices use.
# A header is looked up without spaces, line breaks or a trailing colon; the first field that
# claims a column keeps it.
ACTIVITY_COLUMNS = [
    Column("code", "单位编码", ("code", "编码", "站点编码", "单位代码")),
    Column(
        "town",
        "所属乡镇",
        (
            "town",
            "乡镇",
            "乡镇（街道）",
            "乡镇(街道)",
            "所属乡镇（街道）",
            "街道",
            "镇",
            "乡镇名称",
            "所属街道",
            "乡镇街道",
        ),
    ),
    Column(
        "name",
        "单位名称",
        (
            "unit",
            "name",
            "单位",
            "站点",
            "站点名称",
            "村（社区）",
            "村(社区)",
            "村（社区）名称",
            "村社区",
            "村名",
            "村",
            "社区",
            "实践站",
            "实践站名称",
            "所（站）",
            "所(站)",
            "所站名称",
            "所属村（社区）",
            "村（社区）名",
            "站所名称",
            "实践站（所）名称",
            "实践所（站）名称",
            "单位（站点）名称",
            "填报单位",
            "活动单位",
            "开展单位",
        ),
    ),
    Column(
        "date",
        "活动日期",
        (
            "date",
            "活动时间",
            "时间",
            "日期",
            "开展时间",
            "开展日期",
            "活动开展时间",
            "活动开展日期",
            "举办时间",
            "举办日期",
            "活动举办时间",
            "活动举办日期",
            "活动日期及时间",
        ),
        required=True,
    ),
    Column(
        "title",
        "活动名称",
        (
            "title",
            "活动主题",
            "主题",
            "活动内容",
            "活动名称及内容",
            "活动项目",
            "名称",
            "内容",
            "活动标题",
            "活动名称（主题）",
        ),
        required=True,
    ),
    Column("category", "活动类型", ("category", "活动形式", "形式", "类别", "活动类别", "类型")),
    Column(
        "participants",
        "参与人数",
        (
            "participants",
            "参加人数",
            "参与人次",
            "参加人次",
            "人数",
            "参与人数（人）",
            "群众",
            "参与群众",
            "受众人数",
            "参与群众人数",
            "参加群众人数",
            "服务人数",
            "受益人数",
        ),
    ),
    Column("volunteers", "志愿者人数", ("volunteers", "志愿者", "志愿者人次", "参与志愿者")),
    Column("location", "活动地点", ("location", "地点", "开展地点", "活动场所", "场所")),
    Column(
        "photos",
        "图片数",
        ("photos", "图片", "照片", "照片数", "图片数量", "照片张数", "活动照片数", "照片数量", "图片张数", "活动照片"),
    ),
    Column("notes", "备注", ("notes", "说明")),
]
UNIT_ANCHORS = ("date", "title")  # a table of activities names at least one of these
UNIT_KEYS = ("code", "name")
MAX_COUNT = 100_000  # more people than this at one village activity is a typing mistake
TEXT_LIMITS = {"title": 200, "category": 20, "location": 200, "notes": 2000}
TOO_LONG_HINTS = {
    "title": "：活动名称请写简短的名称，较长的说明请写在“活动内容”或“备注”列。",
}


@dataclass
class Checked:
    rows: pd.DataFrame
    errors: list[Issue]
    warnings: list[Issue]
    rejected: pd.Index
    contexts: list[SheetContext] = field(default_factory=list)
    as_typed: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, column, text, read as)


def check_activities(
    table: Table,
    index: UnitIndex,
    *,
    today: date,
    earliest: date,
    locked_months: set[str],
    allowed_town: str | None = None,
    town: str | None = None,
    file_name: str = "",
    town_source: str = "上传时选择",
) -> Checked:
    """Validate every row; return the accepted rows (with unit_id, date, month, counts).

    town: the township a reviewer picked at upload; without it a township named in a sheet's
    title, its name or the file's name settles a bare unit name found in several townships, and
    a year written there completes dates written without one (6月11日).
    """
    frame = table.frame
    contexts = sheet_contexts(table, index, file_name=file_name, town=town, town_source=town_source)
    check = RowCheck(
        table=table,
        contexts=contexts,
        sheets=row_sheets(table, contexts),
        warnings=[issue(Code.SKIPPED_ROW, row, None, reason=reason) for row, reason in table.skipped],
        bad=pd.Series(False, index=frame.index),
    )
    unit_ids = check_units(check, index, allowed_town)
    dated = _check_dates(check, today=today, earliest=earliest)
    known = unit_ids.notna() & dated.has_date & ~dated.future
    check_active(check, index, unit_ids, dates=dated.dates, months=dated.months, known=known)
    if locked_months:
        _check_locked(check, dated, locked_months)
    _check_titles(check)
    # the optional texts refuse nothing either: kept up to their limit, the whole text as written
    texts = _optional_texts(check)
    # counts: optional, never a reason to refuse an activity; read as a person would, the text kept
    counts = _counts(check)
    _warn_categories(check)
    accepted = _accepted(check, unit_ids, dated, {**texts, **counts})
    bad = check.bad
    check.errors.sort(key=lambda i: i.row or 0)
    return Checked(
        rows=accepted,
        errors=check.errors,
        warnings=check.warnings,
        rejected=frame.index[bad],
        contexts=contexts,
        as_typed=[(row, column, text, read) for row, column, text, read in check.loose.as_typed if not bad[row]],
    )


class _Dated(NamedTuple):
    """The rows' dates as checked, and their months."""

    dates: pd.Series  # a date, or None where none was read or it was refused as too early
    months: pd.Series  # "2025-03", or ""
    has_date: pd.Series
    future: pd.Series


def _check_dates(check: RowCheck, *, today: date, earliest: date) -> _Dated:
    """The rows' dates (monitor.ingest.sheet_context.read_dates); a missing, unreadable, too early or
    future date refuses its row."""
    frame, column = check.frame, check.head["date"]
    typed = read_dates(frame, column, check.contexts, check.sheets.number, check.loose)
    check.report(frame["date"] == "", lambda row, cells: issue(Code.MISSING_VALUE, row, column))
    check.warnings.extend(typed.warnings)
    # one warning a sheet: the year was not written on the rows
    check.warnings.extend(completed_year_warnings(check.table, check.contexts, typed.completed, column))
    check.report(
        (frame["date"] != "") & typed.dates.isna(),
        lambda row, cells: bad_date_issue(typed, row, cells["date"], today=today, column=column),
    )
    dates = _refuse_early(check, typed, earliest)
    has_date = dates.notna()
    future = has_date & (dates.where(has_date, today) > today)
    check.report(
        future, lambda row, cells: issue(Code.FUTURE_DATE, row, column, str(dates[row]), today=today.isoformat())
    )
    months = pd.Series(
        map_unique(dates, lambda d: d.strftime("%Y-%m") if isinstance(d, date) else ""), index=frame.index
    )
    return _Dated(dates=dates, months=months, has_date=has_date, future=future)


def _refuse_early(check: RowCheck, typed: TypedDates, earliest: date) -> pd.Series:
    """The dates with those before `earliest` refused (their rows too) and taken out."""
    frame, dates = check.frame, typed.dates
    early = dates.notna() & (dates.where(dates.notna(), earliest) < earliest)
    if not early.any():
        return dates
    check.bad |= early
    check.errors.extend(
        Issue(
            code=Code.BAD_DATE.value,
            row=int(row),
            column=check.head["date"],
            value=frame.at[row, "date"],
            message=f"活动日期“{frame.at[row, 'date']}”早于 {earliest.isoformat()}，请核对年份。",
        )
        for row in frame.index[early]
    )
    return dates.where(~early, None)


def _check_locked(check: RowCheck, dated: _Dated, locked_months: set[str]) -> None:
    """A row dated in a locked month is refused."""
    locked = dated.months.isin(locked_months) & dated.has_date
    check.report(
        locked,
        lambda row, cells: issue(
            Code.LOCKED_MONTH, row, check.head["date"], str(dated.dates[row]), month=dated.months[row]
        ),
    )


def _check_titles(check: RowCheck) -> None:
    """A title is required, and bounded: a description pasted into its cell is not stored as a name."""
    frame, head = check.frame, check.head
    check.report(frame["title"] == "", lambda row, cells: issue(Code.MISSING_VALUE, row, head["title"]))
    lengths = frame["title"].str.len()
    check.report(
        lengths > TEXT_LIMITS["title"],
        lambda row, cells: issue(
            Code.TOO_LONG,
            row,
            head["title"],
            cells["title"],
            limit=TEXT_LIMITS["title"],
            length=len(cells["title"]),
            hint=TOO_LONG_HINTS["title"],
        ),
    )


def _optional_texts(check: RowCheck) -> dict[str, pd.Series]:
    """The optional texts, each kept up to its limit (refused rows: empty, no word about them)."""
    texts: dict[str, pd.Series] = {}
    for key, limit in TEXT_LIMITS.items():
        if key != "title":
            texts[key], warned = cut_texts(check.frame[key].where(~check.bad, ""), check.head[key], limit, check.loose)
            if warned is not None:
                check.warnings.append(warned)
    return texts


def _counts(check: RowCheck) -> dict[str, pd.Series]:
    """The counts as numbers, None where there is none (refused rows: no word about them)."""
    counts: dict[str, pd.Series] = {}
    for key in COUNT_KEYS:
        counts[key], warned = read_counts(check.frame[key].where(~check.bad, ""), check.head[key], check.loose)
        if warned is not None:
            check.warnings.append(warned)
    return counts


def _warn_categories(check: RowCheck) -> None:
    """A category is kept as given, with a warning once per unknown value."""
    frame = check.frame
    for value in sorted(set(frame["category"].unique()) - set(CATEGORIES) - {""}):
        first = int(frame.index[frame["category"] == value][0])
        check.warnings.append(issue(Code.UNKNOWN_CATEGORY, first, check.head["category"], value))


def _accepted(check: RowCheck, unit_ids: pd.Series, dated: _Dated, read: dict[str, pd.Series]) -> pd.DataFrame:
    """The rows not refused, as stored: the optional texts and counts as `read`, the text as written
    of the rows read loosely."""
    frame = check.frame
    good = ~check.bad
    titles = frame["title"][good]
    accepted = pd.DataFrame(
        {
            "unit_id": unit_ids[good].astype("int64"),
            "date": dated.dates[good],
            "month": dated.months[good],
            "title": titles,
            # Text built from the distinct titles by position: a million Python strings would
            # each be turned into Arrow text again by the frame.
            "title_key": map_unique_text(titles, title_key),
            "category": read["category"][good],
            "participants": read["participants"][good],
            "volunteers": read["volunteers"][good],
            "location": read["location"][good],
            "photos": read["photos"][good],
            "notes": read["notes"][good],
        },
        index=frame.index[good],
    )
    written = check.loose.column(accepted.index)
    if written is not None:
        accepted["as_written"] = written
    return accepted
