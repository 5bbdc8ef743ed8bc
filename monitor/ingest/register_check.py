"""One activity as a clerk registers it (活动登记), checked the way an import checks a row: its fields
become the one row of an activity log and go through the import's own row checks (the same codes
and messages), its photos are judged as one upload, and its twin among the stored activities is
found by the import's duplicate key (unit, date, title)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.issues import Code, Issue, issue
from monitor.core.labels import town_label
from monitor.core.models import Activity, Unit
from monitor.core.normalize import clean
from monitor.core.permissions import Actor
from monitor.evidence.images import PhotoFacts, PhotoRefused, PixelBudget, describe
from monitor.evidence.photo_files import Budget, UploadRefused
from monitor.files.readers import Table
from monitor.ingest.validate import ACTIVITY_COLUMNS, MAX_COUNT, UnitIndex, check_activities
from monitor.roster.units import units_frame
from monitor.store.db import fetch_tuples
from monitor.store.locks import locked_months

ROW = 2  # the registration as the first row under a header: where a finding of it points
HEADERS = {column.key: column.header for column in ACTIVITY_COLUMNS}
Judged = list[tuple[PhotoFacts, bytes, str]]  # (facts, data, file name as shown) of each photo


class RegisterRefused(Refusal):
    """A registration, correction or withdrawal turned down whole; `issues` holds the row findings that
    refused it, each with its code and message as an import states them."""

    code = "refused"

    def __init__(
        self, message: str | None = None, *, code: str | None = None, issues: Sequence[Issue] = (), **fields: object
    ) -> None:
        super().__init__(message, code=code, **fields)
        self.issues = list(issues)


@dataclass(frozen=True)
class Entry:
    """What a clerk fills in for one activity, the unit aside, as typed."""

    day: date | str
    title: str
    category: str = ""
    participants: int | None = None
    location: str = ""
    notes: str = ""

    def values(self) -> dict[str, Any]:
        """The fields as the audit trail and a comparison read them (the date as YYYY-MM-DD text)."""
        return {
            "date": self.day.isoformat() if isinstance(self.day, date) else str(self.day),
            "title": self.title,
            "category": self.category,
            "participants": self.participants,
            "location": self.location,
            "remarks": self.notes,
        }

    @classmethod
    def of(cls, activity: Activity) -> Entry:
        """The entry a stored activity holds."""
        return cls(
            day=activity.date,
            title=activity.title,
            category=activity.category,
            participants=activity.participants,
            location=activity.location,
            notes=activity.notes,
        )


def _table(unit_code: str, entry: Entry) -> Table:
    """The entry as an activity log of one row, its cells cleaned as a reader cleans a sheet's."""
    values = entry.values()
    cells = {
        "code": unit_code,
        "date": values["date"],
        "title": entry.title,
        "category": entry.category,
        "participants": "" if entry.participants is None else str(entry.participants),
        "location": entry.location,
        "notes": entry.notes,
    }
    index = pd.Index([ROW], name="row")
    frame = pd.DataFrame({key: pd.array([clean(cells.get(key, ""))], dtype="str") for key in HEADERS}, index=index)
    frame["_sheet"] = 0
    return Table(frame=frame, headers=dict(HEADERS), format="form", encoding=None, header_row=1)


def _count_issues(entry: Entry) -> list[Issue]:
    """A number typed into a form field is a number: one out of range is refused, not read loosely."""
    people = entry.participants
    if people is None or 0 <= people <= MAX_COUNT:
        return []
    return [issue(Code.BAD_NUMBER, ROW, HEADERS["participants"], str(people))]


def refusal(issues: Sequence[Issue]) -> RegisterRefused:
    """The registration refused for its row's errors: the first one's code, every message."""
    messages = [m if m.endswith(("。", "？", "！")) else m + "。" for m in dict.fromkeys(i.message for i in issues)]
    return RegisterRefused("".join(messages), code=issues[0].code, issues=[replace(i, row=None) for i in issues])


def checked_row(
    session: Session, *, actor: Actor, settings: Settings, unit_code: str, entry: Entry, today: date
) -> tuple[pd.DataFrame, list[Issue]]:
    """The entry checked by the import's row rules against the roster and the month locks as the session
    sees them (a town clerk: the township's own units only): the row as an import stores it, and the
    warnings. RegisterRefused with the row's errors when it is refused."""
    index = UnitIndex.build(units_frame(session=session))
    checked = check_activities(
        _table(unit_code, entry),
        index,
        today=today,
        earliest=date(settings.earliest_year, 1, 1),
        locked_months=locked_months(session=session, settings=settings, today=today),
        allowed_town=actor.town if actor.is_town else None,
    )
    errors = [*_count_issues(entry), *checked.errors]
    if errors:
        raise refusal(errors)
    return checked.rows, [replace(w, row=None) for w in checked.warnings]


def stored_twin(session: Session, *, unit_id: int, day: date, title_key: str) -> int | None:
    """The id of the stored activity with the same duplicate key, if there is one."""
    statement = select(col(Activity.id)).where(
        col(Activity.unit_id) == unit_id, col(Activity.date) == day, col(Activity.title_key) == title_key
    )
    found = fetch_tuples(session, statement)
    return int(found[0][0]) if found else None


def refuse_twin(session: Session, row: pd.Series, *, other_than: int | None = None) -> None:
    """Refuse (duplicate_activity) a row whose (unit, date, title) another stored activity holds."""
    unit_id, day = int(row["unit_id"]), row["date"]
    twin = stored_twin(session, unit_id=unit_id, day=day, title_key=str(row["title_key"]))
    if twin is None or twin == other_than:
        return
    unit = session.get(Unit, unit_id)
    named = f"{town_label(unit.town)}{unit.name}" if unit is not None else str(unit_id)
    raise RegisterRefused(
        code="duplicate_activity", unit=named, day=day.isoformat(), title=str(row["title"]), activity_id=twin
    )


def shown_name(name: str) -> str:
    """A photo's file name as a person reads it: its last part, never a path here."""
    return name.replace("\\", "/").rsplit("/", 1)[-1][:255] or "照片"


def judge_photos(photos: Sequence[tuple[str, bytes]], settings: Settings) -> Judged:
    """Each (file name, bytes) read and judged as one upload's photos: the limits per photo and per upload,
    the hash, the EXIF time, the thumbnail. The first photo that cannot be taken refuses the whole
    registration (bad_image), named with its reason; nothing is written."""
    budget, pixels = Budget(), PixelBudget(settings.photo_upload_max_pixels)
    judged: Judged = []
    for name, data in photos:
        shown = shown_name(name)
        budget.take_entries(1)
        try:
            if len(data) <= settings.photo_limit_bytes:
                budget.take_bytes(len(data), settings)
                over = pixels.refuse(data)
                if over:
                    raise PhotoRefused(over)
            facts = describe(data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
        except PhotoRefused as exc:
            raise RegisterRefused(code="bad_image", detail=f"{shown}：{exc}") from exc
        judged.append((facts, data, shown))
    return judged


@dataclass(frozen=True)
class PhotoPreview:
    """A photo as the form shows it before saving: its thumbnail and EXIF time, or why it cannot be taken."""

    name: str
    thumb: bytes | None
    taken_at: str  # "YYYY-MM-DD HH:MM:SS" from EXIF, or ""
    problem: str  # "" when the photo can be saved


def preview_photos(photos: Sequence[tuple[str, bytes]], settings: Settings) -> list[PhotoPreview]:
    """Each photo judged on its own, as judge_photos would judge it, without refusing the rest: the form
    shows every thumbnail and names each photo that would refuse the registration."""
    shown: list[PhotoPreview] = []
    for name, data in photos:
        try:
            judged = judge_photos([(name, data)], settings)
        except (RegisterRefused, UploadRefused) as exc:
            shown.append(PhotoPreview(shown_name(name), None, "", str(exc)))
            continue
        facts = judged[0][0]
        shown.append(PhotoPreview(shown_name(name), facts.thumb, facts.taken_at, ""))
    return shown
