"""Bytes -> a table of cleaned text cells: format and encoding detection, header aliases."""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd

from monitor import bounded
from monitor.config import Settings
from monitor.normalize import CONTROL_CHARS, clean, map_unique_text

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SCAN_ROWS = 15
DEFAULT_LIMIT_BYTES = Settings.upload_limit_mb * 1024 * 1024
# A ledger has a dozen columns; a line of a million separators must not become a million-column frame.
MAX_COLUMNS = bounded.MAX_COLUMNS
CELL_CHARS = bounded.CELL_CHARS
TOTAL_WORDS = ("合计", "总计", "小计", "共计")


UNREADABLE_TEXT = "文件编码无法识别：请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿后重新上传。"


class FileError(Exception):
    """The file as a whole cannot be taken: nothing of it is imported."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass
class Table:
    """Data rows as text, one column per known key, indexed by the row number Excel shows."""

    frame: pd.DataFrame
    headers: dict[str, str]
    format: str
    encoding: str | None
    header_row: int
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _header_token(text: object) -> str:
    token = CONTROL_CHARS.sub("", unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", ""))
    token = re.sub(r"\s+", "", token).rstrip(":").casefold()
    return token


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


def _csv_rows(text: str) -> pd.DataFrame:
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
    try:
        # UTF-8 bytes, not a StringIO: pandas re-encodes a text buffer through a wrapper whose
        # carry-over grows with every read, which costs quadratic time on large files.
        raw = pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
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
    for j in raw.columns:
        if len(raw) and raw[j].str.len().max() > CELL_CHARS:
            raise FileError("too_large", _LONG_CELL)
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


def _excel_rows(data: bytes, preferred_sheet: str) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        if not names:
            raise FileError("empty_file", "文件中没有工作表。")
        name = preferred_sheet if preferred_sheet in names else names[0]
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except FileError:
        raise
    except Exception as exc:
        raise _unreadable_workbook() from exc
    width = max((len(row) for row in rows), default=0)
    padded = [[_excel_cell(v) for v in row] + [""] * (width - len(row)) for row in rows]
    return pd.DataFrame(padded, columns=list(range(width)), dtype=object)


def _find_header(raw: pd.DataFrame, columns: list[Column]) -> tuple[int, dict[int, Column]]:
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, column.key, *column.aliases):
            lookup[_header_token(name)] = column
    for i in range(min(HEADER_SCAN_ROWS, len(raw))):
        matched: dict[int, Column] = {}
        for j, cell in enumerate(raw.iloc[i].tolist()):
            found = lookup.get(_header_token(cell))
            if found is not None and found not in matched.values():
                matched[j] = found
        if len(matched) >= 2:
            return i, matched
    raise FileError(
        "no_header",
        "没有找到表头行：第一行应是列名，如 " + "、".join(c.header for c in columns if c.required) + "。",
    )


def _header_text(value: object) -> str:
    """A header as the clerk wrote it: no BOM, no control characters, no trailing colon."""
    text = CONTROL_CHARS.sub("", str(value)).replace("\ufeff", "").strip().rstrip(":：").rstrip()
    return text if len(text) <= 30 else text[:30] + "…"


def read_table(
    data: bytes,
    columns: list[Column],
    *,
    preferred_sheet: str = "",
    one_of: tuple[str, ...] = (),
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
) -> Table:
    """Read CSV/XLSX/XLS bytes into a Table of cleaned text cells keyed by column key.

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
        raw = _csv_rows(text)
    else:
        _check_workbook(data, fmt, limit_bytes)
        raw = _excel_rows(data, preferred_sheet)
    if raw.empty:
        raise FileError("empty_file", "文件是空的。")

    header_index, matched = _find_header(raw, columns)
    found = {column.key for column in matched.values()}
    missing = [c for c in columns if c.required and c.key not in found]
    if one_of and not found.intersection(one_of):
        missing += [c for c in columns if c.key in one_of][:1]
    if missing:
        headers_found = [_header_text(v) for v in raw.iloc[header_index].tolist() if _header_text(v)]
        if len(headers_found) > 20:
            headers_found = [*headers_found[:20], f"等共 {len(headers_found)} 列"]
        raise FileError(
            "missing_column",
            "缺少必填列："
            + "、".join(c.header for c in missing)
            + "。文件中的列为："
            + "、".join(headers_found)
            + "；应有的列为："
            + "、".join(c.header for c in columns)
            + "。",
        )

    body = raw.iloc[header_index + 1 :]
    frame = pd.DataFrame(index=pd.RangeIndex(header_index + 2, header_index + 2 + len(body), name="row"))
    headers: dict[str, str] = {}
    for j, column in matched.items():
        frame[column.key] = map_unique_text(body[j].reset_index(drop=True), clean)
        headers[column.key] = _header_text(raw.iat[header_index, j])
    for column in columns:
        if column.key not in frame:
            frame[column.key] = ""
            headers[column.key] = column.header

    blank = (frame == "").all(axis=1)
    skipped: list[tuple[int, str]] = []
    frame = frame[~blank]
    if len(frame):
        last = frame.iloc[-1]
        if any(str(v).startswith(TOTAL_WORDS) for v in last.tolist()):
            skipped.append((int(frame.index[-1]), "合计行，已跳过"))
            frame = frame.iloc[:-1]
    if frame.empty:
        raise FileError("empty_file", "文件只有表头，没有数据行。")
    return Table(
        frame=frame, headers=headers, format=fmt, encoding=encoding, header_row=header_index + 1, skipped=skipped
    )
