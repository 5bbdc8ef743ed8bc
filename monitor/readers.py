"""Bytes -> a table of cleaned text cells: format and encoding detection, header aliases."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd

from monitor.normalize import clean, map_unique_text

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SCAN_ROWS = 15
TOTAL_WORDS = ("合计", "总计", "小计", "共计")


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
    token = unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", "")
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
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030. Never Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileError(
            "unreadable_file",
            "文件编码无法识别：请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿后重新上传。",
        ) from exc


def _sniff_delimiter(text: str) -> str:
    sample = text[:8192].splitlines()[:20]
    best, best_count = ",", 0
    for delimiter in (",", "\t", ";", "|"):
        count = sum(line.count(delimiter) for line in sample)
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _csv_rows(text: str) -> pd.DataFrame:
    delimiter = _sniff_delimiter(text)
    width = max((len(row) for row in csv.reader(io.StringIO(text[:65536]), delimiter=delimiter)), default=0)
    try:
        # UTF-8 bytes, not a StringIO: pandas re-encodes a text buffer through a wrapper whose
        # carry-over grows with every read, which costs quadratic time on large files.
        return pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
            encoding="utf-8",
            sep=delimiter,
            header=None,
            names=list(range(max(width, 1))),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        return pd.DataFrame(rows, dtype=str).fillna("")


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
        raise FileError("unreadable_file", "Excel 文件已损坏或加密，无法读取：请另存后重新上传。") from exc
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


def read_table(data: bytes, columns: list[Column], *, preferred_sheet: str = "", one_of: tuple[str, ...] = ()) -> Table:
    """Read CSV/XLSX/XLS bytes into a Table of cleaned text cells keyed by column key."""
    if not data.strip():
        raise FileError("empty_file", "文件是空的。")
    fmt = detect_format(data)
    encoding = None
    if fmt == "csv":
        text, encoding = decode_text(data)
        raw = _csv_rows(text)
    else:
        raw = _excel_rows(data, preferred_sheet)
    if raw.empty:
        raise FileError("empty_file", "文件是空的。")

    header_index, matched = _find_header(raw, columns)
    found = {column.key for column in matched.values()}
    missing = [c for c in columns if c.required and c.key not in found]
    if one_of and not found.intersection(one_of):
        missing += [c for c in columns if c.key in one_of][:1]
    if missing:
        headers_found = [str(v).strip() for v in raw.iloc[header_index].tolist() if str(v).strip()]
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
        headers[column.key] = str(raw.iat[header_index, j]).replace("\ufeff", "").strip().rstrip(":：").rstrip()
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
