"""Synthetic activity photos for the demo district, drawn with Pillow: nothing is downloaded.

Each picture is a scene — a square, a meeting room, a village lane, a stage, a field — with a
red banner carrying the activity's title, people-like figures and a few buildings or trees, all
placed by a random generator seeded from the caller's seed: the same seed gives the same bytes
(on one machine: the banner font is whatever CJK font the system has). Compositions differ enough
that two activities' photos are not near-duplicates under a perceptual hash; the demo plants the
ones that are. The JPEG carries an EXIF DateTimeOriginal, as a phone's photo does.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = (480, 360)  # small: a month of photos is drawn, read and stored while the demo loads
_EXIF_IFD = 0x8769
_DATE_TIME_ORIGINAL = 0x9003
_MAKE, _MODEL = 0x010F, 0x0110
_FONT_PLACES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_FONT_PATTERNS = ("*CJK*", "*cjk*", "wqy*", "*Fallback*", "*Hei*", "*hei*")

Color = tuple[int, int, int]


@cache
def cjk_font_path() -> str | None:
    """A font file that draws Chinese, from the usual places; None when the system has none."""
    for place in _FONT_PLACES:
        if Path(place).is_file():
            return place
    for root in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"):
        if root.is_dir():
            for pattern in _FONT_PATTERNS:
                found = sorted(p for p in root.rglob(pattern) if p.suffix.lower() in {".ttc", ".ttf", ".otf"})
                if found:
                    return str(found[0])
    return None


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font_path()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)  # draws no Chinese, but the scene stays a scene


def _shade(color: Color, factor: float) -> Color:
    r, g, b = (max(0, min(255, round(c * factor))) for c in color)
    return (r, g, b)


def _random_color(rng: random.Random, low: int = 0, high: int = 255) -> Color:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _gradient(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], top: Color, bottom: Color) -> None:
    x0, y0, x1, y1 = box
    height = max(y1 - y0, 1)
    for step in range(0, height, 4):
        t = step / height
        color = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.rectangle((x0, y0 + step, x1, min(y0 + step + 4, y1)), fill=color)  # type: ignore[arg-type]


def _person(draw: ImageDraw.ImageDraw, x: int, foot: int, height: int, rng: random.Random) -> None:
    """A standing figure: head, body and legs, in clothes of a random colour."""
    head = max(height // 6, 2)
    body = _random_color(rng, 20, 235)
    skin = rng.choice([(234, 192, 160), (214, 170, 130), (190, 150, 110)])
    hair = rng.choice([(20, 20, 20), (60, 40, 30), (120, 120, 120)])
    top = foot - height
    draw.rectangle((x - head // 2, foot - height // 3, x + head // 2, foot), fill=_shade(body, 0.5))
    draw.rounded_rectangle(
        (x - head, top + head * 2 - 2, x + head, foot - height // 3 + 2), radius=max(head // 2, 1), fill=body
    )
    draw.ellipse((x - head, top, x + head, top + head * 2), fill=skin)
    draw.chord((x - head, top, x + head, top + head * 2), 180, 360, fill=hair)


def _crowd(
    draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int], count: int, tall: int
) -> None:
    """People standing about in `box`, the nearest `tall` pixels high and the far ones smaller."""
    x0, y0, x1, y1 = box
    people = sorted((rng.randint(y0, y1), rng.randint(x0, x1)) for _ in range(count))
    for foot, x in people:  # far ones first, so near ones stand in front
        scale = 0.45 + 0.9 * (foot - y0) / max(y1 - y0, 1)
        _person(draw, x, foot, round(rng.uniform(0.65, 1.0) * tall * scale), rng)


def _building(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, ground: int, width: int, height: int) -> None:
    wall = _random_color(rng, 90, 245)
    draw.rectangle((x, ground - height, x + width, ground), fill=wall)
    roof = rng.choice([(150, 40, 40), (70, 70, 80), (40, 90, 140), _shade(wall, 0.6)])
    eave = max(width // 20, 2)
    if rng.random() < 0.5:
        ridge = (x + width // 2, ground - height - width // 3)
        draw.polygon([(x - eave, ground - height), ridge, (x + width + eave, ground - height)], fill=roof)
    else:
        draw.rectangle((x - eave, ground - height - eave * 2, x + width + eave, ground - height), fill=roof)
    glass = _shade(wall, rng.uniform(0.3, 0.7))
    step_x, step_y = max(width // rng.randint(4, 8), 6), max(height // rng.randint(3, 7), 8)
    for wx in range(x + step_x // 2, x + width - step_x // 2, step_x):
        for wy in range(ground - height + step_y // 2, ground - step_y, step_y):
            draw.rectangle((wx, wy, wx + step_x // 2, wy + step_y // 2), fill=glass)


def _tree(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, ground: int, height: int) -> None:
    draw.rectangle((x - height // 16, ground - height // 2, x + height // 16, ground), fill=(100, 70, 40))
    leaf = (rng.randint(20, 80), rng.randint(90, 170), rng.randint(20, 80))
    radius = height // 3
    draw.ellipse((x - radius, ground - height, x + radius, ground - height + radius * 2), fill=leaf)


def _banner(image: Image.Image, rng: random.Random, text: str, box: tuple[int, int, int, int]) -> None:
    """A red banner with the title in white or yellow, as hung at every activity."""
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    red = rng.choice([(200, 20, 30), (180, 10, 20), (220, 40, 40), (160, 0, 20)])
    draw.rectangle(box, fill=red)
    ink = rng.choice([(255, 255, 255), (255, 230, 80)])
    size = max(10, (y1 - y0) * 3 // 4)
    length = draw.textlength(text, font=_font(size))
    if length > x1 - x0 - size:  # too long for the banner: smaller, in proportion
        size = max(10, int(size * (x1 - x0) / (length + size)))
    font = _font(size)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=font, fill=ink, anchor="mm")


class _Layout:
    """Lengths given for a 640 × 480 picture, scaled to the one drawn."""

    def __init__(self, image: Image.Image) -> None:
        self.w, self.h = image.size
        self.k = self.w / 640

    def __call__(self, length: float) -> int:
        return round(length * self.k)


def _square(image: Image.Image, rng: random.Random, title: str) -> None:
    """文化广场: sky, buildings behind, a banner on a frame, a crowd."""
    u = _Layout(image)
    w, h = u.w, u.h
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(h // 4, h * 3 // 5)
    _gradient(draw, (0, 0, w, horizon), _random_color(rng, 60, 200), _random_color(rng, 150, 255))
    _gradient(draw, (0, horizon, w, h), _random_color(rng, 90, 200), _random_color(rng, 30, 140))
    x = rng.randint(u(-60), 0)
    while x < w:
        width = rng.randint(u(60), u(180))
        _building(draw, rng, x, horizon, width, rng.randint(u(40), horizon))
        x += width + rng.randint(0, u(90))
    left = rng.randint(0, w // 3)
    right = rng.randint(left + w // 3, w)
    top = rng.randint(u(20), max(horizon - u(40), u(21)))
    draw.rectangle((left, top, left + u(6), h), fill=(80, 80, 80))
    draw.rectangle((right - u(6), top, right, h), fill=(80, 80, 80))
    _banner(image, rng, title, (left, top, right, top + rng.randint(u(36), u(60))))
    _crowd(draw, rng, (0, horizon + u(20), w, h + u(30)), rng.randint(6, 22), u(110))


def _room(image: Image.Image, rng: random.Random, title: str) -> None:
    """会议室 or 活动室: a wall with a banner and a screen, tables, people seated in rows."""
    u = _Layout(image)
    w, h = u.w, u.h
    draw = ImageDraw.Draw(image)
    floor = rng.randint(h // 3, h * 2 // 3)
    draw.rectangle((0, 0, w, floor), fill=_random_color(rng, 120, 250))
    draw.rectangle((0, floor, w, h), fill=_random_color(rng, 40, 180))
    top = rng.randint(u(4), u(40))
    box = (rng.randint(0, u(80)), top, w - rng.randint(0, u(80)), top + rng.randint(u(34), u(54)))
    _banner(image, rng, title, box)
    if rng.random() < 0.7:
        sx = rng.randint(0, w - u(200))
        bottom = min(top + u(70) + rng.randint(u(80), u(150)), floor)
        draw.rectangle((sx, top + u(70), sx + rng.randint(u(140), u(260)), bottom), fill=_random_color(rng))
    rows = rng.randint(1, 4)
    for row in range(rows):
        y = floor + (h - floor) * (row + 1) // (rows + 1)
        for x in range(rng.randint(u(10), u(60)), w, rng.randint(u(50), u(110))):
            _person(draw, x, y, rng.randint(u(60), u(100)), rng)
        draw.rectangle((0, y - u(12), w, y + u(8)), fill=_random_color(rng, 60, 230))


def _village(image: Image.Image, rng: random.Random, title: str) -> None:
    """屋场 or 村部: hills, houses, trees, a small group by a banner on the wall."""
    u = _Layout(image)
    w, h = u.w, u.h
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(h // 5, h // 2)
    _gradient(draw, (0, 0, w, horizon), _random_color(rng, 100, 230), _random_color(rng, 180, 255))
    peaks = [(x, horizon - rng.randint(0, u(120))) for x in range(0, w + u(80), u(80))]
    draw.polygon([(0, horizon), *peaks, (w, horizon)], fill=_random_color(rng, 30, 140))
    _gradient(draw, (0, horizon, w, h), _random_color(rng, 60, 170), _random_color(rng, 100, 220))
    for _ in range(rng.randint(1, 3)):
        width = rng.randint(u(120), u(260))
        x = rng.randint(u(-40), w - u(60))
        ground = rng.randint(horizon + u(40), h - u(60))
        _building(draw, rng, x, ground, width, rng.randint(u(80), u(200)))
    for _ in range(rng.randint(2, 7)):
        _tree(draw, rng, rng.randint(0, w), rng.randint(horizon + u(10), h), rng.randint(u(60), u(200)))
    bx = rng.randint(0, w // 2)
    by = rng.randint(horizon, h - u(140))
    _banner(image, rng, title, (bx, by, min(w, bx + rng.randint(u(260), u(520))), by + rng.randint(u(30), u(50))))
    _crowd(draw, rng, (0, by + u(90), w, h + u(20)), rng.randint(4, 16), u(110))


def _stage(image: Image.Image, rng: random.Random, title: str) -> None:
    """送戏下乡 or 文艺汇演: a dark hall or night square, a lit stage, performers, an audience."""
    u = _Layout(image)
    w, h = u.w, u.h
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w, h), fill=_random_color(rng, 0, 70))
    edge = rng.randint(h // 2, h * 3 // 4)
    left = rng.randint(0, w // 2)
    right = rng.randint(left + w // 3, w)
    draw.rectangle((left, rng.randint(u(40), u(160)), right, edge), fill=_random_color(rng, 100, 255))
    for _ in range(rng.randint(2, 6)):
        cx = rng.randint(left, right)
        beam = [(cx, 0), (cx - rng.randint(u(30), u(90)), edge), (cx + rng.randint(u(30), u(90)), edge)]
        draw.polygon(beam, fill=_random_color(rng, 180, 255))
    _banner(image, rng, title, (left, rng.randint(0, u(36)), right, rng.randint(u(56), u(84))))
    for _ in range(rng.randint(2, 7)):
        x = rng.randint(left + u(20), right - u(20))
        _person(draw, x, edge - rng.randint(0, u(20)), rng.randint(u(110), u(170)), rng)
    draw.rectangle((0, edge, w, h), fill=_random_color(rng, 10, 90))
    _crowd(draw, rng, (0, edge + u(40), w, h + u(60)), rng.randint(8, 26), u(110))


def _field(image: Image.Image, rng: random.Random, title: str) -> None:
    """田间 or 河边: furrows or water, a path, a few people with a banner held up."""
    u = _Layout(image)
    w, h = u.w, u.h
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(h // 6, h // 2)
    _gradient(draw, (0, 0, w, horizon), _random_color(rng, 120, 255), _random_color(rng, 60, 200))
    base = _random_color(rng, 40, 200)
    stripes = rng.randint(4, 14)
    for i in range(stripes):
        y0 = horizon + (h - horizon) * i // stripes
        y1 = horizon + (h - horizon) * (i + 1) // stripes
        draw.rectangle((0, y0, w, y1), fill=_shade(base, 0.7 + 0.6 * (i % 2)))
    px = rng.randint(0, w)
    far, near = u(10), u(120)
    path = [(px - far, horizon), (px + far, horizon), (rng.randint(0, w) + near, h), (rng.randint(0, w) - near, h)]
    draw.polygon(path, fill=_random_color(rng, 150, 230))
    for _ in range(rng.randint(0, 5)):
        _tree(draw, rng, rng.randint(0, w), horizon + rng.randint(0, u(40)), rng.randint(u(40), u(140)))
    bx = rng.randint(0, w // 3)
    by = rng.randint(horizon + u(20), h - u(160))
    _banner(image, rng, title, (bx, by, min(w, bx + rng.randint(u(240), u(480))), by + rng.randint(u(30), u(46))))
    _crowd(draw, rng, (bx, by + u(120), min(w, bx + u(480)), h + u(20)), rng.randint(3, 10), u(110))


SCENES = (_square, _room, _village, _stage, _field)


def _light(image: Image.Image, rng: random.Random) -> Image.Image:
    """Uneven light, as a phone catches it: a smooth random shade laid over the scene.

    It also keeps two scenes of the same kind apart under a perceptual hash, which looks at
    little more than where a picture is bright and where it is dark.
    """
    grid = Image.new("L", (4, 3))
    grid.putdata([rng.randint(80, 255) for _ in range(12)])
    shade = grid.resize(image.size, Image.Resampling.BICUBIC)
    lit = Image.new("RGB", image.size)
    lit.paste(image, mask=shade)  # image × shade / 255
    return lit


def draw_photo(*, seed: int, title: str, taken_at: datetime, size: tuple[int, int] = SIZE) -> bytes:
    """A JPEG of an activity, the same bytes for the same seed, title and time."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (200, 200, 200))
    rng.choice(SCENES)(image, rng, title)
    image = _light(image, rng)
    exif = Image.Exif()
    exif[_MAKE] = rng.choice(["HUAWEI", "Xiaomi", "OPPO", "vivo", "Apple"])
    exif[_MODEL] = "示例手机"
    exif.get_ifd(_EXIF_IFD)[_DATE_TIME_ORIGINAL] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=rng.randint(70, 85), exif=exif)
    return out.getvalue()
