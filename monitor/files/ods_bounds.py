"""An .ods judged by what it really holds, before calamine expands it.

OpenDocument writes a run of equal rows or cells once, with a repeat count: a 2 KB content.xml can
declare a value in a million rows of sixteen thousand columns. The counts are read as a stream
(expat over content.xml) and the file is refused as too large when the cells that hold a value
would reach past the limits monitor.files.bounded sets for a workbook.
"""

from __future__ import annotations

import io
import zipfile
from xml.parsers import expat

from monitor.files.bounded import CHUNK, MAX_CELLS, MAX_COLUMNS, SPLIT_ADVICE, Malformed, TooLarge

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_REPEAT_ROWS = f"{_TABLE} number-rows-repeated"
_REPEAT_COLUMNS = f"{_TABLE} number-columns-repeated"
_VALUE_TYPE = f"{_OFFICE} value-type"


class _Scan:
    def __init__(self) -> None:
        self.name = ""
        self.rows = 0  # rows before the current one
        self.row_repeat = 1
        self.column = 0  # cells before the current one, in the current row
        self.cell_repeat = 1
        self.cell_has_value = False
        self.row_width = 0  # one past the last cell that holds a value, in the current row
        self.height = 0  # one past the last row that holds a value
        self.width = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_TABLE} table":
            self.name, self.rows, self.height, self.width = attrs.get(f"{_TABLE} name", ""), 0, 0, 0
        elif tag == f"{_TABLE} table-row":
            self.row_repeat = _count(attrs.get(_REPEAT_ROWS))
            self.column, self.row_width = 0, 0
        elif tag in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            self.cell_repeat = _count(attrs.get(_REPEAT_COLUMNS))
            self.cell_has_value = _VALUE_TYPE in attrs

    def end(self, tag: str) -> None:
        if tag in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            self.column += self.cell_repeat
            if self.cell_has_value:
                self.row_width = self.column
                if self.row_width > MAX_COLUMNS:
                    raise TooLarge(
                        f"工作表“{self.name}”中有内容的单元格超过 {MAX_COLUMNS:,} 列，超过可读取的上限：{SPLIT_ADVICE}"
                    )
        elif tag == f"{_TABLE} table-row":
            self.rows += self.row_repeat
            if self.row_width:
                self.height, self.width = self.rows, max(self.width, self.row_width)
                if self.height * self.width > MAX_CELLS:
                    raise TooLarge(
                        f"工作表“{self.name}”有内容的区域达 {self.height:,} 行 × {self.width:,} 列，"
                        f"超过可读取的上限：{SPLIT_ADVICE}"
                    )


def _count(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def check_ods(data: bytes) -> None:
    """Raise TooLarge when a sheet's cells with a value would reach too far; Malformed when it is no .ods."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("content.xml")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Malformed(str(exc)) from exc
    scan = _Scan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    try:
        with archive, archive.open(info) as part:
            while chunk := part.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Malformed(str(exc)) from exc
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise Malformed(str(exc)) from exc
