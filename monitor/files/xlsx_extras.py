"""An .xlsx's hidden rows, autoFilter and pictures over cells (floating pictures in the sheet's
drawings, and WPS's cell images called by =DISPIMG), read part by part within the bounds of
monitor.files.sheet_extras."""

from __future__ import annotations

import re

from monitor.files.bounded import SML
from monitor.files.sheet_extras import (
    BROKEN,
    MAX_PICTURES,
    MAX_ROWS,
    PICTURE_LIMIT_BYTES,
    Media,
    Package,
    SheetExtras,
    attribute,
    local_name,
    open_package,
    place_pictures,
)

WORKBOOK = "xl/workbook.xml"  # where calamine looks, whatever _rels/.rels says
CELL_IMAGES = "xl/cellimages.xml"

_DISPIMG = re.compile(r'(?:_xlfn\.)?DISPIMG\(\s*"([^"]{1,255})"', re.IGNORECASE)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_FORMULA_CHARS = 1_000  # a DISPIMG formula is short; a long one is not a picture reference


def _cell_position(ref: str) -> tuple[int, int] | None:
    """The 0-based (row, column) of a cell reference: F4 -> (3, 5)."""
    match = _CELL_REF.match(ref)
    if not match:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)) - 1, column - 1


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
        local = local_name(tag)
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
            embed = attribute(attrs, "embed")
            if embed:
                self.embeds.append(embed)

    def end(self, tag: str) -> None:
        local = local_name(tag)
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
        local = local_name(tag)
        if local == "pic":
            self.in_pic, self.name, self.embed = True, "", ""
        elif self.in_pic and local == "cNvPr":
            self.name = attrs.get("name", "")
        elif self.in_pic and local == "blip":
            self.embed = attribute(attrs, "embed")

    def end(self, tag: str) -> None:
        if self.in_pic and local_name(tag) == "pic":
            self.in_pic = False
            if self.name and self.embed:
                self.found.setdefault(self.name, self.embed)


def _workbook(package: Package) -> tuple[list[tuple[str, str]], dict[str, tuple[str, str]]]:
    """[(sheet name, sheet part)] in the workbook's order, and the workbook's relationships."""
    info = package.info(WORKBOOK)
    if info is None:
        raise KeyError(WORKBOOK)
    rels = package.relationships(WORKBOOK)
    sheets: list[tuple[str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if local_name(tag) == "sheet":
            target = rels.get(attribute(attrs, "id"), ("", ""))[1]
            sheets.append((attrs.get("name", ""), target))

    package.parse(info, start)
    return sheets, rels


def _cell_images(package: Package, workbook_rels: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{DISPIMG id: picture part} from WPS's cellimages part; empty when there is none or it is broken."""
    part = next((target for kind, target in workbook_rels.values() if kind == "cellimage"), CELL_IMAGES)
    info = package.info(part) or package.info(CELL_IMAGES)
    if info is None:
        return {}
    scan = _CellImageScan()
    try:
        package.parse(info, scan.start, scan.end)
        rels = package.relationships(info.filename)
    except BROKEN:
        return {}
    return {name: rels[rid][1] for name, rid in scan.found.items() if rid in rels}


def _drawing_pictures(package: Package, part: str) -> list[tuple[int, int, str]]:
    """(row, column, picture part) of each picture a drawing anchors to a cell; none when it is broken."""
    info = package.info(part)
    if info is None:
        return []
    scan = _DrawingScan()
    try:
        package.parse(info, scan.start, scan.end, scan.text)
        rels = package.relationships(info.filename)
    except BROKEN:
        return []
    return [(row, column, rels[rid][1]) for row, column, rid in scan.found if rid in rels]


def _table_filtered(package: Package, part: str) -> bool:
    """Whether a table (a ListObject) carries filter buttons."""
    info = package.info(part)
    if info is None:
        return False
    found: list[bool] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if local_name(tag) == "autoFilter":
            found.append(True)

    try:
        package.parse(info, start)
    except BROKEN:
        return False
    return bool(found)


def _sheet_extras(package: Package, part: str, cell_images: dict[str, str], media: Media) -> SheetExtras:
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
    except BROKEN:
        pass  # calamine reports a broken sheet; what was read before the break is still true
    try:
        rels = package.relationships(info.filename)
    except BROKEN:
        rels = {}
    extras.hidden_rows = scan.hidden
    extras.filtered = scan.filtered or any(_table_filtered(package, t) for kind, t in rels.values() if kind == "table")
    placed = [
        *(spot for kind, target in rels.values() if kind == "drawing" for spot in _drawing_pictures(package, target)),
        *((row, column, cell_images[name]) for row, column, name in scan.dispimg if name in cell_images),
    ]
    extras.pictures = place_pictures(placed, media)
    return extras


def xlsx_extras(
    data: bytes, *, picture_limit_bytes: int = PICTURE_LIMIT_BYTES, max_pictures: int = MAX_PICTURES
) -> dict[str, SheetExtras]:
    """{sheet name as calamine's sheets_metadata gives it: its hidden rows, autoFilter and pictures}.

    Pictures come from the sheet's drawings (floating pictures, at their top-left anchor cell)
    and from WPS's cell images (=DISPIMG("ID_…",1), at the cell that calls it). A picture larger
    than picture_limit_bytes is left out; at most max_pictures are read from the whole workbook.
    Raises ValueError when the file is no zip or its workbook part is missing or unreadable.
    """
    with open_package(data) as archive:
        package = Package(archive)
        try:
            sheets, rels = _workbook(package)
        except BROKEN as exc:
            raise ValueError(f"workbook part unreadable: {exc}") from exc
        cell_images = _cell_images(package, rels)
        media = Media(package, limit=picture_limit_bytes, count=max_pictures)
        return {name: _sheet_extras(package, part, cell_images, media) for name, part in sheets}
