"""A workbook judged by what it really holds, before a reader materialises it.

python-calamine builds the whole rectangle from A1 to the farthest cell that holds a value,
one in-memory cell per position, and copies a shared string into every cell that uses it. A
5 KB file with one value at XFD1048576 therefore asks for 512 GiB, and a 200 KB file whose one
shared string is 200 MB long asks for gigabytes. The scans read the file as a stream
(zip members through zipfile, sheet XML through expat fed in chunks, below; legacy .xls through
its OLE2 sectors and BIFF records, in monitor.files.xls_bounds), keep a few counters, and refuse
the file as `too_large` before calamine sees it.

Budgets (a town's monthly ledger is a few hundred rows of about a dozen columns; a district's
whole year is under 10,000 rows):
- MAX_CELLS, the rectangle A1..farthest value of one sheet: 2,000,000 cells. Measured on this
  machine, reading a dense .xlsx costs about 240 bytes a cell (calamine's cells, their Python
  copies, the frame), so 2 million cells stay near 500 MiB, under the 1 GiB an import may take.
- MAX_COLUMNS: 1,000. A ledger has 10 to 30 columns; a value a thousand columns out is a stray
  keystroke, and the message says where it is.
- CELL_CHARS: 32,767 characters in one cell, Excel's own limit.
- TEXT_CHARS, the characters all cells of the workbook would hold once shared strings are
  copied into them: 50,000,000 (a few hundred MiB as Rust and Python strings).
- UNZIPPED_FACTOR: the members of an .xlsx may hold at most 10 x the upload limit once
  unzipped (200 MB for the default 20 MB), and at most MAX_MEMBERS members.
"""

from __future__ import annotations

import io
import re
import zipfile
from array import array
from xml.parsers import expat

from monitor.core.errors import Refusal

MAX_CELLS = 2_000_000
MAX_COLUMNS = 1_000
CELL_CHARS = 32_767
TEXT_CHARS = 50_000_000
UNZIPPED_FACTOR = 10
MAX_MEMBERS = 10_000
CHUNK = 1 << 16

SML = {"http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main"}
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
SPLIT_ADVICE = "请删除表格以外的多余内容，或按月、按乡镇拆分后重新上传。"


class TooLarge(Refusal):
    """The workbook holds more than a reader may materialise; the message says what, in Chinese."""

    code = "too_large"


class Malformed(Refusal):
    """The container itself is broken (not a zip, bad sectors); the reader reports it as unreadable."""

    code = "unreadable_file"


def column_name(index: int) -> str:
    """1 -> A, 16384 -> XFD."""
    name = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index


def check_extent(sheet: str, rows: int, columns: int) -> None:
    """Raise TooLarge when a sheet's rectangle A1..(rows, columns) is past MAX_COLUMNS or MAX_CELLS."""
    if columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise TooLarge(
            f"工作表“{sheet[:40]}”有内容的区域从 A1 一直延伸到 {column_name(columns)}{rows}"
            f"（{rows:,} 行 × {columns:,} 列），超出可读取的范围"
            f"（最多 {MAX_COLUMNS:,} 列、{MAX_CELLS:,} 个单元格）：{SPLIT_ADVICE}"
        )


def long_cell(where: str) -> TooLarge:
    """The refusal of a cell longer than CELL_CHARS; `where` names the sheet or the shared strings."""
    return TooLarge(
        f"{where}有单元格超过 {CELL_CHARS:,} 个字符（Excel 单元格的上限）：请把过长的内容删去或缩短后重新上传。"
    )


def too_much_text(total: int) -> TooLarge:
    """The refusal of a workbook whose cells together would hold more than TEXT_CHARS characters."""
    return TooLarge(f"文件中的文字展开后约 {total:,} 个字符，超过可读取的上限 {TEXT_CHARS:,}：{SPLIT_ADVICE}")


# ---------------------------------------------------------------------------------------- xlsx


class _SheetScan:
    """Expat handlers over one XML part: shared strings (<si>) and sheet cells (<row>, <c>)."""

    def __init__(self, name: str, shared: array, text_total: int) -> None:
        self.name = name
        self.shared = shared
        self.collect_shared = False
        self.text_total = text_total
        self.row = 0
        self.column = 0
        self.max_row = 0
        self.max_column = 0
        self.in_cell = False
        self.in_string = False
        self.cell_shared = False
        self.has_value = False
        self.chars = 0
        self.value = ""

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        namespace, _, local = tag.rpartition(" ")
        if namespace not in SML:
            return
        if local == "c":
            self.in_cell, self.has_value, self.chars, self.value = True, False, 0, ""
            self.cell_shared = attrs.get("t") == "s"
            match = _REF.match(attrs.get("r", ""))
            if match:
                self.column, self.row = _column_index(match.group(1)), int(match.group(2))
            else:
                self.column += 1
                self.row = max(self.row, 1)
        elif local == "row":
            r = attrs.get("r", "")
            self.row = int(r) if r.isdigit() and len(r) <= 7 else self.row + 1
            self.column = 0
        elif local in ("v", "is", "t", "f") and self.in_cell:
            self.has_value = True
        elif local == "si":
            self.in_string, self.chars = True, 0
        elif local == "sst":
            self.collect_shared = True

    def end(self, tag: str) -> None:
        namespace, _, local = tag.rpartition(" ")
        if namespace not in SML:
            return
        if local == "c" and self.in_cell:
            self.in_cell = False
            if not self.has_value:
                return
            if self.row > self.max_row or self.column > self.max_column:
                self.max_row, self.max_column = max(self.max_row, self.row), max(self.max_column, self.column)
                check_extent(self.name, self.max_row, self.max_column)
            if self.cell_shared and self.value.strip().isdigit():
                index = int(self.value)
                self.text_total += self.shared[index] if index < len(self.shared) else 0
            else:
                self.text_total += self.chars
            if self.text_total > TEXT_CHARS:
                raise too_much_text(self.text_total)
        elif local == "si" and self.in_string:
            self.in_string = False
            if self.collect_shared:
                self.shared.append(self.chars)

    def text(self, data: str) -> None:
        if self.in_cell:
            self.chars += len(data)
            if self.cell_shared and len(self.value) < 16:
                self.value += data[:16]
            if self.chars > CELL_CHARS:
                raise long_cell(f"工作表“{self.name[:40]}”")
        elif self.in_string:
            self.chars += len(data)
            if self.chars > CELL_CHARS:
                raise long_cell("共享文字表中")


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _SheetScan) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """{part name: sheet name as the clerk sees it}, from workbook.xml and its relationships; best effort."""
    sheets: dict[str, str] = {}
    targets: dict[str, str] = {}

    def on_sheet(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(" ")[2]
        rid = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "id"), "")
        if local == "sheet" and rid:
            sheets[rid] = attrs.get("name", "")
        elif local == "Relationship":
            target = attrs.get("Target", "")
            targets[attrs.get("Id", "")] = target.lstrip("/") if target.startswith("/") else "xl/" + target

    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        try:
            info = archive.getinfo(part)
            if info.file_size > 1 << 20:
                continue
            parser = expat.ParserCreate(namespace_separator=" ")
            parser.StartElementHandler = on_sheet
            parser.Parse(archive.read(info), True)
        except (KeyError, expat.ExpatError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            continue
    return {targets[rid]: name for rid, name in sheets.items() if rid in targets}


def check_xlsx(data: bytes, *, limit_bytes: int) -> None:
    """Raise TooLarge when the .xlsx would not fit in memory once read, Malformed when it is no zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Malformed(str(exc)) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise TooLarge(f"文件里有 {len(members):,} 个部件，不像是一份活动台账：{SPLIT_ADVICE}")
        unzipped = sum(info.file_size for info in members)
        if unzipped > UNZIPPED_FACTOR * limit_bytes:
            raise TooLarge(
                f"文件解压后有 {unzipped / 1048576:,.0f} MB，超过可读取的上限"
                f" {UNZIPPED_FACTOR * limit_bytes / 1048576:,.0f} MB：{SPLIT_ADVICE}"
            )
        parts = [info for info in members if info.filename.lower().endswith(".xml") and not info.is_dir()]
        # Shared strings first: a sheet's cells are measured by the strings they point at.
        parts.sort(key=lambda info: "sharedstrings" not in info.filename.lower())
        shared: array = array("I")
        text_total = 0
        names = _sheet_names(archive)
        for info in parts:
            name = names.get(info.filename) or info.filename.rsplit("/", 1)[-1].removesuffix(".xml")
            scan = _SheetScan(name, shared, text_total)
            try:
                _scan_part(archive, info, scan)
            except expat.ExpatError:
                continue  # not well-formed XML: calamine refuses it, or the part is not one it reads
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
                raise Malformed(str(exc)) from exc
            text_total = scan.text_total
