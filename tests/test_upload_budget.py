"""Limits hold per upload, not per zip (SPEC §6): entries, unpacked bytes and decoded pixels are counted
over every zip and file of one upload, the entries a zip skips (__MACOSX/) included."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.evidence.photo_files import MAX_ENTRIES, UploadRefused, read_files, read_zip
from monitor.evidence.photos import plan_photos
from tests.factories import OPERATOR
from tests.photo_factories import jpeg, load_activities, zipped


def big_png(seed: int, side: int = 4000) -> bytes:
    """A picture cheap to send and dear to decode: side × side pixels of one colour."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (seed * 30 % 255, 80, 120)).save(out, "PNG")
    return out.getvalue()


def test_three_zips_share_one_upload_limit() -> None:
    settings = Settings(photo_upload_limit_mb=1)
    part = zipped({f"{n}.jpg": b"\xff\xd8\xff" + bytes(400_000) for n in range(1)})
    assert len(read_files([("a.zip", part), ("b.zip", part)], settings)) == 2  # 800 KB unpacked
    with pytest.raises(UploadRefused, match="超过上限"):
        read_files([("a.zip", part), ("b.zip", part), ("c.zip", part)], settings)


def test_entries_a_zip_skips_still_count() -> None:
    names = {f"__MACOSX/._{n}.jpg": b"" for n in range(MAX_ENTRIES)} | {"1.jpg": jpeg(1)}
    with pytest.raises(UploadRefused, match="过多"):
        read_zip(zipped(names), Settings())


def test_a_zip_may_not_inflate_past_the_limit_it_states() -> None:
    settings = Settings(photo_upload_limit_mb=1)
    with pytest.raises(UploadRefused, match="超过上限（1 MB）"):
        read_zip(zipped({"a.jpg": b"\xff\xd8\xff" + bytes(1_500_000)}), settings)


def test_decoded_pixels_are_bounded_per_upload(session: Session, settings: Settings) -> None:
    load_activities(session, settings)
    tight = dataclasses.replace(settings, photo_upload_max_pixels=50_000_000)  # three 16-megapixel PNGs
    entries = {f"油草塘村/2025-06-03 理论宣讲/{n}.png": big_png(n) for n in range(6)}
    data = zipped(entries)
    assert len(data) < 2_000_000
    plan = plan_photos(session=session, actor=OPERATOR, settings=tight, incoming=read_zip(data, tight))
    read = [item for item in plan.items if item.facts is not None]
    over = [item for item in plan.items if "亿像素" in item.message]
    assert (len(read), len(over)) == (3, 3)
    assert all(item.status == "error" for item in over)


def test_a_damaged_zip_among_several_files_is_that_files_problem() -> None:
    """One bad file is one bad file (SPEC §6): the photos beside a zip that cannot be opened are read."""
    settings = Settings()
    broken = b"PK\x03\x04 not really a zip"
    incoming = read_files(
        [("现场1.jpg", b"\xff\xd8 one"), ("补充照片.zip", broken), ("现场2.jpg", b"\xff\xd8 two")], settings
    )
    assert [(item.name, item.data is None) for item in incoming] == [
        ("现场1.jpg", False),
        ("补充照片.zip", True),
        ("现场2.jpg", False),
    ]
    assert incoming[1].problem == "不是有效的 zip 压缩包，或压缩包已损坏。"
