"""Reading one sheet the way a person would: where the table starts (its header is found by
monitor.files.layout_header), merged cells filled down, rows that are not activities set aside
with a reason, and the year, month and township written above the table.

Everything decided here is recorded (SheetTable), so the preview can say how the file was read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from monitor.core.normalize import clean, map_unique, map_unique_text, parse_date
from monitor.files.bounded import column_name
from monitor.files.layout_header import (
    HEADER_SCAN_ROWS,
    NUMBER_WORDS,
    Column,
    find_header,
    header_token,
    is_form_system,
    look_up,
    vocabulary,
)
from monitor.files.layout_rows import FILTERED, HIDDEN, row_content, set_aside

TOTAL_WORDS = ("合计", "总计", "小计", "共计")
SIGN_OFF_WORDS = ("填报人", "填表人", "审核人", "制表人", "统计人", "填报日期", "填表日期", "负责人签字", "单位盖章")
# Sheets that explain or sum up the table, or show an example of it: never activities.
SKIPPED_SHEET_WORDS = ("说明", "示例", "样例", "范例", "汇总", "统计表")
GENERIC_SHEET = re.compile(r"^(sheet|工作表|活动台账|台账|活动记录)\s*\d*$", re.IGNORECASE)
_YEAR_MONTH = re.compile(r"(20\d{2})\s*年\s*(?:度\s*)?(?:(\d{1,2})\s*(?:-\s*\d{1,2}\s*)?月)?")
_YEAR_DASH_MONTH = re.compile(r"(20\d{2})[-_.](\d{1,2})(?!\d)")


@dataclass
class SheetTable:
    """One sheet's table (a CSV is one sheet without a name) and how it was read."""

    name: str
    frame: pd.DataFrame  # one text column per field key, indexed by the row number Excel shows
    headers: dict[str, str]  # field key -> the header as the clerk wrote it
    header_rows: list[int]  # Excel row numbers of the header (one or two)
    unmapped: list[str]  # headers that name no field (序号 aside)
    title: str  # the text above the header: 泥江口镇2026年6月新时代文明实践活动台账
    mapped: set[str] = field(default_factory=set)  # field keys the file has a column for
    unit_from_sheet: bool = False  # no unit column: the sheet's name is the unit
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    filled: dict[str, int] = field(default_factory=dict)  # field key -> cells filled from a merged range
    block: int = 0  # 0, or the place of a table printed to the right of the first one
    unused: list[str] = field(default_factory=list)  # content the reading does not use, in the clerk's words
    contents: dict[int, str] = field(default_factory=dict)  # row -> text of a row set aside that holds some

    @property
    def label(self) -> str:
        """The sheet as a message names it: the right-hand table of a sheet printed as two."""
        if not self.block:
            return self.name
        return f"{self.name}（右侧表格）" if self.block == 1 else f"{self.name}（右侧第 {self.block} 个表格）"


def fill_merged(raw: pd.DataFrame, merged: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> pd.DataFrame:
    """Each merged range takes its top-left value in every cell, as a person reads it."""
    if not merged:
        return raw
    rows = max([len(raw)] + [r1 + 1 for _, (r1, _c1) in merged])
    width = max([raw.shape[1]] + [c1 + 1 for _, (_r1, c1) in merged])
    if rows > len(raw) or width > raw.shape[1]:
        raw = raw.reindex(index=range(rows), columns=range(width), fill_value="")
    values = raw.to_numpy(dtype=object, copy=True)
    for (r0, c0), (r1, c1) in merged:
        values[r0 : r1 + 1, c0 : c1 + 1] = values[r0, c0]
    return pd.DataFrame(values, columns=raw.columns)


def merged_cells(merged: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> set[tuple[int, int]]:
    """The cells below or beside the top-left one of each merged range (0-based row, column)."""
    cells: set[tuple[int, int]] = set()
    for (r0, c0), (r1, c1) in merged:
        cells.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0))
    return cells


def context_of(*texts: str) -> tuple[int | None, int | None]:
    """The year and month written in a title, a sheet name or a file name (2026年6月, 2026-06)."""
    for text in texts:
        compact = unicodedata.normalize("NFKC", text or "")
        match = _YEAR_MONTH.search(compact) or _YEAR_DASH_MONTH.search(compact)
        if match:
            month = int(match.group(2)) if match.group(2) else None
            return int(match.group(1)), month if month and 1 <= month <= 12 else None
    return None, None


def matched_keys(matched: dict[int, Column]) -> set[str]:
    return {column.key for column in matched.values()}


def _starts_with(series: pd.Series, words: tuple[str, ...]) -> pd.Series:
    """Whether each cell begins with one of the words, spaces inside ignored (合 计).

    Decided once per distinct beginning of a cell: a million rows hold few of them.
    """
    if not len(series):
        return pd.Series(False, index=series.index)
    heads = series.astype("str").str.slice(0, 12)
    found = map_unique(heads, lambda text: "".join(str(text).split()).startswith(words))
    return pd.Series(found, index=series.index, dtype=bool)


def read_sheet(
    raw: pd.DataFrame,
    *,
    name: str,
    columns: Sequence[Column],
    anchors: tuple[str, ...],
    unit_keys: tuple[str, ...] = (),
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
    hidden_rows: frozenset[int] = frozenset(),
    filtered: bool = False,
    preface: str = "",
    block: int = 0,
    first_column: int = 0,
) -> SheetTable | None:
    """The table of one sheet, or None when the sheet holds none (a 说明 sheet, an empty one).

    hidden_rows: 0-based rows a person cannot see (hidden by hand or by a filter): never activities,
    each listed with its content. preface: text written above the sheet (a Word document's heading).
    block, first_column: the table's place among tables side by side, and its first column's number.
    """
    if raw.empty:
        return None
    raw = fill_merged(raw, [m for m in merged if m[0][0] < HEADER_SCAN_ROWS])  # headers spanning cells
    found = find_header(raw, columns, anchors, merged)
    if found is None:
        return None
    header_rows, matched, labels = found
    first = header_rows[-1] + 1
    body_merges = [m for m in merged if m[0][0] >= first]
    filled_cells = merged_cells(body_merges)
    raw = fill_merged(raw, body_merges)
    cells = raw.iloc[first:]
    frame, headers = _field_frame(cells, matched, labels, columns, first)
    body = _Body(cells=cells, frame=frame, other=_other_text(cells, matched, frame.index), first=first)
    number_column = next((j for j, t in labels.items() if header_token(t) in NUMBER_WORDS), None)
    system = {j for j, t in labels.items() if j not in matched and is_form_system(t)}
    aside = _set_aside(body, matched, columns, number_column, _Visibility(hidden_rows, filtered))
    frame = frame[~aside.drop]
    other = body.other if not aside.drop.any() else body.other.loc[frame.index]
    unused = _unused(other, labels, number_column, first_column)
    if system:
        unused.append("表单系统生成的列（不是活动内容，未导入）：" + "、".join(labels[j] for j in sorted(system)))
    return SheetTable(
        name=name,
        frame=frame,
        headers=headers,
        header_rows=[r + 1 for r in header_rows],
        unmapped=_unmapped(labels, matched, system),
        title=_title(raw, header_rows[0], preface),
        mapped=matched_keys(matched),
        unit_from_sheet=_unit_from_sheet(name, unit_keys, matched),
        skipped=aside.skipped,
        filled=_filled_counts(frame, matched, filled_cells),
        block=block,
        unused=unused,
        contents=aside.contents,
    )


# ------------------------------------------------------------------------------- header and fields


def _title(raw: pd.DataFrame, header_top: int, preface: str) -> str:
    """The text above the header (泥江口镇2026年6月新时代文明实践活动台账), after the preface, each text once."""
    above = [clean(v) for row in range(header_top) for v in raw.iloc[row].tolist()]
    return " ".join(t for t in [preface, *dict.fromkeys(above)] if t and t != "None")


def _field_frame(
    cells: pd.DataFrame, matched: dict[int, Column], labels: dict[int, str], columns: Sequence[Column], first: int
) -> tuple[pd.DataFrame, dict[str, str]]:
    """One text column per field key, indexed by the row number Excel shows, and each field's header
    as written (the field's own header for a field the sheet has no column for)."""
    frame = pd.DataFrame(index=pd.RangeIndex(first + 1, first + 1 + len(cells), name="row"))
    headers: dict[str, str] = {}
    for j, column in matched.items():
        frame[column.key] = map_unique_text(cells[j].reset_index(drop=True), clean) if j in cells else ""
        headers[column.key] = labels.get(j, column.header)
    for column in columns:
        if column.key not in frame:
            frame[column.key] = ""
            headers.setdefault(column.key, column.header)
    return frame, headers


def _other_text(cells: pd.DataFrame, matched: dict[int, Column], index: pd.Index) -> pd.DataFrame:
    """The cleaned text of the columns that name no field, on the rows of `index`."""
    other_columns = [j for j in cells.columns if j not in matched]
    return pd.DataFrame(
        {j: map_unique_text(cells[j].reset_index(drop=True), clean) for j in other_columns}, index=index
    )


def _unmapped(labels: dict[int, str], matched: dict[int, Column], system: set[int]) -> list[str]:
    """Headers that name no field, apart from 序号 and the columns a form system adds."""
    return [
        text
        for j, text in labels.items()
        if j not in matched and j not in system and header_token(text) not in NUMBER_WORDS and text
    ]


def _unit_from_sheet(name: str, unit_keys: tuple[str, ...], matched: dict[int, Column]) -> bool:
    """No unit column, and a sheet name that is not a generic one (Sheet1, 活动台账): the name is the unit."""
    return (
        bool(unit_keys)
        and bool(name)
        and not GENERIC_SHEET.match(name.strip())
        and not any(c.key in unit_keys for c in matched.values())
    )


def _filled_counts(
    frame: pd.DataFrame, matched: dict[int, Column], filled_cells: set[tuple[int, int]]
) -> dict[str, int]:
    """Cells filled from a merged range on the rows that stay activities, by field key."""
    filled: dict[str, int] = {}
    kept = set(frame.index) if filled_cells else set()  # a set of a million row numbers only when needed
    for j, column in matched.items():
        count = sum(1 for r, c in filled_cells if c == j and r + 1 in kept)
        if count:
            filled[column.key] = count
    return filled


# -------------------------------------------------------------------------------- rows set aside


@dataclass
class _Body:
    """The rows under the header: their cells as read, the text of each field and of the other columns."""

    cells: pd.DataFrame  # the sheet's rows from `first` on, its own columns
    frame: pd.DataFrame  # one text column per field key, indexed by the row number Excel shows
    other: pd.DataFrame  # the columns that name no field, same index
    first: int  # 0-based row of the first row under the header


class _Visibility(NamedTuple):
    hidden_rows: frozenset[int]  # 0-based rows a person cannot see
    filtered: bool  # hidden by a filter rather than by hand


@dataclass
class _Aside:
    """The rows that are not activities: (row, reason) in row order, the text of some, and the mask of all."""

    skipped: list[tuple[int, str]]
    contents: dict[int, str]
    drop: pd.Series


def _set_aside(
    body: _Body,
    matched: dict[int, Column],
    columns: Sequence[Column],
    number_column: int | None,
    visibility: _Visibility,
) -> _Aside:
    """Rows that are not activities: set aside with a reason, never refused."""
    frame = body.frame
    mapped_blank = (frame == "").all(axis=1)
    other_filled = body.other != ""
    only_number = _only_number(body.other, other_filled, mapped_blank, number_column)
    blank = mapped_blank & ~other_filled.any(axis=1)
    hidden = pd.Series(frame.index.isin([r + 1 for r in visibility.hidden_rows]), index=frame.index) & ~blank
    undated = _undated(frame)
    total, sign_off = _totals_and_sign_offs(body, matched, undated)
    aside: dict[int, tuple[str, str]] = {}
    if undated.any() and "date" in frame and "title" in frame:  # a ledger of activities, not a roster
        candidates = undated & ~blank & ~hidden & ~total & ~sign_off
        aside = _not_activities(body.cells, frame, candidates, columns, body.first)
    reasons = [
        (blank, "空行，已跳过"),
        (hidden, FILTERED if visibility.filtered else HIDDEN),
        (total, "合计行，已跳过"),
        (sign_off, "落款（填报人、审核人等），已跳过"),
        (only_number, "只有序号、没有活动内容，已跳过"),
    ]
    return _skipped(body, reasons, aside, hidden)


def _only_number(
    other: pd.DataFrame, other_filled: pd.DataFrame, mapped_blank: pd.Series, number_column: int | None
) -> pd.Series:
    """Rows whose only text is a number in the 序号 column."""
    if number_column is None or number_column not in other.columns:
        return pd.Series(False, index=other.index)
    rest = other_filled.drop(columns=[number_column])
    numbered = other[number_column].str.fullmatch(r"\d+(\.0)?").fillna(False).astype(bool)
    return mapped_blank & numbered & ~rest.any(axis=1)


def _undated(frame: pd.DataFrame) -> pd.Series:
    """Rows without a date; every row of a sheet without a date column."""
    if "date" not in frame:
        return pd.Series(True, index=frame.index)
    return ~pd.Series(
        map_unique(frame["date"], lambda t: bool(t) and parse_date(t) is not None), index=frame.index, dtype=bool
    )


def _totals_and_sign_offs(body: _Body, matched: dict[int, Column], undated: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(total rows, sign-off rows).

    A total or a sign-off has no date (合计村 on a dated row is a village): only rows without
    one are looked at, in the columns where a person writes those words.
    """
    frame, other = body.frame, body.other
    total = pd.Series(False, index=frame.index)
    sign_off = pd.Series(False, index=frame.index)
    if not undated.any():
        return total, sign_off
    keys = [k for k in ("code", "name", "town", "date", "title") if k in matched_keys(matched)]
    looked = [frame.loc[undated, k] for k in keys] + [other.loc[undated, j] for j in other.columns]
    for text in looked:
        total |= _starts_with(text, TOTAL_WORDS).reindex(frame.index, fill_value=False)
        sign_off |= _starts_with(text, SIGN_OFF_WORDS).reindex(frame.index, fill_value=False)
    return total, sign_off


def _skipped(
    body: _Body, reasons: list[tuple[pd.Series, str]], aside: dict[int, tuple[str, str]], hidden: pd.Series
) -> _Aside:
    """Each row under the first reason that holds for it; then the headings and notes of `aside`."""
    frame = body.frame
    skipped: list[tuple[int, str]] = []
    contents = {row: content for row, (_reason, content) in aside.items()}
    drop = pd.Series(False, index=frame.index)
    for mask, reason in reasons:
        mask = mask & ~drop
        skipped.extend((int(row), reason) for row in frame.index[mask])
        drop |= mask
    skipped.extend((row, reason) for row, (reason, _c) in aside.items() if not drop[row])
    drop |= pd.Series(frame.index.isin(list(aside)), index=frame.index)
    for row in frame.index[hidden]:
        contents[int(row)] = row_content([clean(v) for v in body.cells.loc[row - 1].tolist()])
    skipped.sort()
    return _Aside(skipped=skipped, contents=contents, drop=drop)


def _not_activities(
    body: pd.DataFrame, frame: pd.DataFrame, candidates: pd.Series, columns: Sequence[Column], first: int
) -> dict[int, tuple[str, str]]:
    """Section headings, a repeated title or header, notes merged across: (reason, content) by row.

    Only undated rows whose title is empty, repeats the date cell (merged across) or is a header
    word are looked at: a dated ledger of a million rows has none of them.
    """
    lookup = vocabulary(columns)
    words = pd.Series(map_unique(frame["title"], lambda t: look_up(lookup, t) is not None), index=frame.index)
    looked = candidates & ((frame["title"] == "") | (frame["title"] == frame["date"]) | words.astype(bool))
    rows = frame.index[looked]
    if not len(rows):
        return {}

    def is_header(cells: list[str]) -> bool:
        return len({look_up(lookup, c) for c in cells if c} - {None}) >= 2

    in_body = body.set_axis(pd.RangeIndex(first + 1, first + 1 + len(body)))
    return set_aside(in_body, rows, is_header=is_header, clean=clean)


def _unused(other: pd.DataFrame, labels: dict[int, str], number_column: int | None, first_column: int) -> list[str]:
    """Columns without a header whose cells hold text on rows read as activities: named, not lost."""
    out = []
    for j in other.columns:
        if j in labels or j == number_column:
            continue
        rows = other.index[other[j] != ""]
        if len(rows):
            letter = column_name(first_column + int(j) + 1)
            span = f"第 {rows[0]} 行" if len(rows) == 1 else f"第 {rows[0]}–{rows[-1]} 行"
            out.append(f"{letter} 列没有列名，{span}有 {len(rows)} 个单元格有内容，未导入")
    return out
