"""Bytes -> a table of cleaned text cells: format and encoding detection, header aliases."""

from __future__ import annotations

import csv
import io
import struct
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from monitor import bounded
from monitor.config import Settings
from monitor.layout import SKIPPED_SHEET_WORDS, Column, SheetTable, header_text, read_sheet

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DEFAULT_LIMIT_BYTES = Settings.upload_limit_mb * 1024 * 1024
# A ledger has a dozen columns; a line of a million separators must not become a million-column frame.
MAX_COLUMNS = bounded.MAX_COLUMNS
CELL_CHARS = bounded.CELL_CHARS


UNREADABLE_TEXT = "文件编码无法识别：请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿后重新上传。"


class FileError(Exception):
    """The file as a whole cannot be taken: nothing of it is imported."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


SHEET_STRIDE = 10_000_000  # row ids of a workbook with several sheets: sheet number × this + row


@dataclass
class Reading:
    """How a file was read: the sheets used and skipped, headers, rows set aside, context found."""

    format: str
    encoding: str | None
    sheets: list[SheetTable]
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    context: dict[str, object] = field(default_factory=dict)  # year, month, town and where each came from

    def to_json(self, labels: dict[str, str]) -> dict[str, object]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "sheets": [
                {
                    "name": sheet.name,
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
                }
                for sheet in self.sheets
            ],
            "skipped_sheets": [{"name": name, "reason": reason} for name, reason in self.skipped_sheets],
            "skipped_rows": [
                {"sheet": sheet.name, "row": row, "reason": reason}
                for sheet in self.sheets
                for row, reason in sheet.skipped
            ],
            "context": self.context,
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

    def locate(self, row_id: int) -> tuple[str, int]:
        """(sheet name, row number as Excel shows it) of a row id; the sheet is "" for a CSV."""
        sheets = self.reading.sheets if self.reading else []
        if len(sheets) > 1:
            return sheets[row_id // SHEET_STRIDE].name, row_id % SHEET_STRIDE
        return (sheets[0].name if sheets else ""), row_id


def detect_format(data: bytes) -> str:
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8", b"Rar!", b"7z")):
        raise FileError("unknown_format", "无法识别的文件格式：请上传 CSV、XLSX 或 XLS 文件。")
    return "csv"


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


def _excel_cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != time() else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, timedelta | time):
        return str(value)
    return value


def _unreadable_workbook() -> FileError:
    return FileError("unreadable_file", "Excel 文件已损坏或加密，无法读取：请另存后重新上传。")


def _check_workbook(data: bytes, fmt: str, limit_bytes: int) -> None:
    """Refuse a workbook by what it really holds, before calamine allocates its declared range."""
    try:
        if fmt == "xlsx":
            bounded.check_xlsx(data, limit_bytes=limit_bytes)
        else:
            bounded.check_xls(data)
    except bounded.TooLarge as exc:
        raise FileError("too_large", str(exc)) from exc
    except (bounded.Malformed, struct.error, ValueError) as exc:
        raise _unreadable_workbook() from exc


Merged = list[tuple[tuple[int, int], tuple[int, int]]]


def _excel_sheets(data: bytes) -> list[tuple[str, pd.DataFrame | None, Merged]]:
    """Every sheet as (name, cells, merged ranges); cells None for a hidden sheet."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets: list[tuple[str, pd.DataFrame | None, Merged]] = []
        for meta in workbook.sheets_metadata:
            if str(meta.visible).rsplit(".", 1)[-1] != "Visible" or str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
                sheets.append((meta.name, None, []))
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            width = max((len(row) for row in rows), default=0)
            padded = [[_excel_cell(v) for v in row] + [""] * (width - len(row)) for row in rows]
            merged = list(sheet.merged_cell_ranges or [])
            sheets.append((meta.name, pd.DataFrame(padded, columns=list(range(width)), dtype=object), merged))
    except Exception as exc:
        raise _unreadable_workbook() from exc
    if not sheets:
        raise FileError("empty_file", "文件中没有工作表。")
    return sheets


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
) -> Table:
    """Read CSV/XLSX/XLS bytes into a Table of cleaned text cells keyed by column key.

    Every sheet that holds a table is read (a sheet of explanations is skipped and named); the
    table may start below title rows and have a header over two rows; merged cells are filled;
    rows that are not activities are set aside with a reason. A workbook with a sheet named
    preferred_sheet reads that sheet only. With one_of, a sheet without any of those columns
    takes its unit from the sheet's name.

    A file above limit_bytes, or a workbook that would not fit in memory once read (see
    monitor.bounded), is refused as too_large before anything is parsed.
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
        sources: list[tuple[str, pd.DataFrame | None, Merged]] = [("", _csv_rows(text, utf8), [])]
    else:
        _check_workbook(data, fmt, limit_bytes)
        sources = _excel_sheets(data)
        if preferred_sheet and any(name == preferred_sheet for name, *_ in sources):
            sources = [s for s in sources if s[0] == preferred_sheet]
    if all(raw is None or raw.empty for _, raw, _ in sources):
        raise FileError("empty_file", "文件是空的。")

    names = [name for name, *_ in sources]
    used: list[SheetTable] = []
    skipped: list[tuple[str, str]] = []
    refused: list[tuple[pd.DataFrame, SheetTable | None, list[Column]]] = []
    for name, raw, merged in sources:
        if raw is None:
            skipped.append((name, "隐藏的工作表"))
            continue
        reason = _skip_reason(name) if len(sources) > 1 else ""
        if reason:
            skipped.append((name, reason))
            continue
        sheet = read_sheet(raw, name=name, columns=columns, anchors=anchors, unit_keys=one_of, merged=merged)
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
        used.append(sheet)
    if not used:
        raw, sheet, missing = refused[0] if refused else (pd.DataFrame(), None, [])
        others = [n for n in names if n != (sheet.name if sheet else names[0])]
        if sheet is None:
            seen = [header_text(v) for v in (raw.iloc[0].tolist() if len(raw) else []) if header_text(v)][:20]
            raise FileError(
                "no_header",
                "没有找到表头行：表格应有一行列名，至少包括 "
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
        raise FileError("empty_file", "文件只有表头，没有数据行。")
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
    )
