"""The demo district's evidence: photos of its last month, problems planted for every signal, a few decisions.

The plants change dates and titles of activities the district already has, and add activities
to one station only; none of them moves a unit-month across its quota. What is planted where is
listed in monitor/demo.py and in PLANTED.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from PIL import Image, ImageEnhance
from sqlalchemy import insert
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from monitor.core.calendar import ZONE
from monitor.core.config import Settings
from monitor.core.models import Activity, Feedback, Photo, Review, Unit
from monitor.core.normalize import title_key
from monitor.demo.photos import draw_photo
from monitor.evidence.images import describe
from monitor.evidence.photo_links import keep
from monitor.evidence.photo_store import PhotoStore

SHANGHAI = ZONE
MONTH = "2025-12"  # the month with photos and plants: a month of photos costs about ten seconds of loading
PHOTOS_PER_ACTIVITY = ([1, 2, 3], [6, 3, 1])  # how many, and how often

REUSED = ("NJK-007", "LX-012")  # the second's first activity carries the first's first photo
NEAR = "QJH-009"  # its second activity carries its first activity's photo, cropped and recompressed
NO_PHOTO = ("OJC-009", "CSP-009")  # their first activity has no photo
PHOTO_DATE = "QJH-001"  # its first activity's photo was taken PHOTO_DATE_DAYS days before it
PHOTO_DATE_DAYS = 47
COPIED_TITLE = "12月学习贯彻党的二十届四中全会精神宣讲"
COPIED_DAY = date(2025, 12, 12)
COPIED_STATIONS = tuple([f"YJQ-{n:03d}" for n in range(1, 15)] + [f"HLQ-{n:03d}" for n in range(1, 7)])
ONE_DAY = ("OJC-014", date(2025, 12, 30))  # every activity of its month on one day
LAST_DAYS = ("HS-S", [date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31)])  # its month in the last 3 days
OUTLIER = ("CSP-010", 7)  # this many activities more than the generator gave it
REPEATED = ("LX-003", "农家书屋读书会", ("2025-10", "2025-11", "2025-12"))  # first activity of each month
# After its first activity was 不予认定 for its photo, PHOTO_DATE's second activity is given that photo.
RESUBMITTED = PHOTO_DATE

PLANTED: dict[str, set[tuple[str, str]]] = {
    # QJH-001's rejected photo, given again to its next activity (RESUBMITTED), is reused there too.
    "photo_reused": {(REUSED[0], MONTH), (REUSED[1], MONTH), (NEAR, MONTH), (RESUBMITTED, MONTH)},
    "no_photo": {(code, MONTH) for code in NO_PHOTO},
    # LX-012's picture keeps the date of NJK-007's activity, 8 days before its own.
    "photo_date": {(PHOTO_DATE, MONTH), (REUSED[1], MONTH)},
    "copied_title": {(code, MONTH) for code in COPIED_STATIONS},
    "month_end_bunching": {(ONE_DAY[0], MONTH), (LAST_DAYS[0], MONTH)},
    "count_outlier": {(OUTLIER[0], MONTH)},
    "repeated_title": {(REPEATED[0], REPEATED[2][-1])},
    "resubmitted": {(RESUBMITTED, MONTH)},
}

REVIEWER = "reviewer"  # the demo's accounts (monitor.demo.district.DEMO_ACCOUNTS)
RECOGNISED = ("NJK-S", "NJK-002", "NJK-003")  # every activity of their month 认定
DECIDED_AT = datetime(2026, 1, 7, 9, 30, tzinfo=SHANGHAI)
REPLY = ("LX-012", "lx", "该照片误传，已补充本次活动的现场照片，请复核。")
REPLIED_AT = datetime(2026, 1, 8, 16, 20, tzinfo=SHANGHAI)

Row = dict[str, object]
MakeRows = Callable[[str, str, int, random.Random], list[Row]]


class UploadLike(Protocol):
    month: str
    rows: list[Row]


def _rows_of(uploads: Sequence[UploadLike], code: str, month: str) -> list[Row]:
    found = [row for upload in uploads if upload.month == month for row in upload.rows if row["code"] == code]
    return sorted(found, key=lambda row: (row["date"], row["title_key"]))  # type: ignore[return-value]


def _retitle(row: Row, title: str) -> None:
    row["title"], row["title_key"] = title, title_key(title)


def plant_uploads(uploads: Sequence[UploadLike], make_rows: MakeRows, rng: random.Random) -> None:
    """Change the district's activities in place so that every signal without photos shows once or twice."""
    for code in COPIED_STATIONS:
        rows = _rows_of(uploads, code, MONTH)
        on_day = [row for row in rows if row["date"] == COPIED_DAY]
        row = on_day[0] if on_day else rows[0]
        row["date"] = COPIED_DAY
        _retitle(row, COPIED_TITLE)
    code, day = ONE_DAY
    rows = _rows_of(uploads, code, MONTH)
    assert len({row["title_key"] for row in rows}) == len(rows) >= 2
    for row in rows:
        row["date"] = day
    code, days = LAST_DAYS
    rows = _rows_of(uploads, code, MONTH)
    assert len(rows) == len(days)
    for row, day in zip(rows, days, strict=True):
        row["date"] = day
    code, extra = OUTLIER
    upload = next(u for u in uploads if u.month == MONTH and any(row["code"] == code for row in u.rows))
    taken = {row["date"] for row in _rows_of(uploads, code, MONTH)}
    added = make_rows(code, MONTH, extra, rng)
    free = sorted(set(rng.sample([d for d in range(1, 29) if date(2025, 12, d) not in taken], extra)))
    for row, number in zip(added, free, strict=True):
        row["date"] = date(2025, 12, number)
    upload.rows.extend(added)
    code, title, months = REPEATED
    for month in months:
        _retitle(_rows_of(uploads, code, month)[0], title)


@dataclass
class _Activity:
    id: int
    code: str
    town: str
    short_name: str
    day: date
    title: str
    stored_at: datetime


@dataclass
class _Picture:
    activity: _Activity
    data: bytes
    taken_at: datetime
    by: str
    at: datetime


def _read_activities(session: Session) -> list[_Activity]:
    statement = (
        core_select(
            col(Activity.id),
            col(Unit.code),
            col(Unit.town),
            col(Unit.short_name),
            col(Activity.date),
            col(Activity.title),
            col(Activity.stored_at),
        )
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .where(col(Activity.month) == MONTH)
        .order_by(col(Unit.code), col(Activity.date), col(Activity.title_key))
    )
    return [_Activity(int(i), c, t, s, d, title, at) for i, c, t, s, d, title, at in session.execute(statement).all()]


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59)))


def near_copy(data: bytes, *, taken_at: datetime) -> bytes:
    """The same picture sent again: a few pixels cropped off, a little brighter, saved anew."""
    image: Image.Image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    width, height = image.size
    image = image.crop((6, 4, width - 6, height - 4)).resize((width, height))
    image = ImageEnhance.Brightness(image).enhance(1.06)
    exif.get_ifd(0x8769)[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=72, exif=exif)
    return out.getvalue()


def _by_unit(activities: list[_Activity]) -> dict[str, list[_Activity]]:
    """Each unit's activities, in date order."""
    found: dict[str, list[_Activity]] = {}
    for activity in activities:
        found.setdefault(activity.code, []).append(activity)
    return found


def _pictures(activities: list[_Activity], rng: random.Random) -> list[_Picture]:
    first = _by_unit(activities)
    pictures: list[_Picture] = []
    for activity in activities:
        lead = activity is first[activity.code][0]
        if lead and activity.code in NO_PHOTO:
            continue
        count = rng.choices(*PHOTOS_PER_ACTIVITY)[0]
        for n in range(count):
            taken = _moment(activity.day, rng)
            if lead and activity.code == PHOTO_DATE and n == 0:
                taken -= timedelta(days=PHOTO_DATE_DAYS)
            data = draw_photo(seed=rng.getrandbits(32), title=activity.title, taken_at=taken)
            pictures.append(_Picture(activity, data, taken, "示例数据", activity.stored_at))
    by_activity = {p.activity.id: p for p in reversed(pictures)}  # each activity's first picture
    source, target = first[REUSED[0]][0], first[REUSED[1]][0]
    pictures = [p for p in pictures if p.activity is not target]
    original = by_activity[source.id]
    pictures.append(_Picture(target, original.data, original.taken_at, "示例数据", target.stored_at))
    source, target = first[NEAR][0], first[NEAR][1]
    original = by_activity[source.id]
    taken = _moment(target.day, rng)
    copy = near_copy(original.data, taken_at=taken)
    pictures.append(_Picture(target, copy, taken, "示例数据", target.stored_at))
    return pictures


def add_evidence(*, session: Session, store: PhotoStore, rng: random.Random) -> dict[str, int]:
    """Photos of MONTH's activities, with the plants that need photos, and the demo's 认定 decisions."""
    activities = _read_activities(session)
    pictures = _pictures(activities, rng)
    first = {code: mine[0] for code, mine in _by_unit(activities).items()}
    reply_to = first[REPLY[0]]
    taken = _moment(reply_to.day, rng)
    extra = draw_photo(seed=rng.getrandbits(32), title=reply_to.title, taken_at=taken)
    pictures.append(_Picture(reply_to, extra, taken, REPLY[1], REPLIED_AT.astimezone(UTC)))
    rejected, again = _by_unit(activities)[RESUBMITTED][:2]
    borrowed = next(p for p in pictures if p.activity is rejected)  # the one taken 47 days early
    pictures.append(_Picture(again, borrowed.data, borrowed.taken_at, "示例数据", REPLIED_AT.astimezone(UTC)))
    settings = Settings()
    records = []
    for picture in pictures:
        facts = describe(picture.data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
        name = f"IMG_{picture.taken_at:%Y%m%d_%H%M%S}.jpg"
        records.append(
            keep(
                store,
                facts,
                picture.data,
                activity_id=picture.activity.id,
                file_name=name,
                by=picture.by,
                at=picture.at,
            )
        )
    for start in range(0, len(records), 500):
        session.execute(insert(Photo), records[start : start + 500])
    decisions = _decide(session, activities, first)
    return {"photos": len(records), "decisions": decisions}


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _decide(session: Session, activities: list[_Activity], first: dict[str, _Activity]) -> int:
    """认定 for every activity of a few units; 不予认定, with the reviewer's reason, for three planted ones."""
    source = first[REUSED[0]]
    late = first[PHOTO_DATE].day - timedelta(days=PHOTO_DATE_DAYS)
    rejected = {
        REUSED[1]: f"照片与{source.town}{source.short_name}{_day(source.day)}活动的照片相同，"
        "不能证明本次活动开展，请补充本次活动的现场照片。",
        PHOTO_DATE: f"照片拍摄于{late.year}年{_day(late)}，与活动日期{_day(first[PHOTO_DATE].day)}不符，"
        "请补充本次活动的现场照片。",
        NO_PHOTO[0]: "未上传活动照片，无法核实活动是否开展。",
    }
    chosen = [(a, "recognised", "") for a in activities if a.code in RECOGNISED]
    chosen += [(first[code], "rejected", reason) for code, reason in rejected.items()]
    for n, (activity, decision, reason) in enumerate(chosen):
        at = (DECIDED_AT + timedelta(minutes=3 * n)).astimezone(UTC)
        session.add(Review(activity_id=activity.id, decision=decision, reason=reason, reviewer=REVIEWER, decided_at=at))
        session.add(Feedback(activity_id=activity.id, at=at, author=REVIEWER, kind=decision, text=reason))
    code, author, text = REPLY
    session.add(
        Feedback(activity_id=first[code].id, at=REPLIED_AT.astimezone(UTC), author=author, kind="reply", text=text)
    )
    return len(chosen)
