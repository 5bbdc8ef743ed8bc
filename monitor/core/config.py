"""Settings: one object, read from the environment once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.core.calendar import ZONE

ROOT = Path(__file__).resolve().parents[2]

UNIT_TYPES = ("center", "institute", "station")
DEFAULT_QUOTAS = {"center": 8, "institute": 3, "station": 2}
TYPE_LABELS = {"center": "中心", "institute": "所", "station": "站"}
TYPE_NAMES = {
    "center": "新时代文明实践服务中心",
    "institute": "新时代文明实践所",
    "station": "新时代文明实践站",
}


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'data' / 'monitor.db'}"
    data_dir: Path = ROOT / "data"
    interview_min_streak: int = 2
    deadline_day: int = 5
    upload_limit_mb: int = 20
    autolock_days: int = 0
    session_idle_hours: int = 8
    session_max_days: int = 7  # a sign-in ends after this however active it is
    earliest_year: int = 2000  # activity dates before 1 January of this year are mistakes
    busy_seconds: float = 30.0  # how long a write waits for another writer before giving up
    bulletin_issuer: str = "区委宣传部"  # who issues the 通报
    bulletin_requirements: str = ""  # 通报's 四、下步要求; empty: the default text in monitor/reports/bulletin.py
    photo_limit_mb: int = 10  # one photo
    photo_upload_limit_mb: int = 200  # one zip or one multi-file upload of photos
    photo_max_pixels: int = 64_000_000  # a 48-megapixel phone photo fits; a decompression bomb does not
    # all photos of one upload, decoded: 160 twelve-megapixel phone photos; a zip of a thousand
    # small-to-send, large-to-decode PNGs does not get minutes of the server's time
    photo_upload_max_pixels: int = 2_000_000_000
    photo_store_url: str = ""  # empty: the folder data/photos; s3://bucket/prefix for an object store
    # 活动类型 offered on 活动登记 (free text is allowed too); MONITOR_CATEGORIES, separated by 、 or commas
    categories: tuple[str, ...] = ("理论宣讲", "志愿服务", "移风易俗", "文体活动", "科普宣传", "法治宣传", "卫生健康")
    # Signals (疑点, SPEC §8): hints for a reviewer, never verdicts.
    photo_date_days: int = 3  # EXIF date more than this many days from the activity date
    photo_near_distance: int = 4  # perceptual hashes this close (bits of 64) are the same picture
    copied_title_units: int = 10  # one title at this many stations or more on one day
    bunching_days: int = 3  # "the last days" of a month
    bunching_share: float = 0.8  # this share of a unit's month in its last days
    outlier_z: float = 3.5  # modified z-score above which a unit's month is far above its history
    outlier_history: int = 6  # months of a unit's own history needed before judging
    repeated_title_months: int = 3  # the same title this many months running

    @property
    def timezone(self) -> ZoneInfo:
        """The district's clock (monitor.core.calendar.ZONE): one for deadlines, locks and screens."""
        return ZONE

    @property
    def upload_limit_bytes(self) -> int:
        return self.upload_limit_mb * 1024 * 1024

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def photo_limit_bytes(self) -> int:
        return self.photo_limit_mb * 1024 * 1024

    @property
    def photo_upload_limit_bytes(self) -> int:
        return self.photo_upload_limit_mb * 1024 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("MONITOR_DATA_DIR", ROOT / "data"))
        default_url = f"sqlite:///{data_dir / 'monitor.db'}"
        return cls(
            database_url=os.environ.get("MONITOR_DATABASE_URL", default_url),
            data_dir=data_dir,
            interview_min_streak=int(os.environ.get("MONITOR_MIN_STREAK", "2")),
            deadline_day=int(os.environ.get("MONITOR_DEADLINE_DAY", "5")),
            upload_limit_mb=int(os.environ.get("MONITOR_UPLOAD_LIMIT_MB", "20")),
            autolock_days=int(os.environ.get("MONITOR_AUTOLOCK_DAYS", "0")),
            session_idle_hours=int(os.environ.get("MONITOR_SESSION_IDLE_HOURS", "8")),
            session_max_days=int(os.environ.get("MONITOR_SESSION_MAX_DAYS", "7")),
            earliest_year=int(os.environ.get("MONITOR_EARLIEST_YEAR", "2000")),
            busy_seconds=float(os.environ.get("MONITOR_BUSY_SECONDS", "30")),
            bulletin_issuer=os.environ.get("MONITOR_BULLETIN_ISSUER", "区委宣传部"),
            bulletin_requirements=os.environ.get("MONITOR_BULLETIN_REQUIREMENTS", ""),
            photo_limit_mb=int(os.environ.get("MONITOR_PHOTO_LIMIT_MB", "10")),
            photo_upload_limit_mb=int(os.environ.get("MONITOR_PHOTO_UPLOAD_LIMIT_MB", "200")),
            photo_store_url=os.environ.get("MONITOR_PHOTO_STORE", ""),
            categories=_listed(os.environ.get("MONITOR_CATEGORIES", "")) or cls.categories,
        )


def _listed(text: str) -> tuple[str, ...]:
    """Words separated by 、 or commas (either width), blanks left out."""
    return tuple(word.strip() for word in re.split(r"[、,，]", text) if word.strip())
