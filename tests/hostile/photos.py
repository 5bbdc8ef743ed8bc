"""Hostile photo uploads as data: `build(folder)` writes each zip and returns {file name: Expected}.

Each is a zip a town office could send (or a hostile insider could make) for 油草塘村's activity
of 2025-06-03 (理论宣讲) and 2025-06-05: a corrupt deflate stream in one entry, a directory
claiming a zip version no tool writes, an EXIF block with an altered tag, a PNG cheap to send and
dear to decode, more entries than an upload may hold (all but one __MACOSX/ entries), and a zip
whose directory says it inflates far past the upload limit. One bad photo is that photo's
无法读取; a zip that cannot be read at all, or breaks a limit of the upload, is refused whole.

    python tests/hostile/photos.py FOLDER      # writes the corpus and prints the table
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from monitor.evidence.photo_files import MAX_ENTRIES  # noqa: E402
from tests.photo_factories import jpeg, zipped  # noqa: E402

FIRST = "油草塘村/2025-06-03 理论宣讲"


@dataclass(frozen=True)
class Expected:
    exit_code: int  # 0 every photo stored, 1 some photos not, 2 the upload refused whole
    stored: int  # photos linked to activities afterwards
    bad: tuple[str, ...] = ()  # entries each reported on their own (无法读取 with a reason)


def corrupt_deflate() -> bytes:
    """Two photos; the second's deflate stream overwritten in its middle, its directory intact."""
    data = bytearray(zipped({f"{FIRST}/1.jpg": jpeg(1, (640, 480)), f"{FIRST}/2.jpg": jpeg(2, (640, 480))}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo(f"{FIRST}/2.jpg")
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = bytes(range(64))
    return bytes(data)


def version_64() -> bytes:
    """The central directory says "version needed to extract: 6.4" for its only entry."""
    data = bytearray(zipped({f"{FIRST}/1.jpg": jpeg(1)}))
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = struct.pack("<H", 64)
    return bytes(data)


def altered_exif() -> bytes:
    """A phone photo (on its side, with a camera time) whose EXIF has one altered byte: the IFD entry
    now makes Pillow's exif_transpose raise TypeError, as a real damaged photo did."""
    image = Image.new("RGB", (64, 48), (10, 200, 30))
    exif = image.getexif()
    exif[0x0112], exif[0x0132], exif[0x010F], exif[0x011A] = 6, "2025:06:03 10:00:00", "Apple", 72.0
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = bytearray(out.getvalue())
    data[data.index(b"Exif") + 17] = 26
    with Image.open(io.BytesIO(bytes(data))) as damaged:
        try:
            ImageOps.exif_transpose(damaged)
        except TypeError:
            pass
        else:
            raise AssertionError("the altered byte no longer damages the EXIF block: pick another")
    return zipped({f"{FIRST}/1.jpg": bytes(data), "油草塘村/2025-06-05 志愿服务/1.jpg": jpeg(4)})


def pixel_bomb() -> bytes:
    """An 8000 × 7999 PNG of one colour: about 250 KB to send, 64 megapixels to decode."""
    out = io.BytesIO()
    Image.new("RGB", (8000, 7999), (200, 30, 30)).save(out, "PNG", optimize=True)
    return zipped({f"{FIRST}/大图.png": out.getvalue(), "油草塘村/2025-06-05 志愿服务/1.jpg": jpeg(5)})


def many_entries() -> bytes:
    """One photo and MAX_ENTRIES entries under __MACOSX/: skipped entries count towards the limit too."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{FIRST}/1.jpg", jpeg(6))
        for number in range(MAX_ENTRIES):
            archive.writestr(f"__MACOSX/._{number}", b"")
    return out.getvalue()


def inflates_past_the_limit() -> bytes:
    """Two entries of 105 MB of zeros each: a 200 KB zip whose directory says 210 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in (f"{FIRST}/1.jpg", f"{FIRST}/2.jpg"):
            with archive.open(name, "w", force_zip64=True) as entry:
                block = bytes(1024 * 1024)
                for _ in range(105):
                    entry.write(block)
    return out.getvalue()


FILES = {
    "损坏的压缩数据.zip": (corrupt_deflate, Expected(1, 1, (f"{FIRST}/2.jpg",))),
    "版本6.4.zip": (version_64, Expected(2, 0)),
    "EXIF被改.zip": (altered_exif, Expected(0, 2)),
    "像素炸弹.zip": (pixel_bomb, Expected(0, 2)),
    "多出一个文件.zip": (many_entries, Expected(2, 0)),
    "解压210MB.zip": (inflates_past_the_limit, Expected(2, 0)),
}


def build(folder: Path) -> dict[str, Expected]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (make, _) in FILES.items():
        (folder / name).write_bytes(make())
    return {name: expected for name, (_, expected) in FILES.items()}


if __name__ == "__main__":
    for name, expected in build(Path(sys.argv[1])).items():
        print(f"{name:24} {(Path(sys.argv[1]) / name).stat().st_size:>12,} bytes  {expected}")
