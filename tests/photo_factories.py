"""Photos as phones and office PCs send them, drawn in memory: JPEG (with EXIF), PNG, HEIC, zips with folders."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

import pillow_heif
from PIL import Image, ImageDraw
from sqlmodel import Session, select

from monitor.core.models import Activity
from monitor.ingest.importer import import_activities
from tests.factories import OPERATOR, TODAY, activities_csv, load_roster

# The activities the photo tests match against, on the small roster of tests/factories.py.
ACTIVITIES = [
    ("NJK-YCT", "2025-06-03", "理论宣讲进村"),
    ("NJK-YCT", "2025-06-05", "志愿服务"),
    ("NJK-YCT", "2025-06-05", "文艺演出"),
    ("NJK-HP", "2025-06-03", "和平村宣讲"),
    ("LX-HP", "2025-06-03", "兰溪和平村宣讲"),
]


def load_activities(session: Session, settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The small roster and ACTIVITIES stored in one batch; their ids by title."""
    load_roster(session, settings)
    result = import_activities(
        session=session,
        actor=OPERATOR,
        settings=settings,
        file_name="六月台账.csv",
        data=activities_csv([[code, "", "", day, title, "20"] for code, day, title in ACTIVITIES]),
        today=TODAY,
    )
    assert (result.errors, result.imported) == ([], len(ACTIVITIES))
    return {a.title: int(a.id) for a in session.exec(select(Activity)).all() if a.id is not None}


def _drawn(seed: int, size: tuple[int, int]) -> Image.Image:
    """A picture that differs from seed to seed (so each has its own SHA-256)."""
    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    draw = ImageDraw.Draw(image)
    draw.rectangle((seed % 20, seed % 15, size[0] // 2, size[1] // 2), fill=(255 - seed % 256, 40, 90))
    draw.text((4, 4), str(seed), fill=(255, 255, 255))
    return image


def jpeg(seed: int = 1, size: tuple[int, int] = (96, 64), exif: Mapping[int, object] | None = None) -> bytes:
    out = io.BytesIO()
    tags = Image.Exif()
    for tag, value in (exif or {}).items():
        tags[tag] = value
    _drawn(seed, size).save(out, "JPEG", quality=85, exif=tags.tobytes())
    return out.getvalue()


def png(seed: int = 1, size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    _drawn(seed, size).save(out, "PNG")
    return out.getvalue()


def heic(seed: int = 1, size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(_drawn(seed, size)).save(out, quality=60)
    return out.getvalue()


def zipped(entries: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> bytes:
    """A zip as Windows Explorer or a phone app makes it: folders in the names, deflated."""
    items = entries.items() if isinstance(entries, Mapping) else entries
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return out.getvalue()
