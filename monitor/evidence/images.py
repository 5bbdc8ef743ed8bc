"""One photo's bytes judged and described: format, size in pixels, EXIF time, perceptual hash, thumbnail.

Everything is bounded before decoding: the byte size, then the pixel count from the header, so
neither a 500 MB file nor a small file that claims 100,000 × 100,000 pixels is ever decoded.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime

import imagehash
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from monitor.core.errors import Refusal

pillow_heif.register_heif_opener()

THUMB_SIZE = (480, 480)
VIEW_SIZE = (1600, 1600)
_EXIF_IFD = 0x8769
_DATE_TIME_ORIGINAL = 0x9003
_DATE_TIME = 0x0132
_ORIENTATION = 0x0112


class PhotoRefused(Refusal, ValueError):
    """A file that is not a photo this product takes; the message says why, in Chinese."""

    code = "bad_image"


@dataclass(frozen=True)
class PhotoFacts:
    sha256: str
    kind: str  # JPEG | PNG | HEIC
    size: int
    width: int
    height: int
    phash: str  # 16 hex digits
    taken_at: str  # "YYYY-MM-DD HH:MM:SS" from EXIF, or ""
    thumb: bytes  # JPEG, orientation applied


def sniff(data: bytes) -> str | None:
    """JPEG, PNG or HEIC from the first bytes; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}:
        return "HEIC"
    return None


def _taken_at(image: Image.Image) -> str:
    exif = image.getexif()
    raw = exif.get_ifd(_EXIF_IFD).get(_DATE_TIME_ORIGINAL) or exif.get(_DATE_TIME)
    if not isinstance(raw, str):
        return ""
    try:
        return datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ""


def _metadata(image: Image.Image) -> tuple[str, bool, Image.Image]:
    """(camera time, stored on its side, the picture upright). EXIF is whatever a camera, an editor or
    anyone wrote: a tag that cannot be read costs the photo its time or its turn, never the upload."""
    try:
        taken_at = _taken_at(image)
    except Exception:  # noqa: BLE001 - any reader of a damaged EXIF block
        taken_at = ""
    try:
        turned = image.getexif().get(_ORIENTATION) in {5, 6, 7, 8}
        upright = ImageOps.exif_transpose(image) or image
    except Exception:  # noqa: BLE001 - as above
        turned, upright = False, image
    return taken_at, turned, upright


def _open(data: bytes, *, max_pixels: int, draft: tuple[int, int] | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """Open and decode, with the full size; `draft` lets a JPEG decode straight at a fraction of its size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                raise PhotoRefused(
                    f"照片像素过大（{image.width}×{image.height}），请压缩到 {max_pixels // 1_000_000} 百万像素以内。"
                )
            full = image.size
            if draft and image.format == "JPEG":
                image.draft("RGB", draft)
            image.load()
            if draft:
                image = _reduced(image, draft)
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRefused("照片像素过大，无法打开。") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PhotoRefused("照片文件已损坏或不完整，无法打开。") from exc
    return image, full


def _reduced(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """A PNG or HEIC far larger than `box` shrunk by a whole factor at once (a JPEG's draft did this
    while decoding): the upright copy, the RGB copy and the hash then work on a few megapixels, not
    on sixty-four. The metadata goes with it."""
    factor = min(image.width // box[0], image.height // box[1])
    if factor < 2:
        return image
    try:
        smaller = image.reduce(factor)
    except ValueError:  # a mode reduce does not take (a palette): kept as decoded
        return image
    smaller.info = dict(image.info)
    image.close()
    return smaller


@dataclass
class PixelBudget:
    """The pixels one upload may have decoded, counted from each photo's header before it is decoded."""

    limit: int
    used: int = 0

    def refuse(self, data: bytes) -> str:
        """Why this photo is not decoded ("" when it fits), the budget taken when it does."""
        try:
            with Image.open(io.BytesIO(data)) as image:
                pixels = image.width * image.height
        except Exception:  # noqa: BLE001 - an unreadable header: describe says what is wrong with it
            return ""
        if self.used + pixels > self.limit:
            return (
                f"本次上传的照片合计超过 {self.limit // 100_000_000} 亿像素的上限，这张未读取：请把其余照片另行上传，"
                "或先压缩照片。"
            )
        self.used += pixels
        return ""


def describe(data: bytes, *, limit_bytes: int, max_pixels: int) -> PhotoFacts:
    """Judge one photo and describe it; PhotoRefused says why it cannot be taken."""
    if len(data) > limit_bytes:
        raise PhotoRefused(f"照片大小 {len(data) / 1048576:.1f} MB，超过单张 {limit_bytes // 1048576} MB 的上限。")
    kind = sniff(data)
    if kind is None:
        raise PhotoRefused("不是 JPEG、PNG 或 HEIC 格式的照片。")
    image, full = _open(data, max_pixels=max_pixels, draft=(1024, 1024))
    taken_at, turned, upright = _metadata(image)
    width, height = (full[1], full[0]) if turned else full
    try:
        rgb = upright.convert("RGB")
        phash = str(imagehash.phash(rgb))
        rgb.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=80, optimize=True)
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise PhotoRefused("照片文件已损坏或不完整，无法打开。") from exc
    return PhotoFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        kind=kind,
        size=len(data),
        width=width,
        height=height,
        phash=phash,
        taken_at=taken_at,
        thumb=out.getvalue(),
    )


def view_jpeg(data: bytes, *, max_pixels: int) -> bytes:
    """A browser-friendly JPEG of a stored original (HEIC included), upright and at most 1600 px."""
    image, _ = _open(data, max_pixels=max_pixels, draft=VIEW_SIZE)
    rgb = (ImageOps.exif_transpose(image) or image).convert("RGB")
    rgb.thumbnail(VIEW_SIZE)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=85)
    return out.getvalue()


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
