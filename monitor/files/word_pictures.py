"""The pictures of a Word .docx, read on demand within bounds: where the document's relationships
point, and each picture part's bytes."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from docx.oxml.parser import parse_xml
from lxml import etree

RELATIONSHIPS_PART = "word/_rels/document.xml.rels"
_RELATIONSHIPS = etree.XPath(
    "/pr:Relationships/pr:Relationship",
    namespaces={"pr": "http://schemas.openxmlformats.org/package/2006/relationships"},
)


@dataclass
class WordPicture:
    name: str  # the part name inside the docx, e.g. "word/media/image1.jpeg": text only, never a path
    data: bytes


def document_relationships(archive: zipfile.ZipFile) -> dict[str, str]:
    """{relationship id: part name} of the document part's internal targets; empty when unreadable."""
    try:
        info = archive.getinfo(RELATIONSHIPS_PART)
        if info.file_size > 1 << 22:
            return {}
        root = parse_xml(archive.read(info))
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return {}  # the tables can still be read; only their pictures are lost
    targets: dict[str, str] = {}
    for relationship in _RELATIONSHIPS(root):
        target = unquote(relationship.get("Target", ""))
        if relationship.get("TargetMode") == "External" or not target:
            continue
        base = "" if target.startswith("/") else "word"
        targets[relationship.get("Id", "")] = posixpath.normpath(posixpath.join(base, target.lstrip("/")))
    return targets


class Pictures:
    """Picture parts read on demand, each at most `cap` bytes and at most `most` of them placed."""

    def __init__(self, archive: zipfile.ZipFile, targets: dict[str, str], *, cap: int, most: int) -> None:
        self.archive = archive
        self.targets = targets
        self.cap = cap
        self.most = most
        self.placed = 0
        self.read: dict[str, WordPicture | None] = {}

    def take(self, rid: str) -> WordPicture | None:
        name = self.targets.get(rid)
        if name is None or self.placed >= self.most:
            return None
        if name not in self.read:
            data = self._read(name)
            self.read[name] = None if data is None else WordPicture(name=name, data=data)
        picture = self.read[name]
        if picture is not None:
            self.placed += 1
        return picture

    def _read(self, name: str) -> bytes | None:
        """The part's bytes; None when it is missing, damaged or above the cap (the tables still count)."""
        try:
            info = self.archive.getinfo(name)
            if info.file_size > self.cap:
                return None
            with self.archive.open(info) as member:
                data = member.read(self.cap + 1)
        except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
            return None
        return data if len(data) <= self.cap else None
