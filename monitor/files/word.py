"""A Word .docx read within bounds as the tables a person sees: cell text, merged ranges, pictures in cells."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

import pandas as pd
from docx.oxml.parser import parse_xml
from lxml import etree

from monitor.core.errors import Refusal
from monitor.files import bounded
from monitor.files.word_pictures import Pictures, WordPicture, document_relationships

# Budgets, judged from the zip directory and an element count before lxml builds a tree. A Word
# document has a few dozen members and one per picture. WPS writes some 15 elements a cell (cell,
# paragraph and run properties, fonts, sizes), so a ledger of 1,000 rows by 10 columns has about
# 150,000; 2 million elements make a tree of a few hundred MB. The tables together hold at most
# bounded.MAX_CELLS grid cells, none wider than bounded.MAX_COLUMNS.
MAX_ENTRIES = 2000
UNZIPPED_FACTOR = 4  # all members once unzipped, times the upload limit
DOCUMENT_FACTOR = 2  # word/document.xml once unzipped, times the upload limit
MAX_ELEMENTS = 2_000_000
HEADING_CHARS = 500
DOCUMENT_PART = "word/document.xml"

UNREADABLE = "Word 文件已损坏或加密，无法读取：请在 Word/WPS 中另存为 .docx 后重新上传。"
SPLIT_ADVICE = "请压缩文档中的图片（Word：图片格式 → 压缩图片），或把文档拆成几份后重新上传。"

_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "v": "urn:schemas-microsoft-com:vml",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
}
_P, _TBL, _TR, _TC, _BODY, _SDT, _SDT_CONTENT, _CUSTOM_XML = (
    f"{{{_NS['w']}}}{name}" for name in ("p", "tbl", "tr", "tc", "body", "sdt", "sdtContent", "customXml")
)
# Text boxes are drawn over the page, not written in the cell; deleted runs are not shown.
_PARAGRAPHS = etree.XPath(".//w:p[not(ancestor::w:txbxContent)]", namespaces=_NS)
_RUNS = etree.XPath(
    ".//w:r[not(ancestor::w:txbxContent) and not(ancestor::w:del) and not(ancestor::w:moveFrom)]", namespaces=_NS
)
# A drawing saved for older readers repeats its picture in mc:Fallback; an embedded worksheet or
# chart (w:object) shows a preview image that is no photo.
_PICTURE_IDS = etree.XPath(
    ".//a:blip[not(ancestor::mc:Fallback)]/@r:embed"
    " | .//v:imagedata[not(ancestor::mc:Fallback) and not(ancestor::w:object)]/@r:id",
    namespaces=_NS,
)
_GRID_SPAN = etree.XPath("./w:tcPr/w:gridSpan/@w:val", namespaces=_NS)
_V_MERGE = etree.XPath("./w:tcPr/w:vMerge", namespaces=_NS)
_GRID_BEFORE = etree.XPath("./w:trPr/w:gridBefore/@w:val", namespaces=_NS)
_GRID_AFTER = etree.XPath("./w:trPr/w:gridAfter/@w:val", namespaces=_NS)
_COUNT = re.compile(r"^\s*\d{1,7}\s*$")

Range = tuple[tuple[int, int], tuple[int, int]]


class WordError(Refusal):
    """The .docx cannot be read (damaged, not a Word document, too large)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


@dataclass
class WordTable:
    number: int  # 1-based position of the table in the document
    cells: pd.DataFrame  # text of every grid cell (object dtype, "" when empty), columns RangeIndex(width)
    merged: list[Range]  # gridSpan and vMerge ranges, 0-based inclusive; the top-left cell holds the text
    pictures: list[tuple[int, int, WordPicture]] = field(default_factory=list)  # (row, column) of its cell


@dataclass
class WordDocument:
    heading: str  # the paragraphs before the first table, joined by " ", at most HEADING_CHARS
    tables: list[WordTable]
    paragraphs: int  # non-empty paragraphs of the body outside tables


def is_docx(data: bytes) -> bool:
    """A zip holding word/document.xml."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.getinfo(DOCUMENT_PART)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError):
        return False
    return True


def read_docx(
    data: bytes, *, limit_bytes: int, picture_limit_bytes: int = 10 * 1024 * 1024, max_pictures: int = 500
) -> WordDocument:
    """The heading, tables and pictures in cells of a .docx; WordError when it cannot or may not be read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise WordError("unreadable_file", UNREADABLE) from exc
    with archive:
        xml = _document_xml(archive, limit_bytes=limit_bytes)
        _count_elements(xml)
        # python-docx's parser gives its element classes (run text), but not docx.Document: that
        # loads every part of the package into memory uncapped, and refuses a file whose
        # relationships name a missing part (WPS writes such links) although its tables are intact.
        try:
            root = parse_xml(xml)
        except (etree.XMLSyntaxError, ValueError) as exc:
            raise WordError("unreadable_file", UNREADABLE) from exc
        del xml
        body = root.find(_BODY)
        if body is None:
            raise WordError("unreadable_file", UNREADABLE)
        pictures = Pictures(archive, document_relationships(archive), cap=picture_limit_bytes, most=max_pictures)
        return _read_body(body, pictures)


def form_pairs(table: WordTable) -> list[tuple[str, str]]:
    """(label, value) pairs of a label/value form table, in reading order.

    On each row the distinct cells, left to right, are label, value, label, value…; a cell merged
    over several rows takes part in each of them, and a pair already given is not given again. A
    row that is one cell across (a heading such as 活动照片) gives none.
    """
    texts = table.cells.to_numpy().tolist()
    rows, width = table.cells.shape
    owner = _owners(table.merged)
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[tuple[int, int], tuple[int, int] | None]] = set()
    for r in range(rows):
        row = list(dict.fromkeys(owner.get((r, c), (r, c)) for c in range(width)))
        if len(row) == 1:
            continue
        for i in range(0, len(row), 2):
            label_at, value_at = row[i], (row[i + 1] if i + 1 < len(row) else None)
            if (label_at, value_at) in seen:
                continue
            seen.add((label_at, value_at))
            label = _label(str(texts[label_at[0]][label_at[1]]))
            value = "" if value_at is None else str(texts[value_at[0]][value_at[1]])
            if label or value:
                pairs.append((label, value))
    return pairs


# ----------------------------------------------------------------------------------- bounds


def _too_large(message: str) -> WordError:
    return WordError("too_large", message)


def _document_xml(archive: zipfile.ZipFile, *, limit_bytes: int) -> bytes:
    """word/document.xml, once the zip directory shows the package fits the budgets."""
    members = archive.infolist()
    if len(members) > MAX_ENTRIES:
        raise _too_large(f"Word 文件里有 {len(members):,} 个部件，超过可读取的上限 {MAX_ENTRIES:,}：{SPLIT_ADVICE}")
    unzipped = sum(info.file_size for info in members)
    if unzipped > UNZIPPED_FACTOR * limit_bytes:
        raise _too_large(
            f"Word 文件解压后有 {unzipped / 1048576:,.1f} MB，超过可读取的上限"
            f" {UNZIPPED_FACTOR * limit_bytes / 1048576:,.1f} MB：{SPLIT_ADVICE}"
        )
    try:
        info = archive.getinfo(DOCUMENT_PART)
    except KeyError as exc:
        raise WordError("unreadable_file", UNREADABLE) from exc
    if info.file_size > DOCUMENT_FACTOR * limit_bytes:
        raise _too_large(
            f"Word 文件的正文解压后有 {info.file_size / 1048576:,.1f} MB，超过可读取的上限"
            f" {DOCUMENT_FACTOR * limit_bytes / 1048576:,.1f} MB：{SPLIT_ADVICE}"
        )
    try:
        # zipfile stops at the declared size and checks the CRC: a member cannot inflate past it.
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise WordError("unreadable_file", UNREADABLE) from exc


def _count_elements(xml: bytes) -> None:
    """Refuse a body of more elements than MAX_ELEMENTS before lxml builds a node for each."""
    count = 0

    def start(_tag: str, _attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise _too_large(f"Word 文件的正文超过 {MAX_ELEMENTS:,} 个排版元素，超出可读取的范围：{SPLIT_ADVICE}")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise WordError("unreadable_file", UNREADABLE) from exc


def _check_cells(tables: list[tuple[list[_Region], int, int]]) -> None:
    total = sum(rows * width for _, rows, width in tables)
    if total > bounded.MAX_CELLS:
        raise _too_large(
            f"Word 文件中的表格共有 {total:,} 个单元格，超过可读取的上限 {bounded.MAX_CELLS:,}：请按月拆分后重新上传。"
        )


def _too_wide(number: int) -> WordError:
    return _too_large(
        f"Word 文件的第 {number} 个表格超过 {bounded.MAX_COLUMNS:,} 列，超出可读取的范围：请检查表格后重新上传。"
    )


# ----------------------------------------------------------------------------------- body


def _blocks(parent: Any, tags: tuple[str, ...]) -> Iterator[Any]:
    """Children of `parent` with one of `tags`, looking through content controls and custom XML."""
    for child in parent:
        if child.tag in tags:
            yield child
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _blocks(content, tags)
        elif child.tag == _CUSTOM_XML:
            yield from _blocks(child, tags)


def _paragraph_text(paragraph: Any) -> str:
    # Runs inside hyperlinks, fields, inline content controls and tracked insertions count too.
    return "".join(run.text for run in _RUNS(paragraph))


def _read_body(body: Any, pictures: Pictures) -> WordDocument:
    heading: list[str] = []
    paragraphs = 0
    tables: list[Any] = []
    for block in _blocks(body, (_P, _TBL)):
        if block.tag == _TBL:
            tables.append(block)
            continue
        text = " ".join(_paragraph_text(block).split())
        if text:
            paragraphs += 1
            if not tables:
                heading.append(text)
    layouts = [_layout(table, number) for number, table in enumerate(tables, start=1)]
    _check_cells(layouts)
    return WordDocument(
        heading=" ".join(heading)[:HEADING_CHARS],
        tables=[_table(number, *layout, pictures) for number, layout in enumerate(layouts, start=1)],
        paragraphs=paragraphs,
    )


# ----------------------------------------------------------------------------------- tables


@dataclass
class _Region:
    """One cell as a person sees it: the grid rectangle it covers and the w:tc elements it is made of."""

    top: int
    left: int
    bottom: int
    right: int
    parts: list[Any]


def _number(values: list[str], default: int) -> int:
    """A count from the XML; a value no Word writes (text, negative, absurdly long) is the default."""
    return int(values[0]) if values and _COUNT.match(values[0]) else default


def _continues(tc: Any) -> bool:
    """w:vMerge without val="restart" continues the cell above."""
    merges = _V_MERGE(tc)
    return bool(merges) and merges[0].get(f"{{{_NS['w']}}}val", "continue") != "restart"


def _layout(table: Any, number: int) -> tuple[list[_Region], int, int]:
    """The cells of a table placed on its grid: (regions, rows, width)."""
    regions: list[_Region] = []
    above: dict[tuple[int, int], _Region] = {}
    rows = width = 0
    for r, tr in enumerate(_blocks(table, (_TR,))):
        column = _number(_GRID_BEFORE(tr), 0)
        here: dict[tuple[int, int], _Region] = {}
        for tc in _blocks(tr, (_TC,)):
            span = max(1, _number(_GRID_SPAN(tc), 1))
            key = (column, column + span - 1)
            # A continuation joins the cell above only where that cell covers the same columns.
            region = above.get(key) if _continues(tc) else None
            if region is None:
                region = _Region(r, key[0], r, key[1], [])
                regions.append(region)
            region.bottom = r
            region.parts.append(tc)
            here[key] = region
            column += span
            if column > bounded.MAX_COLUMNS:
                raise _too_wide(number)
        width = max(width, column + _number(_GRID_AFTER(tr), 0))
        if width > bounded.MAX_COLUMNS:
            raise _too_wide(number)
        above, rows = here, r + 1
    return regions, rows, width


def _cell_text(tc: Any) -> str:
    # A table nested in the cell is part of the cell's text: its paragraphs come in order.
    return "\n".join(_paragraph_text(p) for p in _PARAGRAPHS(tc)).strip()


def _table(number: int, regions: list[_Region], rows: int, width: int, pictures: Pictures) -> WordTable:
    grid = [[""] * width for _ in range(rows)]
    merged: list[Range] = []
    placed: list[tuple[int, int, WordPicture]] = []
    for region in regions:
        # Word keeps a merged cell's text in its first part; text left in the others is kept too.
        texts = [text for text in map(_cell_text, region.parts) if text]
        grid[region.top][region.left] = "\n".join(texts)
        if region.bottom > region.top or region.right > region.left:
            merged.append(((region.top, region.left), (region.bottom, region.right)))
        for tc in region.parts:
            for rid in _PICTURE_IDS(tc):
                picture = pictures.take(str(rid))
                if picture is not None:
                    placed.append((region.top, region.left, picture))
    cells = pd.DataFrame(grid, columns=pd.RangeIndex(width), dtype=object)
    return WordTable(number=number, cells=cells, merged=merged, pictures=placed)


# ----------------------------------------------------------------------------------- forms


def _owners(merged: list[Range]) -> dict[tuple[int, int], tuple[int, int]]:
    """Every grid position inside a merged range -> the range's top-left."""
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for (r0, c0), (r1, c1) in merged:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                owner[(r, c)] = (r0, c0)
    return owner


def _label(text: str) -> str:
    """No spaces (printed forms space out their labels: 活 动 地 点) and no trailing colon."""
    return re.sub(r"\s+", "", text).rstrip(":：")
