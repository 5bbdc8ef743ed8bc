"""One bad photo is one bad photo (SPEC §6): a zip entry whose deflate stream is corrupt, or a JPEG whose
EXIF block is damaged, is that file's 无法读取, and the rest of the upload goes on. A fixed-seed fuzz
of mutated zips and EXIF blocks asserts that nothing else ever escapes."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zipfile

import pytest
from PIL import Image

from monitor.core.config import Settings
from monitor.evidence.images import PhotoRefused, describe
from monitor.evidence.photo_files import UploadRefused, read_zip

SETTINGS = Settings()
LIMITS = {"limit_bytes": SETTINGS.photo_limit_bytes, "max_pixels": SETTINGS.photo_max_pixels}


def jpeg(seed: int, colour: tuple[int, int, int] | None = None) -> bytes:
    image = Image.new("RGB", (64, 48), colour or (seed * 40 % 255, 90, 160))
    exif = image.getexif()
    exif[0x0112] = 6  # stored on its side
    exif[0x0132] = "2025:06:03 10:00:00"
    exif[0x010F] = "Apple"
    exif[0x011A] = 72.0
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def photo_zip(count: int = 3) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(count):
            archive.writestr(f"油草塘村/2025-06-03 理论宣讲/{n}.jpg", jpeg(n))
    return out.getvalue()


def with_corrupt_entry(data: bytes, index: int) -> bytes:
    """The zip with the deflate stream of one entry overwritten in its middle: its directory still agrees."""
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[index]
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    middle = start + info.compress_size // 2
    return data[:middle] + b"\xff" * 8 + data[middle + 8 :]


def test_a_corrupt_entry_is_that_photos_problem_and_the_others_are_read() -> None:
    incoming = read_zip(with_corrupt_entry(photo_zip(), 1), SETTINGS)
    assert [item.name.rsplit("/", 1)[-1] for item in incoming] == ["0.jpg", "1.jpg", "2.jpg"]
    assert incoming[1].data is None and "已损坏" in incoming[1].problem
    for item in (incoming[0], incoming[2]):
        assert item.data is not None
        assert describe(item.data, **LIMITS).taken_at == "2025-06-03 10:00:00"


def test_a_damaged_exif_block_costs_the_photo_its_metadata_not_the_upload() -> None:
    """The EXIF block rewritten around its orientation: Pillow's exif_transpose fails to write it back."""
    found = 0
    base = jpeg(0, colour=(10, 200, 30))
    start = base.index(b"Exif")
    rng = random.Random(11)
    for _ in range(1500):
        data = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(start + 6, start + 200)] = rng.randrange(256)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                facts = describe(bytes(data), **LIMITS)
        except PhotoRefused:
            continue
        found += 1
        assert facts.thumb and len(facts.phash) == 16
    assert found > 1000  # most damaged blocks still leave a readable photo


@pytest.mark.parametrize("seed", range(3))
def test_no_mutated_zip_or_image_lets_an_error_escape(seed: int) -> None:
    rng = random.Random(seed)
    base_zip, base_jpeg = photo_zip(), jpeg(seed)
    for case in range(100):
        data = bytearray(base_zip if case % 2 else base_jpeg)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                photos = [i.data for i in read_zip(bytes(data), SETTINGS)] if case % 2 else [bytes(data)]
            except UploadRefused:
                continue  # the zip's own directory is unreadable: the upload is refused in Chinese
            for photo in photos:
                if photo is None:
                    continue
                try:
                    describe(photo, **LIMITS)
                except PhotoRefused:
                    pass
