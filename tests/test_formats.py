"""A file that holds no ledger says what it is (SPEC §7 round two): a Word 97-2003 .doc, an ODT, a
presentation, a PDF or a photo is never called a damaged Excel file."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from factories import OPERATOR, TODAY, load_roster
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.ingest.importer import import_activities

FREE, END, FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def word_97_document() -> bytes:
    """An OLE2 compound file with one 4 KiB stream named WordDocument and no Workbook, as Word 97-2003 saves."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, END, 0, END, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([FREE] * 108))
    fat = [FAT, END, *range(3, 10), END] + [FREE] * (128 - 10)
    directory = bytearray(512)

    def entry(n: int, name: str, kind: int, start: int, size: int, child: int) -> None:
        encoded = (name + "\0").encode("utf-16-le")
        base = n * 128
        directory[base : base + len(encoded)] = encoded
        struct.pack_into("<HBB", directory, base + 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", directory, base + 0x44, FREE, FREE, child)
        struct.pack_into("<IQ", directory, base + 0x74, start, size)

    entry(0, "Root Entry", 5, END, 0, 1)
    entry(1, "WordDocument", 2, 2, 4096, FREE)
    return bytes(header) + struct.pack("<128I", *fat) + bytes(directory) + b"\x00" * 4096


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("活动记录.doc", word_97_document(), "Word 97-2003 文档"),
        ("活动记录.odt", zipped({"mimetype": b"application/vnd.oasis.opendocument.text"}), "ODT 文字文档"),
        ("汇报.pptx", zipped({"ppt/presentation.xml": b"<p/>", "[Content_Types].xml": b"<Types/>"}), "演示文稿"),
        ("台账.pdf", b"%PDF-1.7\n" + b"\x00" * 64, "PDF 文件"),
        ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "图片"),
    ],
)
def test_a_file_that_is_no_ledger_says_what_it_is(
    session: Session, settings: Settings, name: str, data: bytes, says: str
) -> None:
    load_roster(session, settings)
    result = import_activities(
        session=session, actor=OPERATOR, data=data, file_name=name, settings=settings, today=TODAY
    )
    assert result.file_error is not None and result.file_error.code == "unknown_format", result.file_error
    assert says in result.file_error.message
    assert "Excel 文件已损坏" not in result.file_error.message
