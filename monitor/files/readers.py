"""Bytes -> a table of cleaned text cells: format and encoding detection, header aliases."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from monitor.core.config import Settings
from monitor.files import bounded
from monitor.files.layout import (
    HEADER_SCAN_ROWS,
    NUMBER_WORDS,
    SKIPPED_SHEET_WORDS,
    Column,
    SheetTable,
    fill_merged,
    find_header,
    header_text,
    header_token,
    look_up,
    read_sheet,
    vocabulary,
)
from monitor.files.layout_blocks import block_starts
from monitor.files.sources import FileError, Picture, RawSheet, detect_format, word_sheets, workbook_sheets

__all__ = ["FileError", "Reading", "Table", "decode_text", "detect_format", "read_table"]

DEFAULT_LIMIT_BYTES = Settings.upload_limit_mb * 1024 * 1024
# A ledger has a dozen columns; a line of a million separators must not become a million-column frame.
MAX_COLUMNS = bounded.MAX_COLUMNS
CELL_CHARS = bounded.CELL_CHARS


UNREADABLE_TEXT = "文件编码无法识别：请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿后重新上传。"


SHEET_STRIDE = 10_000_000  # row ids of a workbook with several sheets: sheet number × this + row


@dataclass
class Reading:
    """How a file was read: the sheets used and skipped, headers, rows set aside, context found."""

    format: str
    encoding: str | None
    sheets: list[SheetTable]
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    context: dict[str, object] = field(default_factory=dict)  # year, month, town and where each came from
    # cells read as a person wrote them: {"sheet", "row", "column", "value", "read"}
    as_typed: list[dict[str, object]] = field(default_factory=list)
    photos: dict[str, int] | None = None  # pictures inside the file, and the activities they sit on

    def to_json(self, labels: dict[str, str]) -> dict[str, object]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "sheets": [
                {
                    "name": sheet.name,
                    "block": sheet.block,
                    "header_rows": sheet.header_rows,
                    "columns": [
                        {"header": written, "field": labels.get(key, key)}
                        for key, written in sheet.headers.items()
                        if key in sheet.mapped
                    ],
                    "unmapped": sheet.unmapped,
                    "unit_from_sheet": sheet.unit_from_sheet,
                    "rows": len(sheet.frame),
                    "filled_from_merged": {labels.get(k, k): n for k, n in sheet.filled.items()},
                    "unused": sheet.unused,
                }
                for sheet in self.sheets
            ],
            "skipped_sheets": [{"name": name, "reason": reason} for name, reason in self.skipped_sheets],
            "skipped_rows": [
                {"sheet": sheet.label, "row": row, "reason": reason}
                | ({"content": sheet.contents[row]} if row in sheet.contents else {})
                for sheet in self.sheets
                for row, reason in sheet.skipped
            ],
            "context": self.context,
            "as_typed": self.as_typed,
            "photos": self.photos,
        }


@dataclass
class Table:
    """Data rows as text, one column per known key, indexed by a row id: the row number Excel shows
    for a file of one sheet, sheet number × SHEET_STRIDE + row for several (see locate)."""

    frame: pd.DataFrame
    headers: dict[str, str]
    format: str
    encoding: str | None
    header_row: int
    skipped: list[tuple[int, str]] = field(default_factory=list)
    reading: Reading | None = None
    sheet_of_row: pd.Series | None = None  # row id -> sheet number, when several sheets are read
    pictures: dict[int, list[tuple[str, bytes]]] = field(default_factory=dict)  # row id -> (name, data)
    pictures_found: int = 0  # pictures inside the file, on activity rows or not

    def locate(self, row_id: int) -> tuple[str, int]:
        """(sheet name, row number as Excel shows it) of a row id; the sheet is "" for a CSV."""
        sheets = self.reading.sheets if self.reading else []
        if len(sheets) > 1:
            return sheets[row_id // SHEET_STRIDE].label, row_id % SHEET_STRIDE
        return (sheets[0].label if sheets else ""), row_id


def decode_text(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030. Never Latin-1.

    A UTF-8 BOM before GBK bytes (an editor that added the mark and kept the Chinese encoding)
    is read as GB18030 after the mark.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileError("unreadable_file", UNREADABLE_TEXT) from exc
    body, bom = (data[3:], True) if data.startswith(b"\xef\xbb\xbf") else (data, False)
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileError("unreadable_file", UNREADABLE_TEXT) from exc


def _sniff_delimiter(text: str) -> str:
    sample = text[:8192].splitlines()[:20]
    best, best_count = ",", 0
    for delimiter in (",", "\t", ";", "|"):
        count = sum(line.count(delimiter) for line in sample)
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _too_wide() -> FileError:
    return FileError(
        "too_large",
        f"文件中有一行超过 {MAX_COLUMNS:,} 列，超出可读取的上限：请检查分隔符，删除多余的逗号后重新上传。",
    )


def _bounded_rows(text: str, delimiter: str) -> pd.DataFrame:
    """csv.reader row by row, refusing a row wider than MAX_COLUMNS before it is kept."""
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if len(row) > MAX_COLUMNS:
                raise _too_wide()
            rows.append(row)
    except csv.Error as exc:
        raise FileError("too_large", _LONG_CELL) from exc
    return pd.DataFrame(rows, dtype=str).fillna("")


_LONG_CELL = f"文件中有单元格超过 {CELL_CHARS:,} 个字符（Excel 单元格的上限）：请把过长的内容删去或缩短后重新上传。"


def _csv_rows(text: str, utf8: bytes | None = None) -> pd.DataFrame:
    """The cells of a CSV file's text; `utf8`: the same text as UTF-8 bytes, when the file holds them."""
    delimiter = _sniff_delimiter(text)
    # Whole lines only: a first line cut short would be narrower than the frame pandas then
    # builds, and pandas reads the surplus leading cells of a wider first line as the index.
    end = text.find("\n", 65536)
    head = csv.reader(io.StringIO(text if end < 0 else text[: end + 1]), delimiter=delimiter)
    try:
        width = max((len(row) for row in head), default=0)
    except csv.Error as exc:  # a field longer than the csv module's own limit (128 KiB)
        raise FileError("too_large", _LONG_CELL) from exc
    if width > MAX_COLUMNS:
        raise _too_wide()
    encoded = text.encode("utf-8") if utf8 is None else utf8
    raw = _arrow_rows(encoded, delimiter, max(width, 1))
    if raw is None:
        raw = _pandas_rows(encoded, delimiter, width, text)
    for j in raw.columns:
        if len(raw) and raw[j].str.len().max() > CELL_CHARS:
            raise FileError("too_large", _LONG_CELL)
    return raw


def _arrow_rows(encoded: bytes, delimiter: str, width: int) -> pd.DataFrame | None:
    """The cells of a CSV every line of which has `width` fields, read by pyarrow (in C++, on every
    core, straight into the string columns pandas keeps). None for any other file, which pandas reads:
    a ragged or blank line, a stray quote."""
    names = [str(j) for j in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(encoded),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    frame = table.to_pandas()
    frame.columns = pd.RangeIndex(width)
    return frame


def _pandas_rows(encoded: bytes, delimiter: str, width: int, text: str) -> pd.DataFrame:
    try:
        # UTF-8 bytes, not a StringIO: pandas re-encodes a text buffer through a wrapper whose
        # carry-over grows with every read, which costs quadratic time on large files.
        raw = pd.read_csv(
            io.BytesIO(encoded),
            encoding="utf-8",
            sep=delimiter,
            header=None,
            names=list(range(max(width, 1))),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            index_col=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        raw = _bounded_rows(text, delimiter)
    return raw


def _skip_reason(name: str) -> str:
    for word in SKIPPED_SHEET_WORDS:
        if word in name:
            return f"工作表名含“{word}”，不是活动台账"
    return ""


def _missing(sheet: SheetTable, columns: list[Column], one_of: tuple[str, ...]) -> list[Column]:
    missing = [c for c in columns if c.required and c.key not in sheet.mapped]
    if one_of and not sheet.unit_from_sheet and not sheet.mapped.intersection(one_of):
        missing += [c for c in columns if c.key in one_of][:1]
    return missing


def _missing_message(
    sheet: SheetTable, missing: list[Column], columns: list[Column], one_of: tuple[str, ...], others: list[str]
) -> str:
    """What is missing (code or name: either will do), the columns the file has, the other sheets."""
    seen = [*_written(sheet), *sheet.unmapped]
    if len(seen) > 20:
        seen = [*seen[:20], f"等共 {len(seen)} 列"]
    names = []
    for column in missing:
        if column.key in one_of:
            names.append("、".join(c.header for c in columns if c.key in one_of) + "（填一项即可）")
        else:
            names.append(column.header)
    text = "缺少必填列：" + "；".join(names) + "。"
    text += "文件中的列为：" + ("、".join(seen) if seen else "（未找到列名）") + "；"
    text += "应有的列为：" + "、".join(c.header for c in columns) + "。"
    if others:
        text += "文件中另有工作表：" + "、".join(others[:10]) + "。"
    return text


def _written(sheet: SheetTable) -> list[str]:
    return [sheet.headers[k] for k in sheet.headers if k in sheet.mapped]


def read_table(
    data: bytes,
    columns: list[Column],
    *,
    preferred_sheet: str = "",
    one_of: tuple[str, ...] = (),
    anchors: tuple[str, ...] = ("date", "title"),
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
    file_name: str = "",
    picture_limit_bytes: int = Settings.photo_limit_mb * 1024 * 1024,
) -> Table:
    """Read CSV/TXT/XLSX/XLS/ODS/DOCX bytes into a Table of cleaned text cells keyed by column key.

    Every sheet that holds a table is read (a sheet of explanations is skipped and named); the
    table may start below title rows and have a header over two rows; merged cells are filled;
    a second table printed to the right of the first is read too; rows that are not activities,
    and rows a person cannot see, are set aside with a reason. A workbook with a sheet named
    preferred_sheet reads that sheet only. With one_of, a sheet without any of those columns
    takes its unit from the sheet's name. Pictures pasted over a row are kept by row.

    A file above limit_bytes, or a workbook that would not fit in memory once read (see
    monitor.files.bounded), is refused as too_large before anything is parsed.
    """
    if len(data) > limit_bytes:  # a path is read only one byte past the limit: no size to tell beyond it
        limit = f"{limit_bytes / 1048576:g}"
        raise FileError("too_large", f"文件超过上限 {limit} MB：请按月或按乡镇拆分后上传。")
    if not data.strip():
        raise FileError("empty_file", "文件是空的。")
    fmt = detect_format(data)
    encoding = None
    if fmt == "csv":
        text, encoding = decode_text(data)
        # A UTF-8 file is parsed from its own bytes (after the mark): encoding the text again would
        # copy a large file once more.
        utf8 = data if encoding == "utf-8" else data[3:] if encoding == "utf-8-sig" else None
        sources = [RawSheet("", _csv_rows(text, utf8))]
    elif fmt == "docx":
        sources = word_sheets(
            data, columns, file_name=file_name, limit_bytes=limit_bytes, picture_limit_bytes=picture_limit_bytes
        )
    else:
        sources = workbook_sheets(data, fmt, limit_bytes=limit_bytes, picture_limit_bytes=picture_limit_bytes)
        if preferred_sheet and any(source.name == preferred_sheet for source in sources):
            sources = [source for source in sources if source.name == preferred_sheet]
    if all(source.cells is None or source.cells.empty for source in sources):
        raise FileError("empty_file", "文件是空的。")

    names = [source.name for source in sources]
    used: list[SheetTable] = []
    pictures: list[list[Picture]] = []  # by sheet of `used`
    skipped: list[tuple[str, str]] = []
    refused: list[tuple[pd.DataFrame, SheetTable | None, list[Column]]] = []
    for source in sources:
        name, raw = source.name, source.cells
        if raw is None:
            skipped.append((name, "隐藏的工作表"))
            continue
        reason = _skip_reason(name) if len(sources) > 1 else ""
        if reason:
            skipped.append((name, reason))
            continue
        found = [
            (
                read_sheet(
                    part.cells if part.cells is not None else raw,
                    name=name,
                    columns=columns,
                    anchors=anchors,
                    unit_keys=one_of,
                    merged=part.merged,
                    hidden_rows=source.hidden_rows,
                    filtered=source.filtered,
                    preface=source.preface,
                    block=block,
                    first_column=first,
                ),
                part.pictures,
            )
            for block, (first, part) in enumerate(_side_by_side(source, columns, anchors))
        ]
        sheet = found[0][0]
        if sheet is None:
            if not raw.empty and len(sources) > 1:
                skipped.append((name, "没有找到表头（不是活动表格）" if (raw != "").any().any() else "空工作表"))
            refused.append((raw, None, [c for c in columns if c.required]))
            continue
        missing = _missing(sheet, columns, one_of)
        if missing:
            skipped.append((name, "缺少必填列：" + "、".join(c.header for c in missing)))
            refused.append((raw, sheet, missing))
            continue
        for part_sheet, part_pictures in found:
            if part_sheet is not None and not _missing(part_sheet, columns, one_of):
                used.append(part_sheet)
                pictures.append(part_pictures)
    if not used:
        raw, sheet, missing = refused[0] if refused else (pd.DataFrame(), None, [])
        others = [n for n in names if n != (sheet.name if sheet else names[0])]
        if sheet is None:
            seen = [header_text(v) for v in (raw.iloc[0].tolist() if len(raw) else []) if header_text(v)][:20]
            raise FileError(
                "no_header",
                ("这是一个 Word 文档，其中的表格都没有活动台账的表头：" if fmt == "docx" else "没有找到表头行：")
                + "表格应有一行列名，至少包括 "
                + "、".join(c.header for c in columns if c.required or c.key in one_of)
                + "中的两项。"
                + ("第一行为：" + "、".join(seen) + "。" if seen else "")
                + (f"已查看的工作表：{'、'.join(n for n in names if n)}。" if any(names) else ""),
            )
        raise FileError("missing_column", _missing_message(sheet, missing, columns, one_of, others))

    headers: dict[str, str] = {}
    for sheet in used:
        for key, written in sheet.headers.items():
            if key in sheet.mapped:
                headers.setdefault(key, written)
    for column in columns:
        headers.setdefault(column.key, column.header)
    if len(used) == 1:
        frame = used[0].frame
        rows_skipped = list(used[0].skipped)
        sheet_of_row = None
    else:
        parts = []
        for number, sheet in enumerate(used):
            part = sheet.frame.copy()
            part.index = part.index + number * SHEET_STRIDE
            parts.append(part)
        frame = pd.concat(parts)
        frame.index.name = "row"
        rows_skipped = [(n * SHEET_STRIDE + row, reason) for n, s_ in enumerate(used) for row, reason in s_.skipped]
        sheet_of_row = pd.Series(frame.index // SHEET_STRIDE, index=frame.index)
    sheet_numbers = sheet_of_row if sheet_of_row is not None else pd.Series(0, index=frame.index)
    frame = frame.assign(_sheet=sheet_numbers.to_numpy())
    if frame.empty:
        hidden = sum(1 for _row, reason in rows_skipped if reason.startswith("已隐藏"))
        raise FileError(
            "empty_file",
            f"文件中没有可导入的活动：{hidden} 行已隐藏（或被筛选隐藏），请取消隐藏后重新上传。"
            if hidden
            else "文件只有表头，没有数据行。",
        )
    placed = _placed_pictures(used, pictures)
    reading = Reading(format=fmt, encoding=encoding, sheets=used, skipped_sheets=skipped)
    return Table(
        frame=frame,
        headers=headers,
        format=fmt,
        encoding=encoding,
        header_row=used[0].header_rows[-1],
        skipped=[(row, reason) for row, reason in rows_skipped if not reason.startswith("空行")],
        reading=reading,
        sheet_of_row=sheet_of_row,
        pictures=placed,
        pictures_found=sum(len(p) for p in pictures),
    )


@dataclass
class _Part:
    cells: pd.DataFrame | None  # None: the whole sheet
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    pictures: list[Picture]


def _side_by_side(source: RawSheet, columns: list[Column], anchors: tuple[str, ...]) -> list[tuple[int, _Part]]:
    """(first column, part) of each table of a sheet: one, or several printed side by side."""
    raw = source.cells
    assert raw is not None
    whole = [(0, _Part(None, list(source.merged), list(source.pictures)))]
    header_merges = [m for m in source.merged if m[0][0] < HEADER_SCAN_ROWS]
    found = find_header(fill_merged(raw, header_merges), columns, anchors, source.merged)
    if found is None:
        return whole
    lookup = vocabulary(columns)

    def field_of(cell: object) -> str | None:
        column = look_up(lookup, cell)
        return column.key if column is not None else None

    header = fill_merged(raw, header_merges).iloc[found[0][-1]].tolist()
    starts = block_starts(header, field_of=field_of, anchors=anchors, number=lambda c: header_token(c) in NUMBER_WORDS)
    if len(starts) == 1:
        return whole
    bounds = [*starts[1:], raw.shape[1]]
    crossing = [m for m in source.merged if any(m[0][1] < b <= m[1][1] for b in starts[1:])]
    filled = fill_merged(raw, crossing)  # a title merged over both tables belongs to each
    parts = []
    for number, (first, end) in enumerate(zip(starts, bounds, strict=True)):
        last = number == len(starts) - 1
        cells = filled.iloc[:, first:end].copy()
        cells.columns = pd.RangeIndex(end - first)
        merged = [
            ((r0, c0 - first), (r1, c1 - first))
            for (r0, c0), (r1, c1) in source.merged
            if first <= c0 and c1 < end and not any(m == ((r0, c0), (r1, c1)) for m in crossing)
        ]
        pictures = [
            Picture(p.row, p.column - first, p.name, p.data)
            for p in source.pictures
            if first <= p.column and (p.column < end or last)
        ]
        parts.append((first, _Part(cells, merged, pictures)))
    return parts


def _placed_pictures(used: list[SheetTable], pictures: list[list[Picture]]) -> dict[int, list[tuple[str, bytes]]]:
    """Pictures by the row id of the activity they sit over; pictures over other rows are not placed."""
    placed: dict[int, list[tuple[str, bytes]]] = {}
    several = len(used) > 1
    for number, (sheet, found) in enumerate(zip(used, pictures, strict=True)):
        rows = set(sheet.frame.index.tolist()) if found else set()
        for picture in found:
            row = picture.row + 1  # the row number Excel shows
            if row in rows:
                placed.setdefault(number * SHEET_STRIDE + row if several else row, []).append(
                    (picture.name, picture.data)
                )
    return placed
