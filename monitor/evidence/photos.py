"""Photos attached to activities: an upload planned (matched, ambiguous, unmatched) and then stored.

Planning reads and judges every photo and writes nothing. Attaching writes the files before the
write transaction begins (monitor.evidence.photo_links), then links them in one transaction. A file
no row links (its transaction failed, its activity was rolled back) stays until `photos gc`
(monitor.evidence.photo_gc) takes it. No photo is added to or removed from an activity of a locked
month (removal: monitor.evidence.photo_removal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.models import Activity, Photo, Unit
from monitor.core.normalize import town_key
from monitor.core.permissions import Actor, may_touch, scope
from monitor.evidence.images import PhotoFacts, PhotoRefused, PixelBudget, describe
from monitor.evidence.photo_files import Incoming
from monitor.evidence.photo_links import ensure_files, insert_links, link_row, put_files
from monitor.evidence.photo_match import Hints, UnitFinder, hints, match
from monitor.evidence.photo_store import PhotoStore
from monitor.roster.units import units_frame
from monitor.store import audit
from monitor.store.db import bump_version, fetch_tuples, in_write
from monitor.store.locks import locked_months

Progress = Callable[[float, str], None]
STATUS_LABELS = {
    "matched": "已匹配",
    "ambiguous": "多个候选",
    "unmatched": "未匹配",
    "duplicate": "重复",
    "error": "无法读取",
    "locked": "月份已锁定",
}
ERROR_CODES = {"error": "bad_image", "locked": "locked_month"}  # the JSON codes of statuses not named as they are


def _quiet(_fraction: float, _text: str) -> None:
    return None


@dataclass
class PlannedPhoto:
    name: str
    status: str  # a key of STATUS_LABELS
    message: str = ""
    activity_id: int | None = None
    candidates: list[int] = field(default_factory=list)
    unit_id: int | None = None
    facts: PhotoFacts | None = None
    data: bytes | None = field(default=None, repr=False)


@dataclass
class PhotoPlan:
    items: list[PlannedPhoto]
    stored: int = 0  # after attach
    town: str | None = None  # the township the upload was for (town staff: their own)
    months: list[str] = field(default_factory=list)  # YYYY-MM the names speak of, for matching by hand

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    def to_json(self) -> dict[str, object]:
        return {
            "photos": len(self.items),
            "matched": self.count("matched"),
            "stored": self.stored,
            "ambiguous": self.count("ambiguous"),
            "unmatched": self.count("unmatched"),
            "duplicates": self.count("duplicate"),
            "locked": self.count("locked"),
            "errors": [
                {"file": item.name, "code": ERROR_CODES.get(item.status, item.status), "message": item.message}
                for item in self.items
                if item.status in {"ambiguous", "unmatched", "error", "locked"}
            ],
        }


def _activities(session: Session, unit_ids: list[int]) -> pd.DataFrame:
    columns = ["id", "unit_id", "date", "title", "title_key"]
    if not unit_ids:
        return pd.DataFrame(columns=columns)
    statement = select(*[col(getattr(Activity, c)) for c in columns]).where(col(Activity.unit_id).in_(unit_ids))
    frame = pd.DataFrame.from_records(fetch_tuples(session, statement), columns=columns)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date  # SQLite hands plain tuples back with text dates
    return frame


def _attached(session: Session, hashes: list[str]) -> set[tuple[int, str]]:
    pairs: set[tuple[int, str]] = set()
    for first in range(0, len(hashes), 500):
        chunk = hashes[first : first + 500]
        statement = select(Photo.activity_id, Photo.sha256).where(col(Photo.sha256).in_(chunk))
        pairs.update((int(a), str(s)) for a, s in fetch_tuples(session, statement))
    return pairs


def plan_photos(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    incoming: list[Incoming],
    town: str | None = None,
    progress: Progress = _quiet,
    today: date | None = None,
) -> PhotoPlan:
    """Read, judge and match every photo of an upload; nothing is written.

    Units are looked for in the whole roster, so a unit of another township named in a path is
    told as such (unmatched) instead of being taken for a same-named unit of this one. A photo
    matched to an activity of a locked month is told so (locked) and not stored.
    """
    town = scope(actor, "import", town)
    finder = UnitFinder(units_frame(session=session))
    items: list[PlannedPhoto] = []
    budget = PixelBudget(settings.photo_upload_max_pixels)
    for number, entry in enumerate(incoming):
        progress(number / max(len(incoming), 1), f"读取照片 {number + 1}/{len(incoming)}")
        items.append(_read(entry, budget, settings))
    progress(1.0, "匹配活动")
    found = {item.name: hints(item.name, finder, town=town) for item in items if item.facts}
    activities = _activities(session, sorted({i for h in found.values() for i in h.unit_ids}))
    attached = _attached(session, sorted({item.facts.sha256 for item in items if item.facts}))
    for item in items:
        if item.facts is None:
            continue
        outside = _outside(found[item.name], finder, town)
        if outside:
            item.status, item.message = "unmatched", outside
            continue
        result = match(found[item.name], activities, finder)
        item.status, item.message = result.status, result.message
        item.activity_id, item.candidates, item.unit_id = result.activity_id, result.candidates, result.unit_id
    _mark_duplicates(items, attached, _linked_in(session, attached, town))
    today = today or today_in(settings)
    _mark_locked(items, activities, locked_months(session=session, settings=settings, today=today))
    return PhotoPlan(items, town=town, months=_months(list(found.values()), items, activities))


def _read(entry: Incoming, budget: PixelBudget, settings: Settings) -> PlannedPhoto:
    """One file of an upload read and judged: unmatched until it is matched, or an error that says why."""
    if entry.data is None:
        return PlannedPhoto(entry.name, "error", entry.problem)
    over = budget.refuse(entry.data)
    if over:
        return PlannedPhoto(entry.name, "error", over)
    try:
        facts = describe(entry.data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
    except PhotoRefused as exc:
        return PlannedPhoto(entry.name, "error", str(exc))
    return PlannedPhoto(entry.name, "unmatched", facts=facts, data=entry.data)


def locked_message(months: Iterable[str]) -> str:
    return f"{'、'.join(sorted(set(months)))} 已锁定，不能再增删该月活动的照片；如需更正，请审核人员先解锁该月。"


def _mark_locked(items: list[PlannedPhoto], activities: pd.DataFrame, locked: set[str]) -> None:
    if not locked:
        return
    months = {int(i): f"{d:%Y-%m}" for i, d in zip(activities["id"], activities["date"], strict=True)}
    for item in items:
        if item.status == "matched" and item.activity_id is not None and months.get(item.activity_id) in locked:
            item.status, item.message = "locked", locked_message([months[item.activity_id]])


def _outside(h: Hints, finder: UnitFinder, town: str | None) -> str:
    """Why the unit a path names is not one this upload may reach: it belongs to another township."""
    if not town or not h.unit_ids:
        return ""
    if any(town_key(str(finder.units.at[i, "town"])) == town_key(town) for i in h.unit_ids):
        return ""
    unit = finder.units.loc[h.unit_ids[0]]
    where = str(unit["town"]) or "区级"
    return f"{unit['name']}属于{where}，不在{town}范围内，不能上传到该单位"


def _linked_in(session: Session, attached: set[tuple[int, str]], town: str | None) -> set[tuple[int, str]]:
    """The links already made to activities of the township (every link when there is none)."""
    if not town or not attached:
        return attached
    ids = sorted({a for a, _ in attached})
    statement = select(Activity.id).join(Unit, col(Unit.id) == col(Activity.unit_id)).where(col(Activity.id).in_(ids))
    local = {int(i) for (i,) in fetch_tuples(session, statement.where(col(Unit.town) == town))}
    return {(a, sha) for a, sha in attached if a in local}


def _mark_duplicates(items: list[PlannedPhoto], attached: set[tuple[int, str]], linked: set[tuple[int, str]]) -> None:
    """A photo already on its activity, or twice on one activity in this upload, is a duplicate; so is
    one left to match by hand that is already on one of its candidates (or, with none, on an
    activity of the township): the same zip sent again is all duplicates."""
    seen = set(attached)
    for item in items:
        if item.facts is None:
            continue
        if item.status in {"ambiguous", "unmatched"}:
            on = sorted(a for a, sha in linked if sha == item.facts.sha256)
            hit = [a for a in on if a in item.candidates] if item.candidates else on
            if hit:
                item.status, item.activity_id, item.message = "duplicate", hit[0], "该照片此前已上传到此活动"
            continue
        if item.status != "matched" or item.activity_id is None:
            continue
        pair = (item.activity_id, item.facts.sha256)
        if pair in seen:
            item.status, item.message = "duplicate", "该照片已在此活动中"
        seen.add(pair)


def _months(found: list[Hints], items: list[PlannedPhoto], activities: pd.DataFrame) -> list[str]:
    """The months an upload speaks of: its full dates, the activities it matched, and its
    dates without a year in the years those give."""
    ids = {i for item in items for i in [item.activity_id, *item.candidates] if i is not None}
    days = list(activities.loc[activities["id"].isin(ids), "date"])
    days += [h.day for h in found if h.day is not None]
    months = {f"{d:%Y-%m}" for d in days}
    years = {d.year for d in days} | {h.year for h in found if h.year is not None}
    months |= {f"{y}-{h.month_day[0]:02d}" for h in found if h.month_day for y in years}
    return sorted(months)


@dataclass
class Attached:
    stored: int
    duplicates: int


Linking = list[tuple[PhotoFacts, bytes, str, int]]  # (facts, data, file name, activity id) of each photo


def attach_photos(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    store: PhotoStore,
    photos: Linking,
    today: date | None = None,
) -> Attached:
    """Write the files, then link (facts, data, file name, activity id) in one transaction; pairs
    already linked are skipped. What would be refused is refused before any file is written."""
    if not photos:
        return Attached(0, 0)
    today = today or today_in(settings)
    ids = sorted({activity_id for *_, activity_id in photos})
    _check(session, actor=actor, settings=settings, activity_ids=ids, today=today)
    session.rollback()  # the checks' reads end here: no lock is held while the files are written
    put_files(store, [(facts, data) for facts, data, *_ in photos])
    done = in_write(
        session,
        busy_seconds=settings.busy_seconds,
        write=lambda: _attach(session, actor=actor, settings=settings, photos=photos, today=today),
    )
    ensure_files(store, [(facts, data) for facts, data, *_ in photos])
    return done


def attach_in_transaction(
    session: Session, *, actor: Actor, settings: Settings, photos: Linking, today: date | None = None
) -> Attached:
    """Link photos inside the caller's write transaction (an import's, for pictures pasted into the
    ledger), which commits or rolls back the links with the rest of its work. Their files were put
    in the store before that transaction began (put_files), and are checked after it committed
    (ensure_files)."""
    return _attach(session, actor=actor, settings=settings, photos=photos, today=today or today_in(settings))


def _check(session: Session, *, actor: Actor, settings: Settings, activity_ids: list[int], today: date) -> None:
    """The activities exist, the actor may add photos to them, and none is of a locked month."""
    found = {
        int(activity_id): (str(town), str(month))
        for activity_id, town, month in fetch_tuples(
            session,
            select(Activity.id, Unit.town, Activity.month)
            .join(Unit, col(Unit.id) == col(Activity.unit_id))
            .where(col(Activity.id).in_(activity_ids)),
        )
    }
    for activity_id in activity_ids:
        if activity_id not in found:
            raise PhotoRefused(f"活动 {activity_id} 不存在（可能已被撤销），请重新选择。")
        may_touch(actor, "import", found[activity_id][0])
    locked = {month for _, month in found.values()} & locked_months(session=session, settings=settings, today=today)
    if locked:
        raise PhotoRefused(locked_message(locked))


def _attach(session: Session, *, actor: Actor, settings: Settings, photos: Linking, today: date) -> Attached:
    ids = sorted({activity_id for *_, activity_id in photos})
    _check(session, actor=actor, settings=settings, activity_ids=ids, today=today)  # again, under the lock
    seen = _attached(session, sorted({facts.sha256 for facts, *_ in photos}))
    now, duplicates, rows = datetime.now(UTC), 0, []
    for facts, _data, name, activity_id in photos:
        if (activity_id, facts.sha256) in seen:
            duplicates += 1
            continue
        seen.add((activity_id, facts.sha256))
        rows.append(link_row(facts, activity_id=activity_id, file_name=name, by=actor.name, at=now))
    stored = insert_links(session, rows)
    duplicates += len(rows) - stored
    audit.record(
        session,
        actor=actor.name,
        action="photos",
        target=f"{len(ids)} 项活动",
        after={"photos": stored, "duplicates": duplicates},
    )
    bump_version(session)
    return Attached(stored, duplicates)


def attach_plan(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    store: PhotoStore,
    plan: PhotoPlan,
    chosen: dict[int, int] | None = None,
) -> Attached:
    """Attach the matched photos of a plan, and those the clerk matched by hand (item index -> activity id)."""
    chosen = chosen or {}
    photos = []
    for number, item in enumerate(plan.items):
        target = chosen.get(number, item.activity_id if item.status == "matched" else None)
        if target is not None and item.facts is not None and item.data is not None:
            photos.append((item.facts, item.data, item.name, int(target)))
    done = attach_photos(session=session, actor=actor, settings=settings, store=store, photos=photos)
    plan.stored = done.stored
    return done


def attach_one(
    *, session: Session, actor: Actor, settings: Settings, store: PhotoStore, activity_id: int, name: str, data: bytes
) -> Attached:
    """One photo added on an activity's own page."""
    facts = describe(data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
    return attach_photos(
        session=session, actor=actor, settings=settings, store=store, photos=[(facts, data, name, activity_id)]
    )
