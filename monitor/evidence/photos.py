"""Photos attached to activities: an upload planned (matched, ambiguous, unmatched) and then stored;
a photo removed again.

Planning reads and judges every photo and writes nothing. Attaching writes the files before the
write transaction begins (content-addressed, so a retry rewrites nothing, and the writer lock is
never held over an upload), then links them in one transaction. A file no row links (its
transaction failed, its activity was rolled back) stays until `photos gc` (monitor.evidence.photo_gc)
takes it. Files are only ever deleted under the writer lock, after checking that no row links
them; an upload whose file went between its write and its link puts it back after committing.
No photo is added to or removed from an activity of a locked month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from monitor.core.config import Settings
from monitor.core.models import Activity, Photo, Review, Unit
from monitor.core.normalize import town_key
from monitor.core.permissions import PERMISSIONS, Actor, Forbidden, may_touch, require, scope
from monitor.evidence.images import PhotoFacts, PhotoRefused, PixelBudget, describe
from monitor.evidence.photo_files import Incoming
from monitor.evidence.photo_match import Hints, UnitFinder, hints, match
from monitor.evidence.photo_store import KINDS, PhotoStore, StoreError
from monitor.roster.units import units_frame
from monitor.store import audit
from monitor.store.db import BUSY_MESSAGE, Busy, begin_write, bump_version, chunks, fetch_tuples, is_busy
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
        if entry.data is None:
            items.append(PlannedPhoto(entry.name, "error", entry.problem))
            continue
        over = budget.refuse(entry.data)
        if over:
            items.append(PlannedPhoto(entry.name, "error", over))
            continue
        try:
            facts = describe(entry.data, limit_bytes=settings.photo_limit_bytes, max_pixels=settings.photo_max_pixels)
        except PhotoRefused as exc:
            items.append(PlannedPhoto(entry.name, "error", str(exc)))
            continue
        items.append(PlannedPhoto(entry.name, "unmatched", facts=facts, data=entry.data))
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
    _mark_locked(items, activities, locked_months(session=session, settings=settings, today=today or _today(settings)))
    return PhotoPlan(items, town=town, months=_months(list(found.values()), items, activities))


def _today(settings: Settings) -> date:
    return datetime.now(settings.timezone).date()


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
    today = today or _today(settings)
    ids = sorted({activity_id for *_, activity_id in photos})
    _check(session, actor=actor, settings=settings, activity_ids=ids, today=today)
    session.rollback()  # the checks' reads end here: no lock is held while the files are written
    put_files(store, [(facts, data) for facts, data, *_ in photos])
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        done = _attach(session, actor=actor, settings=settings, photos=photos, today=today)
        session.commit()
    except BaseException as exc:
        session.rollback()
        if isinstance(exc, Exception) and is_busy(exc):
            raise Busy(BUSY_MESSAGE) from exc
        raise
    ensure_files(store, [(facts, data) for facts, data, *_ in photos])
    return done


def attach_in_transaction(
    session: Session, *, actor: Actor, settings: Settings, photos: Linking, today: date | None = None
) -> Attached:
    """Link photos inside the caller's write transaction (an import's, for pictures pasted into the
    ledger), which commits or rolls back the links with the rest of its work. Their files were put
    in the store before that transaction began (put_files), and are checked after it committed
    (ensure_files)."""
    return _attach(session, actor=actor, settings=settings, photos=photos, today=today or _today(settings))


def put_files(store: PhotoStore, photos: Iterable[tuple[PhotoFacts, bytes]]) -> None:
    """Each picture's original and thumbnail in the store, once per SHA-256; before any write transaction."""
    done: set[str] = set()
    for facts, data in photos:
        if facts.sha256 not in done:
            done.add(facts.sha256)
            store.put(facts.sha256, "original", data)
            store.put(facts.sha256, "thumb", facts.thumb)


def ensure_files(store: PhotoStore, photos: Iterable[tuple[PhotoFacts, bytes]]) -> None:
    """After the links committed: put back a file deleted between its write and its link (a removal
    or `photos gc` of the same picture meanwhile). A store that cannot be reached now was reached a
    moment ago; the files written then stand."""
    done: set[str] = set()
    for facts, data in photos:
        if facts.sha256 in done:
            continue
        done.add(facts.sha256)
        try:
            for kind, content in (("original", data), ("thumb", facts.thumb)):
                if not store.has(facts.sha256, kind):
                    store.put(facts.sha256, kind, content)
        except StoreError:
            continue


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
    stored = _insert_links(session, rows)
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


def keep(
    store: PhotoStore, facts: PhotoFacts, data: bytes, *, activity_id: int, file_name: str, by: str, at: datetime
) -> dict[str, Any]:
    """Put a photo's file and thumbnail in the store; the row that links it to its activity."""
    put_files(store, [(facts, data)])
    return link_row(facts, activity_id=activity_id, file_name=file_name, by=by, at=at)


def link_row(facts: PhotoFacts, *, activity_id: int, file_name: str, by: str, at: datetime) -> dict[str, Any]:
    """The row that links a stored picture to an activity."""
    return {
        "activity_id": activity_id,
        "sha256": facts.sha256,
        "phash": facts.phash,
        "taken_at": facts.taken_at,
        "width": facts.width,
        "height": facts.height,
        "size": facts.size,
        "file_name": file_name.rsplit("/", 1)[-1][:255],
        "uploaded_by": by,
        "uploaded_at": at,
    }


def _insert_links(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING, in key order: a link another upload made meanwhile is
    skipped (and counted a duplicate by the caller), and two uploads wait for each other's rows
    in the same order instead of deadlocking."""
    table = Photo.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = sorted(rows, key=lambda row: (row["activity_id"], row["sha256"]))
    stored = 0
    for start in range(0, len(rows), 500):
        statement = insert(table).values(rows[start : start + 500])
        statement = statement.on_conflict_do_nothing(index_elements=[table.c.activity_id, table.c.sha256])
        stored += len(session.execute(statement.returning(table.c.id)).all())
    return stored


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


def _label_select() -> Any:
    """id, town, short_name, name, type, date, title of activities, for _labelled."""
    fields = [Activity.id, Unit.town, Unit.short_name, Unit.name, Unit.type, Activity.date, Activity.title]
    return select(*[col(f) for f in fields]).join(Unit, col(Unit.id) == col(Activity.unit_id))


def _labelled(session: Session, statement: Any, with_town: bool) -> dict[int, str]:
    """id -> “单位 · 日期 · 标题” for rows of (id, town, short_name, name, type, date, title)."""
    out: dict[int, str] = {}
    for activity_id, town, short, name, kind, day, title in fetch_tuples(session, statement):
        unit = str(name if kind == "center" else short)
        out[int(activity_id)] = f"{town if with_town else ''}{unit} · {str(day)[:10]} · {title}"
    return out


def activity_choices(
    *,
    session: Session,
    actor: Actor,
    town: str | None = None,
    unit_id: int | None = None,
    months: list[str] | None = None,
    ids: list[int] | None = None,
    limit: int = 300,
) -> dict[int, str]:
    """Activities a photo may be matched to by hand, newest first: id -> “单位 · 日期 · 标题”.

    Only activities the actor may attach photos to (town staff: their township's); narrowed to
    one unit, to some months (YYYY-MM) or to some ids when given.
    """
    town = scope(actor, "import", town)
    statement = _label_select().order_by(col(Activity.date).desc(), col(Unit.code), col(Activity.id)).limit(limit)
    if town:
        statement = statement.where(col(Unit.town) == town)
    if unit_id is not None:
        statement = statement.where(col(Activity.unit_id) == unit_id)
    if months is not None:
        statement = statement.where(col(Activity.month).in_(months))
    if ids is not None:
        statement = statement.where(col(Activity.id).in_(ids))
    return _labelled(session, statement, with_town=not town)


NEEDS_HAND = ("ambiguous", "unmatched")


def hand_choices(*, session: Session, actor: Actor, plan: PhotoPlan, limit: int = 300) -> dict[int, dict[int, str]]:
    """For each photo of a plan left to match by hand (item index), the activities to choose from:
    its candidates first, then its unit's activities, or, with no unit found, the township's in
    the months the upload speaks of (its latest activities when it names no month)."""
    needing = [n for n, item in enumerate(plan.items) if item.status in NEEDS_HAND and item.facts is not None]
    if not needing:
        return {}
    items = [plan.items[n] for n in needing]
    wanted = sorted({c for item in items for c in item.candidates})
    known = activity_choices(session=session, actor=actor, town=plan.town, ids=wanted) if wanted else {}
    by_unit = {
        unit: activity_choices(session=session, actor=actor, town=plan.town, unit_id=unit, limit=limit)
        for unit in sorted({item.unit_id for item in items if item.unit_id is not None})
    }
    township: dict[int, str] = {}
    if any(item.unit_id is None for item in items):
        township = activity_choices(
            session=session, actor=actor, town=plan.town, months=plan.months or None, limit=limit
        )
    out: dict[int, dict[int, str]] = {}
    for number, item in zip(needing, items, strict=True):
        options = {c: known[c] for c in item.candidates if c in known}
        rest = by_unit[item.unit_id] if item.unit_id is not None else township
        options.update((k, v) for k, v in rest.items() if k not in options)
        out[number] = options
    return out


PLAN_COLUMNS = ["文件", "状态", "单位", "活动日期", "活动名称", "说明"]


def plan_table(*, session: Session, plan: PhotoPlan) -> pd.DataFrame:
    """The preview of a plan as the clerk reads it: one row per file, with the activity it goes to."""
    ids = sorted({item.activity_id for item in plan.items if item.activity_id is not None})
    units = sorted({item.unit_id for item in plan.items if item.unit_id is not None})
    found: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(ids), 500):
        statement = _label_select().where(col(Activity.id).in_(ids[start : start + 500]))
        for activity_id, label in _labelled(session, statement, with_town=not plan.town).items():
            unit, day, title = label.split(" · ", 2)
            found[activity_id] = (unit, day, title)
    names: dict[int, str] = {}
    if units:
        fields = [col(Unit.id), col(Unit.town), col(Unit.short_name), col(Unit.name), col(Unit.type)]
        statement = select(*fields).where(col(Unit.id).in_(units))
        for unit_id, town, short, name, kind in fetch_tuples(session, statement):
            names[int(unit_id)] = f"{'' if plan.town else town}{name if kind == 'center' else short}"
    rows = []
    for item in plan.items:
        unit, day, title = found.get(item.activity_id or -1, (names.get(item.unit_id or -1, ""), "", ""))
        rows.append([item.name, STATUS_LABELS[item.status], unit, day, title, item.message])
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def photos_of(*, session: Session, actor: Actor, activity_ids: list[int]) -> pd.DataFrame:
    """The photos of some activities (id, activity_id, sha256, taken_at, size, file_name, uploaded_by, uploaded_at),
    those of other townships left out for town staff."""
    town = scope(actor, "view")
    columns = [
        "id",
        "activity_id",
        "sha256",
        "phash",
        "taken_at",
        "width",
        "height",
        "size",
        "file_name",
        "uploaded_by",
        "uploaded_at",
    ]
    if not activity_ids:
        return pd.DataFrame(columns=columns)
    statement = (
        select(*[getattr(Photo, c) for c in columns])
        .join(Activity, col(Activity.id) == col(Photo.activity_id))
        .join(Unit, col(Unit.id) == col(Activity.unit_id))
        .where(col(Photo.activity_id).in_(activity_ids))
        .order_by(col(Photo.activity_id), col(Photo.id))
    )
    if town:
        statement = statement.where(col(Unit.town) == town)
    return pd.DataFrame.from_records(fetch_tuples(session, statement), columns=columns)


def photo_counts(session: Session, activity_ids: list[int]) -> dict[int, int]:
    """How many photos each activity has (activities without any are left out)."""
    counts: dict[int, int] = {}
    for chunk in chunks(activity_ids):
        statement = (
            select(Photo.activity_id, func.count())
            .where(col(Photo.activity_id).in_(chunk))
            .group_by(col(Photo.activity_id))
        )
        counts.update((int(a), int(n)) for a, n in fetch_tuples(session, statement))
    return counts


class RemovalRefused(ValueError):
    """A photo that cannot be removed as asked; `code` names why, the message says it in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Removed:
    photo_id: int
    activity_id: int
    file_name: str
    uploaded_by: str
    file_deleted: bool  # False: another row shows the same picture, or the store could not be reached (gc takes it)

    def to_json(self) -> dict[str, object]:
        return {
            "photo_id": self.photo_id,
            "activity_id": self.activity_id,
            "file_name": self.file_name,
            "uploaded_by": self.uploaded_by,
            "removed": True,
            "file_deleted": self.file_deleted,
            "errors": [],
        }


def remove_photo(
    *, session: Session, actor: Actor, settings: Settings, store: PhotoStore, photo_id: int, today: date | None = None
) -> Removed:
    """Take one photo off its activity: town staff their own upload until the activity is reviewed, a
    reviewer or admin any photo; never on an activity of a locked month. Audited with what it was;
    its file goes too when no other row shows the same picture."""
    require(actor, "import")
    today = today or _today(settings)
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        found = session.exec(
            select(Photo, Activity, Unit)
            .join(Activity, col(Activity.id) == col(Photo.activity_id))
            .join(Unit, col(Unit.id) == col(Activity.unit_id))
            .where(col(Photo.id) == photo_id)
        ).first()
        if found is None:
            raise RemovalRefused("not_found", f"照片 {photo_id} 不存在，或已被他人处理（删除）。")
        photo, activity, unit = found
        _may_remove(session, actor=actor, photo=photo, activity=activity, unit=unit)
        if activity.month in locked_months(session=session, settings=settings, today=today):
            raise RemovalRefused("locked_month", locked_message([activity.month]))
        assert activity.id is not None
        done = Removed(photo_id, activity.id, photo.file_name, photo.uploaded_by, file_deleted=False)
        sha256 = photo.sha256
        before = {
            "photo_id": photo_id,
            "activity_id": activity.id,
            "file_name": photo.file_name,
            "uploaded_by": photo.uploaded_by,
            "sha256": sha256,
        }
        target = f"{unit.town}{unit.name} {activity.date:%Y-%m-%d} {activity.title}"[:255]
        session.delete(photo)
        session.flush()
        shared = bool(linked_hashes(session, [sha256]))
        audit.record(
            session,
            actor=actor.name,
            action="photo_remove",
            target=target,
            detail=f"活动 #{activity.id}",
            before=before,
        )
        bump_version(session)
        session.commit()
    except BaseException as exc:
        session.rollback()
        if isinstance(exc, Exception) and is_busy(exc):
            raise Busy(BUSY_MESSAGE) from exc
        raise
    if not shared:
        try:
            done.file_deleted = bool(drop_unlinked(session, settings=settings, store=store, hashes=[sha256]))
        except (Busy, StoreError):
            done.file_deleted = False  # the row is gone; `photos gc` takes the file later
    return done


def _may_remove(session: Session, *, actor: Actor, photo: Photo, activity: Activity, unit: Unit) -> None:
    if "review" in PERMISSIONS.get(actor.role, frozenset()):
        may_touch(actor, "review", unit.town)
        return
    if actor.is_town and unit.town != actor.town:
        raise Forbidden(f"只能删除本乡镇（{actor.town}）活动的照片。")
    may_touch(actor, "import", unit.town)
    if photo.uploaded_by != actor.name:
        raise Forbidden("只能删除本人上传的照片；其他人上传的照片请联系审核人员删除。")
    if session.get(Review, activity.id) is not None:
        raise RemovalRefused(
            "reviewed", "该活动已审核（认定或不予认定），照片不能再由乡镇删除；如需删除请联系审核人员。"
        )


def linked_hashes(session: Session, hashes: list[str]) -> set[str]:
    """Those of the hashes some photo row links."""
    linked: set[str] = set()
    for first in range(0, len(hashes), 500):
        statement = select(Photo.sha256).where(col(Photo.sha256).in_(hashes[first : first + 500])).distinct()
        linked.update(str(sha) for (sha,) in fetch_tuples(session, statement))
    return linked


def drop_unlinked(session: Session, *, settings: Settings, store: PhotoStore, hashes: list[str]) -> list[str]:
    """Delete the original and thumbnail of each hash no photo row links; the hashes whose files went.

    Under the writer lock: rows are only linked under it, so no link can be made to a file while it
    is being deleted (and an upload that wrote its file before puts it back: ensure_files)."""
    if not hashes:
        return []
    begin_write(session, busy_seconds=settings.busy_seconds)
    try:
        linked = linked_hashes(session, hashes)
        gone = [sha for sha in hashes if sha not in linked]
        for sha in gone:
            for kind in KINDS:
                store.delete(sha, kind)
        session.commit()  # nothing written: ends the transaction and its lock
    except BaseException as exc:
        session.rollback()
        if isinstance(exc, Exception) and is_busy(exc):
            raise Busy(BUSY_MESSAGE) from exc
        raise
    return gone
