"""Activity rows -> accepted rows and Issues; every row checked, every problem collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from monitor.core.issues import Code, Issue, issue, shorten
from monitor.core.normalize import (
    map_unique,
    map_unique_parts,
    map_unique_text,
    parse_date,
    title_key,
    town_key,
)
from monitor.files.cells import DateRead, read_date
from monitor.files.layout import Column, SheetTable, context_of
from monitor.files.loose import Context, Loose, cut_texts, read_counts, typed_date
from monitor.files.readers import Table
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


@dataclass(frozen=True)
class SheetContext:
    """What a sheet's title, its name, the file's name or the upload says about its rows."""

    year: int | None
    month: int | None
    town: str | None
    sources: dict[str, str]  # "year" / "town" -> where it was read: 标题, 工作表名, 文件名, 上传时选择


@dataclass
class Checked:
    rows: pd.DataFrame
    errors: list[Issue]
    warnings: list[Issue]
    rejected: pd.Index
    contexts: list[SheetContext] = field(default_factory=list)
    as_typed: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, column, text, read as)


def _active_text(active_from: str | None, active_to: str | None) -> str:
    # the units frame holds a missing month as NaN, which is truthy
    active_from = active_from if isinstance(active_from, str) else None
    active_to = active_to if isinstance(active_to, str) else None
    if active_from and active_to:
        return f"启用期 {active_from} 至 {active_to}"
    if active_from:
        return f"{active_from} 起启用"
    return f"启用至 {active_to}" if active_to else "全部月份"


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
    head = table.headers
    errors: list[Issue] = []
    warnings: list[Issue] = [issue(Code.SKIPPED_ROW, row, None, reason=reason) for row, reason in table.skipped]
    bad = pd.Series(False, index=frame.index)
    loose = Loose()
    contexts = sheet_contexts(table, index, file_name=file_name, town=town, town_source=town_source)
    sheet_number = frame["_sheet"] if "_sheet" in frame else pd.Series(0, index=frame.index)
    sheets = table.reading.sheets if table.reading else []
    from_sheet = [s.name if s.unit_from_sheet else "" for s in sheets] or [""]
    names = frame["name"].where(frame["name"] != "", sheet_number.map(dict(enumerate(from_sheet))).fillna(""))
    hints = sheet_number.map({n: c.town or "" for n, c in enumerate(contexts)}).fillna("")

    def report(mask: pd.Series, make) -> None:  # type: ignore[no-untyped-def]
        nonlocal bad
        if mask.any():
            bad |= mask
            for row, *values in frame.loc[mask].itertuples():
                errors.append(make(row, dict(zip(frame.columns, values, strict=True))))

    # unit: a code settles it alone; a row without one by its township, name and the sheet's hint
    coded_rows = (frame["code"] != "").to_numpy(dtype=bool)
    named_rows = frame.index[~coded_rows]
    keys = frame["town"][named_rows] + "\x1f" + names[named_rows] + "\x1f" + hints[named_rows]

    def resolve(key: str) -> tuple[int | None, Code | None, str]:
        row_town, name, hint = key.split("\x1f")
        found = index.resolve("", row_town, name, home_town=allowed_town)
        if hint and not row_town and found[1] in (Code.AMBIGUOUS_UNIT, Code.UNKNOWN_UNIT):
            # The township of the title or of the upload settles a name found in several townships.
            settled = index.resolve("", hint, name, home_town=allowed_town)
            if settled[0] is not None or found[1] is Code.UNKNOWN_UNIT:
                return settled  # or the suggestions from the township the file is for
        return found

    by_code, by_code_parts = map_unique_parts(
        frame["code"][coded_rows], lambda code: index.resolve(code, "", "", home_town=allowed_town), 3
    )
    by_name, by_name_parts = map_unique_parts(keys, resolve, 3)
    codes = np.empty(len(frame), dtype="int64")
    codes[coded_rows] = by_code
    codes[~coded_rows] = by_name + len(by_code_parts[0])
    found_ids, found_problems, found_details = (
        np.concatenate([a, b]) for a, b in zip(by_code_parts, by_name_parts, strict=True)
    )
    unit_ids = pd.Series(pd.array(found_ids.tolist(), dtype="Int64").take(codes), index=frame.index)
    problems = pd.Series(found_problems[codes], index=frame.index, dtype=object)
    details = pd.Series(found_details[codes], index=frame.index, dtype=object)

    def unit_issue(row: int, cells: dict[str, str]) -> Issue:
        code = problems[row]
        column = head["code"] if cells["code"] else head["name"]
        value = cells["code"] or names[row]
        if code is Code.MISSING_VALUE:
            return Issue(
                code=Code.MISSING_VALUE.value,
                row=row,
                column=head["name"],
                value="",
                message=f"“{head['name']}”不能为空：如与上一行是同一单位，请把单位名称写在每一行，"
                "或把这几行的单位名称设为合并单元格。",
            )
        if not cells["name"] and not cells["code"] and from_sheet[int(sheet_number[row])]:
            return issue(
                Code.UNKNOWN_UNIT,
                row,
                "工作表名",
                value,
                hint="本表没有单位列，按工作表名识别单位：请把工作表改名为单位名称，或加一列“单位名称”。",
            )
        if code is Code.AMBIGUOUS_UNIT:
            return issue(code, row, column, value, towns=details[row])
        return issue(Code.UNKNOWN_UNIT, row, column, value, hint=details[row])

    report(problems.notna(), unit_issue)

    # A code's township settles the unit; a different 所属乡镇 on the same row is a contradiction.
    coded = (frame["code"] != "") & (frame["town"] != "") & unit_ids.notna()
    if coded.any():
        unit_towns = unit_ids[coded].astype("int64").map(index.units["town"])
        differs = pd.Series(
            [town_key(a) != town_key(b) for a, b in zip(frame.loc[coded, "town"], unit_towns, strict=True)],
            index=unit_towns.index,
            dtype=bool,
        ).reindex(frame.index, fill_value=False)
        report(
            differs & ~bad,
            lambda row, cells: issue(
                Code.TOWN_MISMATCH,
                row,
                head["town"],
                cells["town"],
                unit_code=cells["code"],
                town=index.units.at[int(unit_ids[row]), "town"] or "区级",
            ),
        )

    if allowed_town is not None:
        towns = unit_ids.map(lambda i: index.units.at[int(i), "town"] if pd.notna(i) else allowed_town)
        outside = (towns != allowed_town).astype(bool)
        report(
            outside,
            lambda row, cells: issue(
                Code.FORBIDDEN_UNIT,
                row,
                head["code"] if cells["code"] else head["name"],
                cells["code"] or cells["name"],
                unit=index.label(int(unit_ids[row])),
                town=towns[row] or "区级",
                own=allowed_town,
            ),
        )

    # date: as typed (words, a time or a range set aside); without its year or month, from the sheet's
    # title, its name or the file's name, else (a day alone) from the activity above it
    dates = pd.Series(map_unique(frame["date"], parse_date), index=frame.index, dtype=object)
    report(frame["date"] == "", lambda row, cells: issue(Code.MISSING_VALUE, row, head["date"]))
    undated = (frame["date"] != "") & dates.isna()
    no_year: dict[int, tuple[int, int]] = {}
    no_month: set[int] = set()
    completed: dict[int, list[int]] = {}  # sheet -> rows whose year came from the context
    if undated.any():
        reads: dict[str, DateRead | None] = {}
        for row in frame.index[undated]:
            text, number = frame.at[row, "date"], int(sheet_number[row])
            if text not in reads:
                reads[text] = read_date(text)
            read = reads[text]
            if read is None:
                continue
            context = contexts[number]
            earlier = None
            if read.month is None or (read.year is None and context.year is None):
                above = dates[(sheet_number == number) & (dates.index < row) & dates.notna()]
                earlier = above.iloc[-1] if len(above) else None
            year, month, source = typed_date(read, Context(context.year, context.month), earlier)
            if month is None:
                no_month.add(row)
                continue
            if year is None:
                no_year[row] = (month, read.day)
                continue
            try:
                found = date(year, month, read.day)
            except ValueError:
                continue
            dates[row] = found
            note = read.note
            if source == "context":
                completed.setdefault(number, []).append(row)
            if read.month is None:
                where = context.sources.get("year", "标题") if source == "context" else "上一项活动"
                note = "、".join(n for n in (note, f"只写了日，年月取自{where}") if n)
            elif source == "earlier":
                note = "、".join(n for n in (note, "没有写年份，年份取自上一项活动") if n)
            if note:
                loose.keep(row, head["date"], text, found.isoformat())
                warnings.append(issue(Code.DATE_AS_TYPED, row, head["date"], text, day=found.isoformat(), note=note))
                continue
            reason = ""
            if read.unsure:
                reason = (
                    f"可能是 {month}月{read.day}日，也可能是 {month}月{read.day * 10}日（数字单元格会省去末尾的 0）"
                )
            elif context.month is not None and context.month != month:
                reason = f"不在{context.sources.get('year', '标题')}所写的 {context.year}年{context.month}月"
            if reason:
                warnings.append(issue(Code.GUESSED_DATE, row, head["date"], text, reason=reason, day=found.isoformat()))

    for number, rows in completed.items():  # one warning a sheet: the year was not written on the rows
        context = contexts[number]
        sheets_named = table.reading.sheets if table.reading else []
        where = f"工作表“{sheets_named[number].label}”中" if len(sheets_named) > 1 else ""
        warnings.append(
            Issue(
                code=Code.GUESSED_DATE.value,
                row=rows[0],
                column=head["date"],
                value=frame.at[rows[0], "date"],
                message=f"{where}{len(rows)} 个活动日期没有写年份，已按{context.sources.get('year', '标题')}中的 "
                f"{context.year} 年补全，请核对。",
            )
        )

    def bad_date(row: int, cells: dict[str, str]) -> Issue:
        value = shorten(cells["date"])
        example = ""
        if row in no_year:
            month, day = no_year[row]
            example = f"没有年份：请写成 {today.year}-{month:02d}-{day:02d}，或在表格标题、工作表名或文件名中写明年份"
        elif row in no_month:
            example = f"只写了日，没有年月：请写完整日期（如 {today.year}-06-03），或在表格标题中写明年月"
        if example:
            message = f"活动日期“{value}”{example}（如“2026年6月活动台账”）。"
            return Issue(code=Code.BAD_DATE.value, row=row, column=head["date"], value=value, message=message)
        return issue(Code.BAD_DATE, row, head["date"], cells["date"])

    report((frame["date"] != "") & dates.isna(), bad_date)
    early = dates.notna() & (dates.where(dates.notna(), earliest) < earliest)
    if early.any():
        bad |= early
        errors.extend(
            Issue(
                code=Code.BAD_DATE.value,
                row=int(row),
                column=head["date"],
                value=frame.at[row, "date"],
                message=f"活动日期“{frame.at[row, 'date']}”早于 {earliest.isoformat()}，请核对年份。",
            )
            for row in frame.index[early]
        )
        dates = dates.where(~early, None)
    has_date = dates.notna()
    future = has_date & (dates.where(has_date, today) > today)
    report(
        future, lambda row, cells: issue(Code.FUTURE_DATE, row, head["date"], str(dates[row]), today=today.isoformat())
    )
    months = pd.Series(
        map_unique(dates, lambda d: d.strftime("%Y-%m") if isinstance(d, date) else ""), index=frame.index
    )

    known = unit_ids.notna() & has_date & ~future
    if known.any():
        units = index.units
        # Only the rows of units with an active range are compared: most units have none, and
        # comparing a million month texts costs more than the rest of the check.
        bounds = units[["active_from", "active_to"]].fillna("").astype(object)
        bounds = bounds[(bounds["active_from"] != "") | (bounds["active_to"] != "")]
        # int64 ids: mapping Int64 ids onto an all-empty month column would give Int64, which cannot hold ""
        known_ids = unit_ids[known].astype("int64")
        known_ids = known_ids[known_ids.isin(bounds.index)]
        outside = pd.Series(False, index=frame.index)
        if len(known_ids):
            active_from = known_ids.map(bounds["active_from"])
            active_to = known_ids.map(bounds["active_to"])
            month = months[known_ids.index]
            ranged = ((active_from != "") & (month < active_from)) | ((active_to != "") & (month > active_to))
            outside = ranged.reindex(frame.index, fill_value=False).astype(bool)
        report(
            outside,
            lambda row, cells: issue(
                Code.INACTIVE_UNIT,
                row,
                head["date"],
                str(dates[row]),
                unit=index.label(int(unit_ids[row])),
                month=months[row],
                active=_active_text(
                    units.at[int(unit_ids[row]), "active_from"], units.at[int(unit_ids[row]), "active_to"]
                ),
            ),
        )
    if locked_months:
        locked = months.isin(locked_months) & has_date
        report(
            locked, lambda row, cells: issue(Code.LOCKED_MONTH, row, head["date"], str(dates[row]), month=months[row])
        )

    # title and the other texts: bounded, so that a description pasted into a cell is not stored as a name
    report(frame["title"] == "", lambda row, cells: issue(Code.MISSING_VALUE, row, head["title"]))
    lengths = frame["title"].str.len()
    report(
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
    # the optional texts refuse nothing either: kept up to their limit, the whole text as written
    texts: dict[str, pd.Series] = {}
    for key, limit in TEXT_LIMITS.items():
        if key != "title":
            texts[key], warned = cut_texts(frame[key].where(~bad, ""), head[key], limit, loose)
            if warned is not None:
                warnings.append(warned)

    # counts: optional, never a reason to refuse an activity; read as a person would, the text kept
    counts: dict[str, pd.Series] = {}
    for key in COUNT_KEYS:
        counts[key], warned = read_counts(frame[key].where(~bad, ""), head[key], loose)  # refused rows: no word
        if warned is not None:
            warnings.append(warned)

    # category: kept as given, a warning once per unknown value
    for value in sorted(set(frame["category"].unique()) - set(CATEGORIES) - {""}):
        first = int(frame.index[frame["category"] == value][0])
        warnings.append(issue(Code.UNKNOWN_CATEGORY, first, head["category"], value))

    good = ~bad
    titles = frame["title"][good]
    accepted = pd.DataFrame(
        {
            "unit_id": unit_ids[good].astype("int64"),
            "date": dates[good],
            "month": months[good],
            "title": titles,
            # Text built from the distinct titles by position: a million Python strings would
            # each be turned into Arrow text again by the frame.
            "title_key": map_unique_text(titles, title_key),
            "category": texts["category"][good],
            "participants": counts["participants"][good],
            "volunteers": counts["volunteers"][good],
            "location": texts["location"][good],
            "photos": counts["photos"][good],
            "notes": texts["notes"][good],
        },
        index=frame.index[good],
    )
    written = loose.column(accepted.index)
    if written is not None:
        accepted["as_written"] = written
    errors.sort(key=lambda i: i.row or 0)
    return Checked(
        rows=accepted,
        errors=errors,
        warnings=warnings,
        rejected=frame.index[bad],
        contexts=contexts,
        as_typed=[(row, column, text, read) for row, column, text, read in loose.as_typed if not bad[row]],
    )
