"""Reading one sheet the way a person would: where the table starts, a header over one or two rows,
merged cells filled down, rows that are not activities set aside with a reason, and the year,
month and township written above the table.

Everything decided here is recorded (SheetTable), so the preview can say how the file was read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from monitor.core.normalize import CONTROL_CHARS, clean, map_unique, map_unique_text, parse_date
from monitor.files.bounded import column_name
from monitor.files.layout_rows import FILTERED, HIDDEN, row_content, set_aside

HEADER_SCAN_ROWS = 20
TOTAL_WORDS = ("合计", "总计", "小计", "共计")
SIGN_OFF_WORDS = ("填报人", "填表人", "审核人", "制表人", "统计人", "填报日期", "填表日期", "负责人签字", "单位盖章")
NUMBER_WORDS = ("序号", "编号", "no", "no.")
# Sheets that explain or sum up the table, or show an example of it: never activities.
SKIPPED_SHEET_WORDS = ("说明", "示例", "样例", "范例", "汇总", "统计表")
GENERIC_SHEET = re.compile(r"^(sheet|工作表|活动台账|台账|活动记录)\s*\d*$", re.IGNORECASE)
_YEAR_MONTH = re.compile(r"(20\d{2})\s*年\s*(?:度\s*)?(?:(\d{1,2})\s*(?:-\s*\d{1,2}\s*)?月)?")
_YEAR_DASH_MONTH = re.compile(r"(20\d{2})[-_.](\d{1,2})(?!\d)")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


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


def header_token(text: object) -> str:
    """The form of a header that is looked up: NFKC, no spaces or line breaks, no colon, case folded."""
    token = CONTROL_CHARS.sub("", unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", ""))
    return re.sub(r"\s+", "", token).rstrip(":").casefold()


def header_text(value: object) -> str:
    """A header as the clerk wrote it, on one line: no BOM, control characters, line breaks or colon."""
    text = re.sub(r"[\r\n]+", "", str(value or "")).replace("\ufeff", "")
    text = re.sub(r"\s+", " ", CONTROL_CHARS.sub("", text)).strip().rstrip(":：").rstrip()
    return text if len(text) <= 30 else text[:30] + "…"


# Online forms (问卷星, 腾讯文档, 金数据) number their questions and mark the required ones:
# "3、活动时间：", "Q3.活动时间", "（3）活动时间", "*活动时间", "活动时间（必填）".
_QUESTION_NUMBER = re.compile(r"^(?:q?\d{1,3}\s*[、.．:)]|\(\d{1,3}\)|第\d{1,3}题[、.:]?)")
_TRAILING_NOTE = re.compile(r"^(.+?)\((?:必填|选填|自动|[^()]{1,8})\)$")
# Columns the form system adds to every submission: known, never the activity's date, not activities' data.
FORM_SYSTEM_WORDS = frozenset(
    header_token(word)
    for word in (
        "提交答卷时间",
        "所用时间",
        "来源",
        "来源详情",
        "来自IP",
        "来自ip",
        "IP",
        "IP地址",
        "提交者",
        "提交时间",
        "提交者（自动）",
        "提交时间（自动）",
        "更新时间（自动）",
        "填写设备",
        "开始答题时间",
        "结束答题时间",
        "答题时长",
        "微信昵称",
        "总分",
        "填写人",
        "填写时间",
        "提交人",
        "修改时间",
    )
)


def header_forms(text: object) -> list[str]:
    """The token of a header, then the same without a form's question number, required mark or
    trailing bracketed note (参加人数（人）), each looked up in turn."""
    token = header_token(text)
    forms = [token]
    bare = _QUESTION_NUMBER.sub("", token).strip("*").removesuffix("(必填)")
    bare = bare.strip("*")
    if bare and bare != token:
        forms.append(bare)
    note = _TRAILING_NOTE.match(bare or token)
    if note:
        forms.append(note.group(1))
    return forms


def look_up(lookup: dict[str, Column], text: object) -> Column | None:
    for form in header_forms(text):
        found = lookup.get(form)
        if found is not None:
            return found
    return None


def is_form_system(text: object) -> bool:
    return any(form in FORM_SYSTEM_WORDS for form in header_forms(text))


def vocabulary(columns: Sequence[Column]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, column.key, *column.aliases):
            lookup.setdefault(header_token(name), column)
    return lookup


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


def _match_row(cells: list[object], lookup: dict[str, Column]) -> dict[int, Column]:
    matched: dict[int, Column] = {}
    for j, cell in enumerate(cells):
        found = look_up(lookup, cell)
        if found is not None and found not in matched.values():
            matched[j] = found
    return matched


def _is_date(value: object) -> bool:
    text = clean(value)
    return bool(text) and parse_date(text) is not None


def find_header(
    raw: pd.DataFrame,
    columns: Sequence[Column],
    anchors: tuple[str, ...],
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
) -> tuple[list[int], dict[int, Column], dict[int, str]] | None:
    """(header rows, column -> field, column -> header as written) or None when the sheet holds no table.

    The header is the row among the first ones that names the most fields (two at least, one of
    them an anchor such as the date or the title). A second row right under it is part of the
    header when it only holds sub-headings (群众 / 志愿者 under a merged 参与人数) and no date.
    """
    lookup = vocabulary(columns)
    best, best_matched = -1, dict[int, Column]()
    for i in range(min(HEADER_SCAN_ROWS, len(raw))):
        matched = _match_row(raw.iloc[i].tolist(), lookup)
        if len(matched) >= 2 and any(c.key in anchors for c in matched.values()) and len(matched) > len(best_matched):
            best, best_matched = i, matched
    if best < 0:
        return None
    if best > 0 and any(r0 == best - 1 and r1 == best for (r0, _c0), (r1, _c1) in merged):
        # The row found holds the sub-headings; the one above, merged down onto it, is the header's top.
        up, own = raw.iloc[best - 1].tolist(), raw.iloc[best].tolist()
        labels = {}
        for j in range(len(own)):
            top, sub = header_text(up[j]), header_text(own[j])
            text = sub if not top or top == sub else (top if not sub else f"{top}/{sub}")
            if text:
                labels[j] = text
        return [best - 1, best], best_matched, labels
    parent = raw.iloc[best].tolist()
    rows = [best]
    labels = {j: header_text(v) for j, v in enumerate(parent) if header_text(v)}
    if best + 1 < len(raw):
        child = raw.iloc[best + 1].tolist()
        filled = [j for j, v in enumerate(child) if clean(v)]
        if filled and not any(_is_date(child[j]) for j in filled):
            # Every word of the row under it is a heading of its own: 群众, 志愿者.
            if all(look_up(lookup, child[j]) is not None for j in filled):
                rows.append(best + 1)
                combined: dict[int, Column] = {}
                for j in range(len(parent)):
                    own = header_text(child[j]) if j in filled else ""
                    up = header_text(parent[j])
                    found = (look_up(lookup, own) if own else None) or look_up(lookup, up + own)
                    if found is None and not own:
                        found = look_up(lookup, up)
                    if found is not None and found not in combined.values():
                        combined[j] = found
                    if own or up:
                        labels[j] = f"{up}/{own}" if own and up and own != up else (own or up)
                best_matched = combined
    return rows, best_matched, labels


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
    above = [clean(v) for row in range(header_rows[0]) for v in raw.iloc[row].tolist()]
    title = " ".join(t for t in [preface, *dict.fromkeys(above)] if t and t != "None")
    body = raw.iloc[first:]
    frame = pd.DataFrame(index=pd.RangeIndex(first + 1, first + 1 + len(body), name="row"))
    headers: dict[str, str] = {}
    filled: dict[str, int] = {}
    for j, column in matched.items():
        frame[column.key] = map_unique_text(body[j].reset_index(drop=True), clean) if j in body else ""
        headers[column.key] = labels.get(j, column.header)
    for column in columns:
        if column.key not in frame:
            frame[column.key] = ""
            headers.setdefault(column.key, column.header)
    mapped = set(matched)
    number_column = next((j for j, t in labels.items() if header_token(t) in NUMBER_WORDS), None)
    system = {j for j, t in labels.items() if j not in mapped and is_form_system(t)}
    unmapped = [
        text
        for j, text in labels.items()
        if j not in mapped and j not in system and header_token(text) not in NUMBER_WORDS and text
    ]
    unit_from_sheet = (
        bool(unit_keys)
        and bool(name)
        and not GENERIC_SHEET.match(name.strip())
        and not any(c.key in unit_keys for c in matched.values())
    )

    # Rows that are not activities: set aside with a reason, never refused.
    mapped_blank = (frame == "").all(axis=1)
    other_columns = [j for j in body.columns if j not in matched]
    other = pd.DataFrame(
        {j: map_unique_text(body[j].reset_index(drop=True), clean) for j in other_columns}, index=frame.index
    )
    other_filled = other != ""
    if number_column is not None and number_column in other.columns:
        rest = other_filled.drop(columns=[number_column])
        numbered = other[number_column].str.fullmatch(r"\d+(\.0)?").fillna(False).astype(bool)
        only_number = mapped_blank & numbered & ~rest.any(axis=1)
    else:
        only_number = pd.Series(False, index=frame.index)
    blank = mapped_blank & ~other_filled.any(axis=1)
    hidden = pd.Series(frame.index.isin([r + 1 for r in hidden_rows]), index=frame.index) & ~blank
    # A total or a sign-off has no date (合计村 on a dated row is a village): only rows without
    # one are looked at, in the columns where a person writes those words.
    undated = pd.Series(True, index=frame.index)
    if "date" in frame:
        undated = ~pd.Series(
            map_unique(frame["date"], lambda t: bool(t) and parse_date(t) is not None), index=frame.index, dtype=bool
        )
    total = pd.Series(False, index=frame.index)
    sign_off = pd.Series(False, index=frame.index)
    aside: dict[int, tuple[str, str]] = {}
    if undated.any():
        keys = [k for k in ("code", "name", "town", "date", "title") if k in matched_keys(matched)]
        looked = [frame.loc[undated, k] for k in keys] + [other.loc[undated, j] for j in other_columns]
        for text in looked:
            total |= _starts_with(text, TOTAL_WORDS).reindex(frame.index, fill_value=False)
            sign_off |= _starts_with(text, SIGN_OFF_WORDS).reindex(frame.index, fill_value=False)
        if "date" in frame and "title" in frame:  # a ledger of activities, not a roster
            aside = _not_activities(body, frame, undated & ~blank & ~hidden & ~total & ~sign_off, columns, first)
    headings = pd.Series(frame.index.isin(list(aside)), index=frame.index)
    reasons = [
        (blank, "空行，已跳过"),
        (hidden, FILTERED if filtered else HIDDEN),
        (total, "合计行，已跳过"),
        (sign_off, "落款（填报人、审核人等），已跳过"),
        (only_number, "只有序号、没有活动内容，已跳过"),
    ]
    skipped: list[tuple[int, str]] = []
    contents = {row: content for row, (_reason, content) in aside.items()}
    drop = pd.Series(False, index=frame.index)
    for mask, reason in reasons:
        mask = mask & ~drop
        skipped.extend((int(row), reason) for row in frame.index[mask])
        drop |= mask
    skipped.extend((row, reason) for row, (reason, _c) in aside.items() if not drop[row])
    drop |= headings
    for row in frame.index[hidden]:
        contents[int(row)] = row_content([clean(v) for v in body.loc[row - 1].tolist()])
    skipped.sort()
    frame = frame[~drop]
    kept = set(frame.index) if filled_cells else set()  # a set of a million row numbers only when needed
    for j, column in matched.items():  # cells filled on the rows that stay activities
        count = sum(1 for r, c in filled_cells if c == j and r + 1 in kept)
        if count:
            filled[column.key] = count
    unused = _unused(other if not drop.any() else other.loc[frame.index], labels, number_column, first_column)
    if system:
        unused.append("表单系统生成的列（不是活动内容，未导入）：" + "、".join(labels[j] for j in sorted(system)))
    return SheetTable(
        name=name,
        frame=frame,
        headers=headers,
        header_rows=[r + 1 for r in header_rows],
        unmapped=unmapped,
        title=title,
        mapped=matched_keys(matched),
        unit_from_sheet=unit_from_sheet,
        skipped=skipped,
        filled=filled,
        block=block,
        unused=unused,
        contents=contents,
    )


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
