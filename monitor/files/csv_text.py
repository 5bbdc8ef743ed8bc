"""A CSV or TXT file's bytes -> its cells as text: the encoding, the delimiter, and a parse that
refuses a row wider or a cell longer than a workbook may hold (monitor.files.bounded)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from monitor.files import bounded
from monitor.files.sources import FileError

# A ledger has a dozen columns; a line of a million separators must not become a million-column frame.
MAX_COLUMNS = bounded.MAX_COLUMNS
CELL_CHARS = bounded.CELL_CHARS


UNREADABLE_TEXT = "文件编码无法识别：请在 Excel 中“另存为”CSV UTF-8 或 Excel 工作簿后重新上传。"


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


def csv_rows(text: str, utf8: bytes | None = None) -> pd.DataFrame:
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
