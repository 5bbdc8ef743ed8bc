"""An .ods's hidden rows, filter buttons and pictures in cells, read from its content.xml as a
stream within the bounds of monitor.files.sheet_extras."""

from __future__ import annotations

from monitor.files.sheet_extras import (
    BROKEN,
    MAX_PICTURES,
    MAX_ROWS,
    PICTURE_LIMIT_BYTES,
    Media,
    Package,
    SheetExtras,
    open_package,
    place_pictures,
)

# Hidden rows expanded from one repeated .ods row: LibreOffice writes the empty rows below the
# table as one run of a million, which holds no data to hide.
REPEAT_CAP = 10_000

ODS_CONTENT = "content.xml"
ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODS_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
XLINK = "http://www.w3.org/1999/xlink"
# ODF writes "collapse"; "collapsed" is accepted too.
ODS_HIDDEN = {"collapse", "collapsed", "filter"}


def _repeat(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) <= 7 else 1


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
    with open_package(data) as archive:
        package = Package(archive)
        scan = _OdsScan(max_pictures=max_pictures)
        try:
            info = package.info(ODS_CONTENT)
            if info is None:
                raise KeyError(ODS_CONTENT)
            package.parse(info, scan.start, scan.end, limit=None)
        except BROKEN as exc:
            raise ValueError(f"content.xml unreadable: {exc}") from exc
        media = Media(package, limit=picture_limit_bytes, count=max_pictures)
        for name, extras in scan.sheets.items():
            placed = [(row, column, package.resolve("", href)) for row, column, href in scan.placed[name]]
            extras.pictures = place_pictures(placed, media)
        for address in scan.filter_ranges:
            sheet = scan.sheets.get(_ods_range_sheet(address))
            if sheet is not None:
                sheet.filtered = True
        return scan.sheets
