"""Removing a photo and the files no row links (SPEC §8): who may remove what and when, locked months,
and files written before a transaction that then did not commit."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from openpyxl.drawing.image import Image as SheetImage
from sqlmodel import Session, col, select

from monitor.core.config import Settings
from monitor.core.models import Activity, AuditEvent, Photo
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.evidence.images import PhotoRefused
from monitor.evidence.photo_gc import collect_garbage
from monitor.evidence.photo_links import photo_counts
from monitor.evidence.photo_removal import RemovalRefused, remove_photo
from monitor.evidence.photo_store import FolderStore, ObjectStore, PhotoStore, open_store
from monitor.evidence.photos import attach_one, attach_plan
from monitor.evidence.review import decide
from monitor.evidence.signals import signals
from monitor.ingest.importer import import_activities
from monitor.store.db import get_engine
from monitor.store.locks import lock_month, unlock_month
from tests.factories import ACTIVITY_HEADER, OPERATOR, TODAY
from tests.photo_factories import jpeg, load_activities, png
from tests.test_photos import LX_CLERK, NJK_CLERK, REVIEWER, FakeS3, _plan

OTHER_NJK_CLERK = Actor(name="泥江口镇另一位经办人", role="town", town="泥江口镇")


@pytest.fixture
def ids(session: Session, settings: Settings) -> dict[str, int]:
    return load_activities(session, settings)


def _files(store: PhotoStore) -> dict[tuple[str, str], int]:
    """(sha256, kind) -> size of every file in the store."""
    return {(f.sha256, f.kind): f.size for f in store.files()}


def _rows(session: Session) -> list[Photo]:
    session.expire_all()
    return list(session.exec(select(Photo).order_by(col(Photo.id))).all())


def _add(session: Session, settings: Settings, store: PhotoStore, actor: Actor, activity_id: int, seed: int) -> Photo:
    attach_one(
        session=session,
        actor=actor,
        settings=settings,
        store=store,
        activity_id=activity_id,
        name=f"现场{seed}.jpg",
        data=jpeg(seed),
    )
    return _rows(session)[-1]


def _remove(session: Session, settings: Settings, store: PhotoStore, actor: Actor, photo_id: int):  # type: ignore[no-untyped-def]
    return remove_photo(session=session, actor=actor, settings=settings, store=store, photo_id=photo_id, today=TODAY)


class LockingStore(FolderStore):
    """A folder whose upload takes long enough for a reviewer to lock 2025-06 meanwhile."""

    def __init__(self, root: Path, settings: Settings) -> None:
        super().__init__(root)
        self.settings, self.locked = settings, False

    def put(self, sha256: str, kind: str, data: bytes) -> None:
        super().put(sha256, kind, data)
        if not self.locked:
            self.locked = True
            with Session(get_engine(self.settings.database_url)) as other:
                lock_month(session=other, month="2025-06", actor=REVIEWER)


def test_a_transaction_refused_after_its_files_were_written_leaves_no_row_and_gc_takes_only_those_files(
    session, settings, ids
):  # type: ignore[no-untyped-def]
    store = LockingStore(settings.photos_dir, settings)
    plan = _plan(session, settings, {"油草塘村-0603.jpg": jpeg(1), "和平村-0603.jpg": jpeg(2)}, NJK_CLERK)
    assert [item.status for item in plan.items] == ["matched", "matched"]
    with pytest.raises(PhotoRefused, match="2025-06 已锁定"):
        attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=store, plan=plan)
    assert _rows(session) == []
    orphans = {item.facts.sha256 for item in plan.items if item.facts}
    written = _files(store)
    assert {sha for sha, _ in written} == orphans and len(written) == 4  # each original and its thumbnail

    unlock_month(session=session, month="2025-06", actor=REVIEWER)
    kept = _add(session, settings, FolderStore(settings.photos_dir), NJK_CLERK, ids["文艺演出"], 3)

    now = datetime.now(UTC)
    soon = collect_garbage(session=session, actor=OPERATOR, settings=settings, store=store, now=now)
    assert (soon.photos, soon.files, soon.bytes, soon.recent) == (0, 0, 0, 2)
    assert len(_files(store)) == 6, "a file younger than the grace period may belong to an upload not yet committed"

    later = collect_garbage(
        session=session, actor=OPERATOR, settings=settings, store=store, now=now + timedelta(hours=25)
    )
    assert (later.photos, later.files, later.bytes, later.recent) == (2, 4, sum(written.values()), 0)
    assert set(_files(store)) == {(kept.sha256, "original"), (kept.sha256, "thumb")}
    assert [p.sha256 for p in _rows(session)] == [kept.sha256]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "photos_gc").order_by(col(AuditEvent.id))).all()
    assert [(e.actor, json.loads(e.after)) for e in events] == [
        (OPERATOR.name, {"photos": 0, "files": 0, "bytes": 0, "grace_hours": 24}),
        (OPERATOR.name, {"photos": 2, "files": 4, "bytes": sum(written.values()), "grace_hours": 24}),
    ]


def test_gc_is_for_an_admin_and_a_shorter_grace_is_a_choice(session, settings, ids):  # type: ignore[no-untyped-def]
    store = FolderStore(settings.photos_dir)
    store.put("ab" * 32, "original", b"left behind")
    for actor in (NJK_CLERK, REVIEWER):
        with pytest.raises(Forbidden):
            collect_garbage(session=session, actor=actor, settings=settings, store=store)
    assert len(_files(store)) == 1
    hour = collect_garbage(
        session=session,
        actor=OPERATOR,
        settings=settings,
        store=store,
        grace_hours=1,
        now=datetime.now(UTC) + timedelta(minutes=61),
    )
    assert (hour.photos, hour.files, hour.bytes) == (1, 1, len(b"left behind"))
    assert _files(store) == {}


def test_the_uploader_removes_a_photo_until_review_and_a_reviewer_any_time(session, settings, ids):  # type: ignore[no-untyped-def]
    store = open_store(settings)
    talk = ids["理论宣讲进村"]
    photo = _add(session, settings, store, NJK_CLERK, talk, 1)
    assert photo.id is not None
    with pytest.raises(Forbidden, match="只能删除本乡镇（兰溪镇）"):
        _remove(session, settings, store, LX_CLERK, photo.id)
    with pytest.raises(Forbidden, match="本人上传"):
        _remove(session, settings, store, OTHER_NJK_CLERK, photo.id)
    assert len(_rows(session)) == 1

    done = _remove(session, settings, store, NJK_CLERK, photo.id)
    assert (done.photo_id, done.activity_id, done.file_deleted) == (photo.id, talk, True)
    assert _rows(session) == []
    assert not store.has(photo.sha256, "original") and not store.has(photo.sha256, "thumb")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "photo_remove")).one()
    assert event.actor == NJK_CLERK.name
    assert event.target == "泥江口镇油草塘村新时代文明实践站 2025-06-03 理论宣讲进村"
    assert json.loads(event.before) == {
        "photo_id": photo.id,
        "activity_id": talk,
        "file_name": "现场1.jpg",
        "uploaded_by": NJK_CLERK.name,
        "sha256": photo.sha256,
    }
    with pytest.raises(RemovalRefused, match="已被他人处理"):
        _remove(session, settings, store, NJK_CLERK, photo.id)

    again = _add(session, settings, store, NJK_CLERK, talk, 2)
    assert again.id is not None
    decide(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=talk,
        decision="recognised",
        seen="",
        today=TODAY,
    )
    with pytest.raises(RemovalRefused, match="已审核"):
        _remove(session, settings, store, NJK_CLERK, again.id)
    assert [p.id for p in _rows(session)] == [again.id]
    assert _remove(session, settings, store, REVIEWER, again.id).file_deleted
    assert _rows(session) == [] and _files(store) == {}


def test_the_file_goes_only_with_the_last_row_that_shows_it(session, settings, ids):  # type: ignore[no-untyped-def]
    store = open_store(settings)
    first = _add(session, settings, store, NJK_CLERK, ids["理论宣讲进村"], 7)
    second = _add(session, settings, store, NJK_CLERK, ids["和平村宣讲"], 7)
    assert first.sha256 == second.sha256 and first.id is not None and second.id is not None
    assert not _remove(session, settings, store, NJK_CLERK, first.id).file_deleted
    assert set(_files(store)) == {(first.sha256, "original"), (first.sha256, "thumb")}
    assert store.get(second.sha256, "thumb")[:3] == b"\xff\xd8\xff"  # the other activity still shows it
    assert _remove(session, settings, store, OPERATOR, second.id).file_deleted
    assert _files(store) == {}


def test_signals_and_counts_follow_a_removed_photo(session, settings, ids):  # type: ignore[no-untyped-def]
    store = open_store(settings)
    talk, peace = ids["理论宣讲进村"], ids["和平村宣讲"]
    shared = _add(session, settings, store, NJK_CLERK, talk, 5)
    _add(session, settings, store, NJK_CLERK, peace, 5)  # one picture on two units' activities

    def found(code: str) -> list[int]:
        frame = signals(
            session=session, query=Query(actor=REVIEWER, settings=settings, start="2025-06", end="2025-06"), code=code
        )
        return sorted(int(i) for i in frame["activity_id"].dropna())

    assert found("photo_reused") == sorted([talk, peace])
    assert talk not in found("no_photo")
    assert shared.id is not None
    _remove(session, settings, store, NJK_CLERK, shared.id)
    assert found("photo_reused") == []
    assert talk in found("no_photo")
    assert photo_counts(session, [talk, peace]) == {peace: 1}


def test_a_locked_month_takes_no_photo_and_gives_none_back(session, settings, ids):  # type: ignore[no-untyped-def]
    store = open_store(settings)
    talk = ids["理论宣讲进村"]
    photo = _add(session, settings, store, NJK_CLERK, talk, 1)
    assert photo.id is not None
    before = _files(store)
    lock_month(session=session, month="2025-06", actor=REVIEWER)

    with pytest.raises(PhotoRefused, match="2025-06 已锁定"):
        _add(session, settings, store, NJK_CLERK, talk, 2)
    assert _files(store) == before, "a refused photo leaves no file behind"
    for actor in (NJK_CLERK, REVIEWER):
        with pytest.raises(RemovalRefused, match="2025-06 已锁定"):
            _remove(session, settings, store, actor, photo.id)

    plan = _plan(session, settings, {"油草塘村-0605-文艺.jpg": jpeg(3)}, NJK_CLERK)
    [item] = plan.items
    assert (item.status, item.activity_id) == ("locked", ids["文艺演出"])
    assert "2025-06 已锁定" in item.message
    doc = plan.to_json()
    assert (doc["matched"], doc["locked"]) == (0, 1)
    assert doc["errors"] == [{"file": "油草塘村-0605-文艺.jpg", "code": "locked_month", "message": item.message}]
    assert attach_plan(session=session, actor=NJK_CLERK, settings=settings, store=store, plan=plan).stored == 0
    assert [p.id for p in _rows(session)] == [photo.id] and _files(store) == before

    unlock_month(session=session, month="2025-06", actor=REVIEWER)
    assert _remove(session, settings, store, NJK_CLERK, photo.id).file_deleted


def test_the_object_store_deletes_and_lists_what_it_holds(tmp_path: Path):
    client = FakeS3(page_size=2)
    store = ObjectStore(client, "photos", "monitor")
    one, two = "ab" * 32, "cd" * 32
    store.put(one, "original", b"one")
    store.put(one, "thumb", b"1")
    store.put(two, "original", b"two!")
    client.objects[("photos", "elsewhere/original/ab/" + one)] = b"not ours"  # another prefix of the bucket
    listed = _files(store)
    assert listed == {(one, "original"): 3, (one, "thumb"): 1, (two, "original"): 4}  # across pages
    assert all(f.modified.tzinfo is not None for f in store.files())
    store.delete(one, "original")
    store.delete(one, "original")  # already gone: nothing to do
    assert not store.has(one, "original") and store.has(one, "thumb")
    assert ("photos", "elsewhere/original/ab/" + one) in client.objects
    with pytest.raises(ValueError):
        store.delete("../../etc/passwd", "original")
    folder = FolderStore(tmp_path / "folder")
    folder.put(one, "original", b"one")
    folder.delete(one, "original")
    folder.delete(one, "original")
    assert _files(folder) == {} and not folder.has(one, "original")


def test_gc_and_removal_on_an_object_store(session, settings, ids):  # type: ignore[no-untyped-def]
    client = FakeS3()
    store = ObjectStore(client, "photos", "monitor")
    photo = _add(session, settings, store, NJK_CLERK, ids["理论宣讲进村"], 4)
    store.put("ef" * 32, "original", b"orphan")
    later = datetime.now(UTC) + timedelta(hours=25)
    done = collect_garbage(session=session, actor=OPERATOR, settings=settings, store=store, now=later)
    assert (done.photos, done.files, done.bytes) == (1, 1, 6)
    assert set(_files(store)) == {(photo.sha256, "original"), (photo.sha256, "thumb")}
    assert photo.id is not None
    assert _remove(session, settings, store, NJK_CLERK, photo.id).file_deleted
    assert client.objects == {}


def _ledger_with_pictures() -> bytes:
    """Two activities with a picture pasted beside each, and a row of a unit the roster does not know."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(ACTIVITY_HEADER)
    sheet.append(["NJK-YCT", "泥江口镇", "油草塘村", "2025-06-03", "理论宣讲进村", 20])
    sheet.append(["NJK-HP", "泥江口镇", "和平村", "2025-06-03", "和平村宣讲", 20])
    sheet.append(["NJK-NONE", "泥江口镇", "不存在村", "2025-06-04", "读书会", 20])
    sheet.add_image(SheetImage(io.BytesIO(png(11))), "G2")
    sheet.add_image(SheetImage(io.BytesIO(png(12))), "G3")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_pictures_pasted_in_a_refused_ledger_leave_only_files_that_gc_takes(session, settings):  # type: ignore[no-untyped-def]
    from tests.factories import load_roster

    load_roster(session, settings)
    data = _ledger_with_pictures()
    store = open_store(settings)

    def imported(strict: bool):  # type: ignore[no-untyped-def]
        return import_activities(
            session=session,
            actor=OPERATOR,
            settings=settings,
            file_name="六月台账.xlsx",
            data=data,
            strict=strict,
            today=TODAY,
        )

    refused = imported(strict=True)
    assert (refused.imported, refused.rejected) == (0, 1)
    assert session.exec(select(Activity)).all() == [] and _rows(session) == []
    assert len(_files(store)) == 4  # written before the transaction, which then stored nothing
    later = datetime.now(UTC) + timedelta(hours=25)
    assert collect_garbage(session=session, actor=OPERATOR, settings=settings, store=store, now=later).files == 4

    done = imported(strict=False)
    assert (done.imported, done.rejected) == (2, 1)
    linked = {p.sha256 for p in _rows(session)}
    assert len(linked) == 2 and {sha for sha, _ in _files(store)} == linked
    assert collect_garbage(session=session, actor=OPERATOR, settings=settings, store=store, now=later).files == 0
    assert len(_files(store)) == 4
