"""What calamine does not read from a workbook: hidden rows, the autoFilter, and pictures over cells.
This module holds the records and the bounded reading of a zip package; monitor.files.xlsx_extras
and monitor.files.ods_extras read them from an .xlsx and an .ods (monitor.files.xls_extras from a
legacy .xls).

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
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from monitor.files.bounded import CHUNK

PICTURE_LIMIT_BYTES = 10 * 1024 * 1024
MAX_PICTURES = 500
# All pictures of a workbook together: 500 phone photos of a few MB would otherwise fill memory.
TOTAL_PICTURE_BYTES = 256 * 1024 * 1024
# A relationships, workbook, drawing or cell-image part; worksheets are streamed whatever their size.
PART_LIMIT_BYTES = 16 * 1024 * 1024
MAX_ROWS = 1_048_576  # Excel's last row; a row number beyond it is nonsense

# What a broken or hostile part raises while it is read: the part is then skipped.
BROKEN = (
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


def local_name(tag: str) -> str:
    """The name of an expat tag ("namespace local") without its namespace."""
    return tag.rpartition(" ")[2]


def attribute(attrs: dict[str, str], local: str) -> str:
    """An attribute by its local name, whatever its namespace (transitional or strict OOXML)."""
    return next((value for key, value in attrs.items() if local_name(key) == local), "")


class Package:
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
            if local_name(tag) == "Relationship" and attrs.get("TargetMode", "").lower() != "external":
                kind = attrs.get("Type", "").rpartition("/")[2].lower()
                found[attrs.get("Id", "")] = (kind, self.resolve(part, attrs.get("Target", "")))

        self.parse(info, start)
        return found


class Media:
    """Picture bytes read within bounds: each at most `limit` bytes, `count` of them, TOTAL_PICTURE_BYTES in all."""

    def __init__(self, package: Package, *, limit: int, count: int) -> None:
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
        except BROKEN:
            return None
        if len(data) > self.limit:
            return None
        self.total += len(data)
        return info.filename, data


def open_package(data: bytes) -> zipfile.ZipFile:
    """The workbook's zip; ValueError when the bytes are no zip."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"not a zip package: {exc}") from exc


def place_pictures(placed: list[tuple[int, int, str]], media: Media) -> list[SheetPicture]:
    """The pictures at (row, column, part), each place once, in reading order, within the media budget."""
    pictures: list[SheetPicture] = []
    for row, column, part in sorted(set(placed)):
        picture = media.picture(row, column, part)
        if picture is not None:
            pictures.append(picture)
    return pictures
