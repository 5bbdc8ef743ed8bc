"""Tables. Months are stored as 'YYYY-MM' text so that figures group on an index."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# The ids of activities, import batches, photos and feedback name them in the audit trail, on pages
# and in links: SQLite gives a deleted row's id to the next row unless the table says AUTOINCREMENT
# (migration 0009). PostgreSQL sequences never hand out a number twice.
NEVER_REUSED = {"sqlite_autoincrement": True}


RANGED = text("active_from IS NOT NULL OR active_to IS NOT NULL")


class Unit(SQLModel, table=True):
    # The roster by township and type with each unit's id, read from the index alone, and the few
    # units with an active range, found without reading the others (migration 0010).
    __table_args__ = (
        Index("ix_unit_town_type", "town", "type", "id"),
        Index("ix_unit_ranged", "id", sqlite_where=RANGED, postgresql_where=RANGED),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    short_name: str = Field(max_length=200, index=True)
    type: str = Field(max_length=16, index=True)
    town: str = Field(default="", max_length=100)
    head: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=50)
    quota: int | None = None  # the latest own QuotaRule's quota, kept by set_rule; read the rules instead
    active_from: str | None = Field(default=None, max_length=7)
    active_to: str | None = Field(default=None, max_length=7)


class TypeQuota(SQLModel, table=True):
    """The quota of the type's latest QuotaRule, kept by monitor.ingest.quotas.set_rule for older readers of
    the database. No figure, page or check reads it: a month's quota is the rule in force then
    (monitor.roster.grids)."""

    type: str = Field(primary_key=True, max_length=16)
    quota: int


class QuotaRule(SQLModel, table=True):
    """A quota in force from a month on, for a unit type (unit_id empty) or for one unit.

    A unit's rule with an empty quota sends the unit back to its type's quota from that month.
    The rule from "" holds since the beginning. Changes add or replace rules from a month on, so
    the months before it keep the quota they had.
    """

    __table_args__ = (Index("ix_quotarule_target", "unit_type", "unit_id", "from_month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_type: str = Field(default="", max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    from_month: str = Field(default="", max_length=7)
    quota: int | None = None
    set_by: str = Field(default="", max_length=100)
    set_at: datetime


class ImportBatch(SQLModel, table=True):
    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    user: str = Field(default="", max_length=100)
    created_at: datetime
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    town: str = Field(default="", max_length=100, index=True)
    size: int = 0
    status: str = Field(max_length=16)
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    message: str = ""


class Activity(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("unit_id", "date", "title_key", name="uq_activity_unit_date_title"),
        Index("ix_activity_month_unit", "month", "unit_id", "stored_at"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    date: date
    month: str = Field(max_length=7)
    title: str
    title_key: str
    category: str = Field(default="", max_length=20)
    participants: int | None = None
    volunteers: int | None = None
    location: str = ""
    photos: int | None = None
    notes: str = ""
    # The cells read as a person wrote them ({"参与人数": "30余人"}), as JSON; "" when every cell was plain.
    as_written: str = Field(default="", sa_column_kwargs={"server_default": ""})
    batch_id: int | None = Field(default=None, foreign_key="importbatch.id", index=True)
    stored_at: datetime


class ActivityBatch(SQLModel, table=True):
    """A batch that reported an activity another batch had stored first (Activity.batch_id).

    Rolling back the first batch keeps the activity while one of these batches is live.
    """

    activity_id: int = Field(foreign_key="activity.id", primary_key=True)
    batch_id: int = Field(foreign_key="importbatch.id", primary_key=True, index=True)


class MonthLock(SQLModel, table=True):
    month: str = Field(primary_key=True, max_length=7)
    locked_by: str = Field(default="", max_length=100)
    locked_at: datetime


class Meta(SQLModel, table=True):
    """Small key/value facts about the database: data version, demo flag."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = ""


class Interview(SQLModel, table=True):
    """An interview (约谈) held with a unit's head over the months it missed."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    month: str = Field(max_length=7, index=True)
    held_on: date
    interviewer: str = Field(max_length=100)
    notes: str = ""
    deadline: date | None = None
    recorded_by: str = Field(default="", max_length=100)
    recorded_at: datetime


class User(SQLModel, table=True):
    """A person who signs in: admin, reviewer, or town staff bound to one township."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=100)
    role: str = Field(max_length=16)
    town: str = Field(default="", max_length=100)
    password_hash: str = Field(default="", max_length=255)
    disabled: bool = False
    created_at: datetime


class SignInSession(SQLModel, table=True):
    """A password sign-in kept across refreshes: the browser's cookie holds the token, this row its hash."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime
    last_seen: datetime
    expires_at: datetime  # the absolute end, however active the session is
    ended_at: datetime | None = None
    ended_reason: str = Field(default="", max_length=40)
    source: str = Field(default="", max_length=100)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins counted per user name and per source address, whether the name exists or not."""

    key: str = Field(primary_key=True, max_length=255)
    failures: int = 0
    next_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One write, as it happened: who, when, what, and the values before and after."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(default="", max_length=100, index=True)
    action: str = Field(max_length=40, index=True)
    target: str = Field(default="", max_length=255)
    before: str = ""
    after: str = ""
    detail: str = ""


class Photo(SQLModel, table=True):
    """A photo attached to an activity. The file itself is stored once per SHA-256 (monitor.evidence.photo_store);
    one row per activity it is attached to, so the same picture on two activities is two rows."""

    __table_args__ = (
        UniqueConstraint("activity_id", "sha256", name="uq_photo_activity_sha256"),
        Index("ix_photo_phash", "phash"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    phash: str = Field(default="", max_length=16)  # imagehash.phash as 16 hex digits
    taken_at: str = Field(default="", max_length=19)  # EXIF DateTimeOriginal, camera clock: "YYYY-MM-DD HH:MM:SS"
    width: int = 0
    height: int = 0
    size: int = 0
    file_name: str = Field(default="", max_length=255)  # as uploaded, for display only
    uploaded_by: str = Field(default="", max_length=100)
    uploaded_at: datetime


class Review(SQLModel, table=True):
    """The current decision (认定) on an activity; its history is in Feedback and the audit trail."""

    activity_id: int = Field(foreign_key="activity.id", primary_key=True)
    decision: str = Field(max_length=16, index=True)  # recognised | rejected
    reason: str = ""
    reviewer: str = Field(default="", max_length=100)
    decided_at: datetime


class Feedback(SQLModel, table=True):
    """One message about an activity: a reviewer's decision with its reason, or town staff's answer."""

    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    at: datetime
    author: str = Field(default="", max_length=100)
    kind: str = Field(max_length=16)  # recognised | rejected | reply
    text: str = ""


class UnitMonth(SQLModel, table=True):
    """Counts of activities per unit and month, kept in the same transaction as every write that
    changes them (monitor.counts.unitmonths): what every figure reads instead of the activity table.

    `on_time` and `not_recognised_on_time` count activities stored by the month's deadline, the
    deadline day stamped in Meta (unitmonth_deadline_day). The active range is applied on reading,
    so a roster change never touches these counts.
    """

    month: str = Field(primary_key=True, max_length=7)
    unit_id: int = Field(primary_key=True, foreign_key="unit.id")
    activities: int = 0  # every stored activity, whatever its review
    on_time: int = 0
    recognised: int = 0  # 认定
    not_recognised: int = 0  # 不予认定: not held
    not_recognised_on_time: int = 0


class TownMonth(SQLModel, table=True):
    """Sums of the unit × month counts per month, township and unit type, over the units active in
    the month (monitor.counts.townmonths): what the district and province report reads.

    Each sum needs the unit's quota of the month: `capped` adds min(held, quota), `met` counts the
    unit-months with a quota that held at least it, `on_time_met` those whose activities stored by
    the deadline reach it. Refreshed for the months a write touches, in its transaction; a roster
    or quota change refreshes every month.
    """

    month: str = Field(primary_key=True, max_length=7)
    town: str = Field(primary_key=True, max_length=100)
    unit_type: str = Field(primary_key=True, max_length=16)
    held: int = 0
    not_recognised: int = 0
    capped: int = 0
    met: int = 0
    on_time_met: int = 0
