"""What calamine does not read from a workbook: hidden rows, the autoFilter, and pictures over cells.

Rows and columns are 0-based and absolute: row 0 is Excel's row 1 whatever the first used row is,
which is the row index of python-calamine's `to_python(skip_empty_area=False)` for .xlsx and .ods
alike (tests/test_sheet_extras.py checks both).

Every part is read as a stream (expat fed in chunks), so a huge sheet is never held as a tree.
A broken drawing, cell-image or picture part is skipped: it costs its pictures, never the ledger.
Only a workbook that cannot be opened at all (not a zip, its workbook part missing or unreadable)
raises ValueError.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from monitor.files.bounded import CHUNK, SML

PICTURE_LIMIT_BYTES = 10 * 1024 * 1024
MAX_PICTURES = 500
# All pictures of a workbook together: 500 phone photos of a few MB would otherwise fill memory.
TOTAL_PICTURE_BYTES = 256 * 1024 * 1024
# A relationships, workbook, drawing or cell-image part; worksheets are streamed whatever their size.
PART_LIMIT_BYTES = 16 * 1024 * 1024
MAX_ROWS = 1_048_576  # Excel's last row; a row number beyond it is nonsense
# Hidden rows expanded from one repeated .ods row: LibreOffice writes the empty rows below the
# table as one run of a million, which holds no data to hide.
REPEAT_CAP = 10_000

WORKBOOK = "xl/workbook.xml"  # where calamine looks, whatever _rels/.rels says
CELL_IMAGES = "xl/cellimages.xml"
ODS_CONTENT = "content.xml"
ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODS_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
XLINK = "http://www.w3.org/1999/xlink"
# ODF writes "collapse"; "collapsed" is accepted too.
ODS_HIDDEN = {"collapse", "collapsed", "filter"}

_DISPIMG = re.compile(r'(?:_xlfn\.)?DISPIMG\(\s*"([^"]{1,255})"', re.IGNORECASE)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_FORMULA_CHARS = 1_000  # a DISPIMG formula is short; a long one is not a picture reference

# What a broken or hostile part raises while it is read: the part is then skipped.
_BROKEN = (
    expat.ExpatError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    KeyError,
    UnicodeError,
)

StartHandler = Callable[[str, dict[str, str]], None]
EndHandler = Callable[[str], None]
TextHandler = Callable[[str], None]


@dataclass
class SheetPicture:
    """A picture over a cell: the row and column of its top-left anchor (0-based), its part and bytes."""

    row: int
    column: int
    name: str  # the part name inside the file, e.g. "xl/media/image3.jpeg"
    data: bytes = field(repr=False)


@dataclass
class SheetExtras:
    """Rows a person cannot see, whether the sheet has an autoFilter, and the pictures over its cells."""

    hidden_rows: set[int] = field(default_factory=set)
    filtered: bool = False
    pictures: list[SheetPicture] = field(default_factory=list)


# ------------------------------------------------------------------------------------- package


def _local(tag: str) -> str:
    return tag.rpartition(" ")[2]


def _attr(attrs: dict[str, str], local: str) -> str:
    """An attribute by its local name, whatever its namespace (transitional or strict OOXML)."""
    return next((value for key, value in attrs.items() if _local(key) == local), "")


class _Package:
    """A zip package whose part names are matched without regard to case, as Excel matches them."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.parts = {info.filename.lower(): info for info in archive.infolist() if not info.is_dir()}

    def info(self, part: str) -> zipfile.ZipInfo | None:
        return self.parts.get(part.lower())

    def resolve(self, source: str, target: str) -> str:
        """The part a relationship of `source` points at; a target some writers give from the root is kept."""
        target = target.replace("\\", "/")
        if target.startswith("/"):
            return posixpath.normpath(target.lstrip("/"))
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        if self.info(relative) is None and self.info(target) is not None:
            return target
        return relative

    def parse(
        self,
        info: zipfile.ZipInfo,
        start: StartHandler,
        end: EndHandler | None = None,
        text: TextHandler | None = None,
        *,
        limit: int | None = PART_LIMIT_BYTES,
    ) -> None:
        if limit is not None and info.file_size > limit:
            raise ValueError(f"{info.filename} is larger than {limit} bytes")
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if text is not None:
            parser.CharacterDataHandler = text
        with self.archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """{id: (type, target part)} of a part's internal relationships; the type is the last word of
        its URI in lower case ("worksheet", "drawing", "image", "cellimage", "table")."""
        rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
        info = self.info(rels)
        if info is None:
            return {}
        found: dict[str, tuple[str, str]] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship" and attrs.get("TargetMode", "").lower() != "external":
                kind = attrs.get("Type", "").rpartition("/")[2].lower()
                found[attrs.get("Id", "")] = (kind, self.resolve(part, attrs.get("Target", "")))

        self.parse(info, start)
        return found


class _Media:
    """Picture bytes read within bounds: each at most `limit` bytes, `count` of them, TOTAL_PICTURE_BYTES in all."""

    def __init__(self, package: _Package, *, limit: int, count: int) -> None:
        self.package = package
        self.limit = limit
        self.count = count
        self.taken = 0
        self.total = 0
        self.read: dict[str, tuple[str, bytes] | None] = {}

    @property
    def full(self) -> bool:
        return self.taken >= self.count

    def picture(self, row: int, column: int, part: str) -> SheetPicture | None:
        if self.full or not (0 <= row < MAX_ROWS) or column < 0:
            return None
        found = self._bytes(part)
        if found is None:
            return None
        self.taken += 1
        return SheetPicture(row=row, column=column, name=found[0], data=found[1])

    def _bytes(self, part: str) -> tuple[str, bytes] | None:
        key = part.lower()
        if key not in self.read:
            self.read[key] = self._load(part)
        return self.read[key]

    def _load(self, part: str) -> tuple[str, bytes] | None:
        info = self.package.info(part)
        if info is None or info.file_size > self.limit or self.total + info.file_size > TOTAL_PICTURE_BYTES:
            return None
        try:
            with self.package.archive.open(info) as stream:
                data = stream.read(self.limit + 1)
        except _BROKEN:
            return None
        if len(data) > self.limit:
            return None
        self.total += len(data)
        return info.filename, data


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"not a zip package: {exc}") from exc


def _repeat(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) <= 7 else 1


def _cell_position(ref: str) -> tuple[int, int] | None:
    """The 0-based (row, column) of a cell reference: F4 -> (3, 5)."""
    match = _CELL_REF.match(ref)
    if not match:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)) - 1, column - 1


# ---------------------------------------------------------------------------------------- xlsx


class _WorksheetScan:
    """Expat handlers over a worksheet: rows marked hidden, a sheet-level autoFilter, cells calling DISPIMG.

    A row is judged by its start tag alone. Cells are looked at only when the workbook has cell
    images, and then only for the text of their formulas: a sheet of two million cells costs
    expat's pass and little more.
    """

    # One dict lookup per element: most are cells and values a scan without cell images ignores.
    KINDS = {
        f"{namespace} {local}": local
        for namespace in SML
        # A custom view keeps a filter of its own; the schema puts the sheet's autoFilter before them.
        for local in ("row", "autoFilter", "customSheetViews", "c", "f")
    }

    def __init__(self, *, formulas: bool, max_formulas: int) -> None:
        self.formulas = formulas
        self.max_formulas = max_formulas
        self.hidden: set[int] = set()
        self.filtered = False
        self.past_filter = False
        self.dispimg: list[tuple[int, int, str]] = []  # (row, column, picture id)
        self.row = 0  # 1-based, as written
        self.cell_ref = ""  # the last cell of the row that gave its reference
        self.cells_after = 0  # cells since then that gave none, each one column further
        self.in_formula = False
        self.formula: list[str] = []
        self.formula_chars = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        kind = self.KINDS.get(tag)
        if kind is None:
            return
        if kind == "row":
            r = attrs.get("r", "")
            self.row = int(r) if r.isdigit() and len(r) <= 7 else self.row + 1
            self.cell_ref, self.cells_after = "", 0
            if attrs.get("hidden") in ("1", "true") and 0 < self.row <= MAX_ROWS:
                self.hidden.add(self.row - 1)
        elif kind == "autoFilter":
            self.filtered = self.filtered or not self.past_filter
        elif kind == "customSheetViews":
            self.past_filter = True
        elif not self.formulas:
            return
        elif kind == "c":
            ref = attrs.get("r", "")
            self.cell_ref, self.cells_after = (ref, 0) if ref else (self.cell_ref, self.cells_after + 1)
        else:
            self.in_formula, self.formula, self.formula_chars = True, [], 0

    def end(self, tag: str) -> None:
        if self.in_formula and self.KINDS.get(tag) == "f":
            self.in_formula = False
            match = _DISPIMG.search("".join(self.formula))
            if match and len(self.dispimg) < self.max_formulas and 0 < self.row <= MAX_ROWS:
                self.dispimg.append((self.row - 1, self._column(), match.group(1)))

    def _column(self) -> int:
        position = _cell_position(self.cell_ref)
        return position[1] + self.cells_after if position else self.cells_after - 1

    def text(self, data: str) -> None:
        if self.in_formula and self.formula_chars < _FORMULA_CHARS:
            self.formula.append(data[: _FORMULA_CHARS - self.formula_chars])
            self.formula_chars += len(data)


class _DrawingScan:
    """Expat handlers over a drawing part: (row, column, relationship id) of each cell-anchored picture.

    An absolute anchor has no cell and is left out; pictures in a group take the group's anchor.
    """

    ANCHORS = frozenset({"twoCellAnchor", "oneCellAnchor"})

    def __init__(self) -> None:
        self.found: list[tuple[int, int, str]] = []
        self.in_anchor = False
        self.in_from = False
        self.position: dict[str, int] = {}
        self.field = ""
        self.value = ""
        self.pics = 0
        self.embeds: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = _local(tag)
        if local in self.ANCHORS:
            self.in_anchor, self.position, self.embeds, self.pics = True, {}, [], 0
        elif not self.in_anchor:
            return
        elif local == "from":
            self.in_from = True
        elif self.in_from and local in ("row", "col"):
            self.field, self.value = local, ""
        elif local == "pic":
            self.pics += 1
        elif local == "blip" and self.pics:
            embed = _attr(attrs, "embed")
            if embed:
                self.embeds.append(embed)

    def end(self, tag: str) -> None:
        local = _local(tag)
        if self.field and local == self.field:
            value = self.value.strip()
            if value.isdigit() and len(value) <= 7:
                self.position[self.field] = int(value)
            self.field = ""
        elif local == "from":
            self.in_from = False
        elif local == "pic" and self.pics:
            self.pics -= 1
        elif local in self.ANCHORS and self.in_anchor:
            self.in_anchor = False
            if "row" in self.position and "col" in self.position:
                self.found += [(self.position["row"], self.position["col"], embed) for embed in self.embeds]

    def text(self, data: str) -> None:
        if self.field and len(self.value) < 16:
            self.value += data[:16]


class _CellImageScan:
    """Expat handlers over WPS's cellimages part: {picture name (the id DISPIMG cites): relationship id}."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self.in_pic = False
        self.name = ""
        self.embed = ""

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = _local(tag)
        if local == "pic":
            self.in_pic, self.name, self.embed = True, "", ""
        elif self.in_pic and local == "cNvPr":
            self.name = attrs.get("name", "")
        elif self.in_pic and local == "blip":
            self.embed = _attr(attrs, "embed")

    def end(self, tag: str) -> None:
        if self.in_pic and _local(tag) == "pic":
            self.in_pic = False
            if self.name and self.embed:
                self.found.setdefault(self.name, self.embed)


def _workbook(package: _Package) -> tuple[list[tuple[str, str]], dict[str, tuple[str, str]]]:
    """[(sheet name, sheet part)] in the workbook's order, and the workbook's relationships."""
    info = package.info(WORKBOOK)
    if info is None:
        raise KeyError(WORKBOOK)
    rels = package.relationships(WORKBOOK)
    sheets: list[tuple[str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "sheet":
            target = rels.get(_attr(attrs, "id"), ("", ""))[1]
            sheets.append((attrs.get("name", ""), target))

    package.parse(info, start)
    return sheets, rels


def _cell_images(package: _Package, workbook_rels: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{DISPIMG id: picture part} from WPS's cellimages part; empty when there is none or it is broken."""
    part = next((target for kind, target in workbook_rels.values() if kind == "cellimage"), CELL_IMAGES)
    info = package.info(part) or package.info(CELL_IMAGES)
    if info is None:
        return {}
    scan = _CellImageScan()
    try:
        package.parse(info, scan.start, scan.end)
        rels = package.relationships(info.filename)
    except _BROKEN:
        return {}
    return {name: rels[rid][1] for name, rid in scan.found.items() if rid in rels}


def _drawing_pictures(package: _Package, part: str) -> list[tuple[int, int, str]]:
    """(row, column, picture part) of each picture a drawing anchors to a cell; none when it is broken."""
    info = package.info(part)
    if info is None:
        return []
    scan = _DrawingScan()
    try:
        package.parse(info, scan.start, scan.end, scan.text)
        rels = package.relationships(info.filename)
    except _BROKEN:
        return []
    return [(row, column, rels[rid][1]) for row, column, rid in scan.found if rid in rels]


def _table_filtered(package: _Package, part: str) -> bool:
    """Whether a table (a ListObject) carries filter buttons."""
    info = package.info(part)
    if info is None:
        return False
    found: list[bool] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "autoFilter":
            found.append(True)

    try:
        package.parse(info, start)
    except _BROKEN:
        return False
    return bool(found)


def _sheet_extras(package: _Package, part: str, cell_images: dict[str, str], media: _Media) -> SheetExtras:
    extras = SheetExtras()
    info = package.info(part)
    if info is None:
        return extras
    scan = _WorksheetScan(formulas=bool(cell_images), max_formulas=media.count)
    try:
        if cell_images:
            package.parse(info, scan.start, scan.end, scan.text, limit=None)
        else:
            package.parse(info, scan.start, limit=None)
    except _BROKEN:
        pass  # calamine reports a broken sheet; what was read before the break is still true
    try:
        rels = package.relationships(info.filename)
    except _BROKEN:
        rels = {}
    extras.hidden_rows = scan.hidden
    extras.filtered = scan.filtered or any(_table_filtered(package, t) for kind, t in rels.values() if kind == "table")
    placed = [
        *(spot for kind, target in rels.values() if kind == "drawing" for spot in _drawing_pictures(package, target)),
        *((row, column, cell_images[name]) for row, column, name in scan.dispimg if name in cell_images),
    ]
    extras.pictures = _pictures(placed, media)
    return extras


def _pictures(placed: list[tuple[int, int, str]], media: _Media) -> list[SheetPicture]:
    """The pictures at (row, column, part), each place once, in reading order, within the media budget."""
    pictures: list[SheetPicture] = []
    for row, column, part in sorted(set(placed)):
        picture = media.picture(row, column, part)
        if picture is not None:
            pictures.append(picture)
    return pictures


def xlsx_extras(
    data: bytes, *, picture_limit_bytes: int = PICTURE_LIMIT_BYTES, max_pictures: int = MAX_PICTURES
) -> dict[str, SheetExtras]:
    """{sheet name as calamine's sheets_metadata gives it: its hidden rows, autoFilter and pictures}.

    Pictures come from the sheet's drawings (floating pictures, at their top-left anchor cell)
    and from WPS's cell images (=DISPIMG("ID_…",1), at the cell that calls it). A picture larger
    than picture_limit_bytes is left out; at most max_pictures are read from the whole workbook.
    Raises ValueError when the file is no zip or its workbook part is missing or unreadable.
    """
    with _open(data) as archive:
        package = _Package(archive)
        try:
            sheets, rels = _workbook(package)
        except _BROKEN as exc:
            raise ValueError(f"workbook part unreadable: {exc}") from exc
        cell_images = _cell_images(package, rels)
        media = _Media(package, limit=picture_limit_bytes, count=max_pictures)
        return {name: _sheet_extras(package, part, cell_images, media) for name, part in sheets}


# ----------------------------------------------------------------------------------------- ods


class _OdsScan:
    """Expat handlers over an .ods content.xml: per table, hidden rows and (row, column, href) of the
    pictures in its cells; the ranges that show filter buttons."""

    def __init__(self, *, max_pictures: int) -> None:
        self.max_pictures = max_pictures
        self.sheets: dict[str, SheetExtras] = {}
        self.placed: dict[str, list[tuple[int, int, str]]] = {}
        self.placed_count = 0
        self.filter_ranges: list[str] = []
        self.tables = 0  # nesting: a table inside a cell is not counted in rows
        self.name = ""
        self.row = 0
        self.row_span = 1
        self.column = 0
        self.column_span = 1
        self.in_cell = False
        self.frame_taken: bool | None = None  # None outside a draw:frame

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        namespace, _, local = tag.rpartition(" ")
        if namespace == ODS_TABLE:
            self._table_start(local, attrs)
        elif namespace == ODS_DRAW and self.in_cell and self.tables == 1:
            if local == "frame" and self.frame_taken is None:
                self.frame_taken = False
            elif local == "image" and self.frame_taken is False:
                href = attrs.get(f"{XLINK} href", "")
                if href and self.placed_count < self.max_pictures:
                    self.placed[self.name].append((self.row, self.column, href))
                    self.placed_count += 1
                self.frame_taken = True

    def _table_start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "table":
            self.tables += 1
            if self.tables == 1:
                self.name, self.row = attrs.get(f"{ODS_TABLE} name", ""), 0
                self.sheets[self.name] = SheetExtras()
                self.placed[self.name] = []
        elif self.tables != 1:
            if local == "database-range" and attrs.get(f"{ODS_TABLE} display-filter-buttons") == "true":
                self.filter_ranges.append(attrs.get(f"{ODS_TABLE} target-range-address", ""))
        elif local == "table-row":
            self.row_span = _repeat(attrs.get(f"{ODS_TABLE} number-rows-repeated"))
            self.column = 0
            if attrs.get(f"{ODS_TABLE} visibility") in ODS_HIDDEN:
                last = min(self.row + min(self.row_span, REPEAT_CAP), MAX_ROWS)
                self.sheets[self.name].hidden_rows.update(range(self.row, last))
        elif local in ("table-cell", "covered-table-cell"):
            self.column_span = _repeat(attrs.get(f"{ODS_TABLE} number-columns-repeated"))
            self.in_cell = True

    def end(self, tag: str) -> None:
        namespace, _, local = tag.rpartition(" ")
        if namespace == ODS_DRAW and local == "frame" and self.tables == 1:
            self.frame_taken = None
        if namespace != ODS_TABLE:
            return
        if local == "table":
            self.tables -= 1
        elif self.tables != 1:
            return
        elif local == "table-row":
            self.row += self.row_span
        elif local in ("table-cell", "covered-table-cell"):
            self.column += self.column_span
            self.in_cell = False


def _ods_range_sheet(address: str) -> str:
    """The sheet an ODF range address names: "'My sheet'.A1:.C9" and "$Sheet1.$A$1:.$C$9" -> the name."""
    address = address.strip().lstrip("$")
    if not address.startswith("'"):
        return address.split(".", 1)[0]
    name: list[str] = []
    i = 1
    while i < len(address):
        if address[i] == "'":
            if address[i + 1 : i + 2] != "'":
                break
            i += 1  # '' is a quote inside the name
        name.append(address[i])
        i += 1
    return "".join(name)


def ods_extras(
    data: bytes, *, picture_limit_bytes: int = PICTURE_LIMIT_BYTES, max_pictures: int = MAX_PICTURES
) -> dict[str, SheetExtras]:
    """{sheet (table:name, as calamine's sheets_metadata gives it): its hidden rows, filter and pictures}.

    Hidden rows are those collapsed by hand or filtered out; pictures are the draw:frame images
    anchored in a cell, at that cell. A picture larger than picture_limit_bytes is left out; at
    most max_pictures are read from the whole file. Raises ValueError when the file is no zip or
    its content.xml is missing or unreadable.
    """
    with _open(data) as archive:
        package = _Package(archive)
        scan = _OdsScan(max_pictures=max_pictures)
        try:
            info = package.info(ODS_CONTENT)
            if info is None:
                raise KeyError(ODS_CONTENT)
            package.parse(info, scan.start, scan.end, limit=None)
        except _BROKEN as exc:
            raise ValueError(f"content.xml unreadable: {exc}") from exc
        media = _Media(package, limit=picture_limit_bytes, count=max_pictures)
        for name, extras in scan.sheets.items():
            placed = [(row, column, package.resolve("", href)) for row, column, href in scan.placed[name]]
            extras.pictures = _pictures(placed, media)
        for address in scan.filter_ranges:
            sheet = scan.sheets.get(_ods_range_sheet(address))
            if sheet is not None:
                sheet.filtered = True
        return scan.sheets
