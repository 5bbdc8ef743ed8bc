"""活动登记 (SPEC §10) on both engines: one activity with its photos stored as an import row is, or
refused whole; corrected and withdrawn by its township until it is reviewed or its month locked; the
figures, counted by hand from the tables, moved by exactly what was done."""

from __future__ import annotations

import hashlib
import threading
from datetime import date

import pytest
from factories import OPERATOR, RULES, TODAY, activities_csv, count_by_hand, hold, load_roster, totals_by_hand
from photo_factories import heic, jpeg, png
from sqlalchemy import text
from sqlmodel import Session, select

from monitor.core.config import Settings
from monitor.core.labels import BATCH_KINDS
from monitor.core.models import Activity, AuditEvent, ImportBatch, Photo
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.counts import unitmonths
from monitor.evidence import signals as sig
from monitor.evidence.photo_links import linked_hashes
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import decide
from monitor.figures import metrics
from monitor.ingest import register as register_module
from monitor.ingest.importer import import_activities
from monitor.ingest.register import my_registrations, register_activity, registration
from monitor.ingest.register_check import Entry, RegisterRefused
from monitor.ingest.register_edit import correct_registration, withdraw_registration
from monitor.store.db import get_engine
from monitor.store.locks import lock_month

CLERK = Actor(name="泥江口镇经办人", role="town", town="泥江口镇")
LX_CLERK = Actor(name="兰溪镇经办人", role="town", town="兰溪镇")
REVIEWER = Actor(name="审核员", role="reviewer")
MONTHS = ["2026-09", "2026-10", "2026-11"]

# The photos, made once: a phone's JPEG, PNG and HEIC, and a JPEG whose bytes break off.
PHOTO = jpeg(1)
SECOND = png(2)
THIRD = heic(3)
CORRUPT = PHOTO[: len(PHOTO) // 3]
DATE_TIME = 0x0132  # EXIF DateTime
FAR = jpeg(4, exif={DATE_TIME: "2026:10:01 09:30:00"})  # 14 days before 2026-10-15
NEAR = jpeg(5, exif={DATE_TIME: "2026:10:13 09:30:00"})  # 2 days before 2026-10-15


def _district(session: Session, settings: Settings) -> None:
    """The small roster, with a few activities held in October and November."""
    load_roster(session, settings)
    hold(session, settings, {("NJK-YCT", "2026-10"): 2, ("NJK-HP", "2026-10"): 1, ("LX-S", "2026-11"): 1}, today=TODAY)


def _register(session, settings, actor=CLERK, unit="NJK-YCT", entry=None, photos=()):  # type: ignore[no-untyped-def]
    return register_activity(
        session=session,
        actor=actor,
        settings=settings,
        unit=unit,
        entry=entry or Entry(date(2026, 10, 15), "理论宣讲进村"),
        photos=list(photos),
        today=TODAY,
    )


def _held(session: Session) -> dict[tuple[str, str], int]:
    """Held per (unit code, month), counted by hand from the tables."""
    counted = {(c.code, c.month): c.held for c in count_by_hand(session, MONTHS)}
    session.rollback()
    return counted


def _rows(session: Session, sql: str) -> list[tuple]:
    found = sorted(tuple(r) for r in session.connection().execute(text(sql)).all())
    session.rollback()
    return found


def _state(session: Session) -> dict[str, object]:
    """Everything a registration may write, read with plain SQL."""
    return {
        "activities": _rows(session, "SELECT unit_id, date, title FROM activity"),
        "photos": _rows(session, "SELECT activity_id, sha256 FROM photo"),
        "batches": _rows(session, "SELECT kind, status FROM importbatch"),
        "unitmonth": _rows(
            session,
            "SELECT month, unit_id, activities, on_time, recognised, not_recognised, not_recognised_on_time "
            "FROM unitmonth",
        ),
        "townmonth": _rows(session, "SELECT * FROM townmonth"),
        "events": _rows(session, "SELECT action FROM auditevent"),
    }


def _counts_check(session: Session, settings: Settings) -> None:
    """`monitor check`: the unit-month counts and township sums equal a recomputation from the rows."""
    found = unitmonths.check(session=session, actor=OPERATOR, settings=settings)
    assert (found.differences, found.sums) == ([], [])
    session.rollback()


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _report(session: Session, town: str) -> dict:
    doc = metrics.report(
        session=session, query=Query(actor=OPERATOR, settings=RULES, start="2026-10", end="2026-10", town=town)
    )
    session.rollback()
    return doc.to_json()


def test_a_registration_stores_one_activity_and_its_photos_and_moves_the_figures_by_one(session, settings):
    _district(session, settings)
    held, report = _held(session), _report(session, "泥江口镇")
    entry = Entry("2026-10-15", "理论宣讲进村", "理论宣讲", 35, "村部广场", "邀请退休教师宣讲")
    done = _register(
        session, settings, entry=entry, photos=[("DCIM/现场1.jpg", PHOTO), ("合影.png", SECOND), ("a.heic", THIRD)]
    )

    assert done.to_json() == {
        "activity_id": done.activity_id,
        "batch_id": done.batch_id,
        "unit": "NJK-YCT",
        "date": "2026-10-15",
        "title": "理论宣讲进村",
        "photos": 3,
        "warnings": [],
    }
    session.expire_all()
    activity = session.get(Activity, done.activity_id)
    assert activity is not None
    assert (activity.category, activity.participants, activity.location, activity.notes) == (
        "理论宣讲",
        35,
        "村部广场",
        "邀请退休教师宣讲",
    )
    photos = session.exec(select(Photo).where(Photo.activity_id == done.activity_id)).all()
    assert sorted(p.file_name for p in photos) == ["a.heic", "合影.png", "现场1.jpg"]
    store = open_store(settings)
    assert all(store.has(p.sha256, "original") and store.has(p.sha256, "thumb") for p in photos)
    batch = session.get(ImportBatch, done.batch_id)
    assert batch is not None and activity.batch_id == batch.id
    assert (batch.kind, batch.status, batch.rows, batch.imported, batch.user, batch.town) == (
        "register",
        "imported",
        1,
        1,
        CLERK.name,
        "泥江口镇",
    )
    assert BATCH_KINDS[batch.kind] == "登记"

    after = _held(session)
    assert after[("NJK-YCT", "2026-10")] == held[("NJK-YCT", "2026-10")] + 1 == 3
    assert {k: v for k, v in after.items() if k != ("NJK-YCT", "2026-10")} == {
        k: v for k, v in held.items() if k != ("NJK-YCT", "2026-10")
    }
    moved = _report(session, "泥江口镇")
    by_hand = totals_by_hand(count_by_hand(session, ["2026-10"], town="泥江口镇"))
    assert moved["held"] == report["held"] + 1 == by_hand["held"] == 4
    assert moved["required"] == report["required"] == by_hand["required"]
    _counts_check(session, settings)
    [event] = _events(session, "register")
    assert (event.actor, event.detail) == (CLERK.name, f"活动 #{done.activity_id}，登记记录 #{done.batch_id}")
    assert '"title": "理论宣讲进村"' in event.after and '"photos": 3' in event.after


def _same_as_import(session: Session, settings: Settings, actor: Actor, unit: str, entry: Entry) -> tuple[str, str]:
    """The code and message the import gives the same row (a preview: nothing is written)."""
    row = [unit, "", "", str(entry.day), entry.title, ""]
    result = import_activities(
        session=session,
        actor=actor,
        settings=settings,
        data=activities_csv([row]),
        file_name="台账.csv",
        today=TODAY,
        dry_run=True,
    )
    return result.errors[0].code, result.errors[0].message


# (code, unit, entry, photos besides a good one, what the message says, the import says the same of the row)
REFUSALS = [
    ("future_date", "NJK-YCT", Entry("2026-11-27", "明天的活动"), [], "晚于今天", True),
    ("locked_month", "NJK-YCT", Entry("2026-09-10", "九月的活动"), [], "2026-09 已由审核人员锁定", True),
    ("forbidden_unit", "LX-S", Entry("2026-10-10", "兰溪的活动"), [], "属于兰溪镇", True),
    ("too_long", "NJK-YCT", Entry("2026-10-10", "长" * 201), [], "超过 200 字", True),
    ("unknown_unit", "NJK-NONE", Entry("2026-10-10", "无此单位"), [], "NJK-NONE", True),
    ("bad_date", "NJK-YCT", Entry("2026-02-30", "二月三十日"), [], "无法识别", True),
    ("duplicate_activity", "NJK-YCT", Entry("2026-10-01", "活动 1"), [], "已有活动“活动 1”", False),
    ("bad_image", "NJK-YCT", Entry("2026-10-10", "照片坏了"), [("坏照片.jpg", CORRUPT)], "坏照片.jpg", False),
    ("bad_number", "NJK-YCT", Entry("2026-10-10", "人数不对", participants=-3), [], "参与人数", False),
]


@pytest.mark.parametrize(
    ("code", "unit", "entry", "photos", "said", "as_import"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_a_registration_is_refused_whole_with_the_import_row_message(
    session, settings, code, unit, entry, photos, said, as_import
):
    _district(session, settings)
    lock_month(session=session, month="2026-09", actor=OPERATOR)
    before = _state(session)

    with pytest.raises(RegisterRefused) as refused:
        _register(session, settings, unit=unit, entry=entry, photos=[("现场.jpg", PHOTO), *photos])

    assert refused.value.code == code and said in refused.value.message
    assert refused.value.exit_code == 2
    if as_import:
        assert _same_as_import(session, settings, CLERK, unit, entry) == (code, refused.value.message)
    assert _state(session) == before  # no activity, photo, batch, count or event
    store = open_store(settings)
    assert not store.has(jpeg_sha(), "original")  # refused before any file was written
    _counts_check(session, settings)


def jpeg_sha() -> str:
    return hashlib.sha256(PHOTO).hexdigest()


def test_a_failure_inside_the_transaction_leaves_no_row_and_no_linked_file(session, settings, monkeypatch):
    _district(session, settings)
    before = _state(session)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(register_module, "attach_in_transaction", broken)
    with pytest.raises(RuntimeError):
        _register(session, settings, photos=[("现场.jpg", PHOTO)])
    assert _state(session) == before
    assert open_store(settings).has(jpeg_sha(), "original")  # written before the transaction, for `photos gc`
    assert linked_hashes(session, [jpeg_sha()]) == set()


def test_a_correction_moves_the_count_with_its_date_and_is_audited(session, settings):
    _district(session, settings)
    done = _register(session, settings)
    held = _held(session)
    current = registration(session=session, actor=CLERK, settings=settings, activity_id=done.activity_id)
    assert current is not None and current.entry == Entry(date(2026, 10, 15), "理论宣讲进村")

    fixed = correct_registration(
        session=session,
        actor=CLERK,
        settings=settings,
        activity_id=done.activity_id,
        entry=Entry("2026-11-03", "理论宣讲进组", participants=12),
        photos=[("补拍.png", SECOND)],
        seen=current.entry,
        today=TODAY,
    )

    assert fixed.before == {"date": "2026-10-15", "title": "理论宣讲进村", "participants": None}
    assert fixed.after == {"date": "2026-11-03", "title": "理论宣讲进组", "participants": 12}
    assert fixed.photos == 1
    after = _held(session)
    assert after[("NJK-YCT", "2026-10")] == held[("NJK-YCT", "2026-10")] - 1
    assert after[("NJK-YCT", "2026-11")] == held[("NJK-YCT", "2026-11")] + 1
    assert sum(after.values()) == sum(held.values())
    session.expire_all()
    activity = session.get(Activity, done.activity_id)
    assert activity is not None
    assert (activity.month, activity.title_key, activity.batch_id) == ("2026-11", "理论宣讲进组", done.batch_id)
    _counts_check(session, settings)
    [event] = _events(session, "register_correct")
    assert event.actor == CLERK.name
    assert '"date": "2026-10-15"' in event.before and '"title": "理论宣讲进村"' in event.before
    assert '"date": "2026-11-03"' in event.after and '"photos": 1' in event.after


def test_a_correction_onto_a_stored_activity_is_a_duplicate(session, settings):
    _district(session, settings)
    done = _register(session, settings)
    before = _state(session)
    with pytest.raises(RegisterRefused) as refused:
        correct_registration(
            session=session,
            actor=CLERK,
            settings=settings,
            activity_id=done.activity_id,
            entry=Entry("2026-10-02", "活动2"),
            today=TODAY,
        )
    assert refused.value.code == "duplicate_activity" and "已有活动“活动2”" in refused.value.message
    assert _state(session) == before


def test_a_withdrawal_leaves_every_figure_as_if_it_had_never_been(session, settings):
    _district(session, settings)
    store = open_store(settings)
    elsewhere = session.exec(select(Activity).where(Activity.title == "活动1")).first()
    assert elsewhere is not None and elsewhere.id is not None
    attach_one(
        session=session,
        actor=OPERATOR,
        settings=settings,
        store=store,
        activity_id=elsewhere.id,
        name="共用.jpg",
        data=PHOTO,
    )
    before, held, report = _state(session), _held(session), _report(session, "泥江口镇")
    done = _register(session, settings, photos=[("现场.jpg", PHOTO), ("合影.png", SECOND)])
    second_sha = session.exec(
        select(Photo.sha256).where(Photo.activity_id == done.activity_id, Photo.file_name == "合影.png")
    ).one()

    gone = withdraw_registration(session=session, actor=CLERK, settings=settings, activity_id=done.activity_id)

    assert gone.to_json() == {
        "activity_id": done.activity_id,
        "batch_id": done.batch_id,
        "removed": 1,
        "photos": 2,
        "files_deleted": 1,
    }
    after = _state(session)
    assert {k: v for k, v in after.items() if k not in ("batches", "events")} == {
        k: v for k, v in before.items() if k not in ("batches", "events")
    }
    assert _held(session) == held and _report(session, "泥江口镇") == report
    assert not store.has(second_sha, "original")  # no other activity shows it
    assert store.has(jpeg_sha(), "original")  # the other activity still shows this one
    session.expire_all()
    batch = session.get(ImportBatch, done.batch_id)
    assert batch is not None and batch.status == "rolled_back" and CLERK.name in batch.message
    _counts_check(session, settings)
    [event] = _events(session, "register_withdraw")
    assert '"title": "理论宣讲进村"' in event.before and '"status": "rolled_back"' in event.after

    with pytest.raises(RegisterRefused) as again:  # a second withdrawal, from a page opened before
        withdraw_registration(session=session, actor=CLERK, settings=settings, activity_id=done.activity_id)
    assert again.value.code == "not_found" and "已被他人处理" in again.value.message


@pytest.mark.parametrize("why", ["reviewed", "locked_month"])
def test_no_correction_or_withdrawal_once_reviewed_or_locked(session, settings, why):
    _district(session, settings)
    done = _register(session, settings)
    if why == "reviewed":
        decide(
            session=session,
            actor=REVIEWER,
            settings=settings,
            activity_id=done.activity_id,
            decision="recognised",
            seen="",
            today=TODAY,
        )
    else:
        lock_month(session=session, month="2026-10", actor=OPERATOR)
    before = _state(session)
    for actor in (CLERK, REVIEWER):
        with pytest.raises(RegisterRefused) as refused:
            correct_registration(
                session=session,
                actor=actor,
                settings=settings,
                activity_id=done.activity_id,
                entry=Entry("2026-10-16", "理论宣讲进村"),
                today=TODAY,
            )
        assert refused.value.code == why
        with pytest.raises(RegisterRefused) as refused:
            withdraw_registration(session=session, actor=actor, settings=settings, activity_id=done.activity_id)
        assert refused.value.code == why
    assert _state(session) == before


def test_a_correction_into_a_locked_month_is_refused(session, settings):
    _district(session, settings)
    lock_month(session=session, month="2026-09", actor=OPERATOR)
    done = _register(session, settings)
    before = _state(session)
    with pytest.raises(RegisterRefused) as refused:
        correct_registration(
            session=session,
            actor=CLERK,
            settings=settings,
            activity_id=done.activity_id,
            entry=Entry("2026-09-30", "理论宣讲进村"),
            today=TODAY,
        )
    assert refused.value.code == "locked_month" and "2026-09" in refused.value.message
    assert _state(session) == before


def test_a_town_clerk_cannot_correct_or_withdraw_for_another_township(session, settings):
    _district(session, settings)
    done = _register(session, settings, actor=REVIEWER, unit="LX-HP", entry=Entry("2026-10-20", "兰溪和平村宣讲"))
    before = _state(session)
    with pytest.raises(Forbidden):
        correct_registration(
            session=session,
            actor=CLERK,
            settings=settings,
            activity_id=done.activity_id,
            entry=Entry("2026-10-21", "改名"),
            today=TODAY,
        )
    with pytest.raises(Forbidden):
        withdraw_registration(session=session, actor=CLERK, settings=settings, activity_id=done.activity_id)
    assert _state(session) == before
    assert registration(session=session, actor=CLERK, settings=settings, activity_id=done.activity_id) is None
    # its own township's clerk may
    gone = withdraw_registration(session=session, actor=LX_CLERK, settings=settings, activity_id=done.activity_id)
    assert gone.removed == 1


def test_an_imported_activity_is_not_corrected_here(session, settings):
    _district(session, settings)
    imported = session.exec(select(Activity).where(Activity.title == "活动1")).first()
    assert imported is not None and imported.id is not None
    with pytest.raises(RegisterRefused) as refused:
        withdraw_registration(session=session, actor=CLERK, settings=settings, activity_id=imported.id)
    assert refused.value.code == "refused" and "不是登记的活动" in refused.value.message


def test_a_correction_from_a_stale_page_is_told_not_written(session, settings):
    _district(session, settings)
    done = _register(session, settings)
    opened = Entry(date(2026, 10, 15), "理论宣讲进村")  # what both pages show
    correct_registration(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=done.activity_id,
        entry=Entry(date(2026, 10, 15), "理论宣讲进村（审核员改）"),
        seen=opened,
        today=TODAY,
    )
    before = _state(session)
    with pytest.raises(RegisterRefused) as refused:
        correct_registration(
            session=session,
            actor=CLERK,
            settings=settings,
            activity_id=done.activity_id,
            entry=Entry(date(2026, 10, 15), "理论宣讲进村（经办人改）"),
            seen=opened,
            today=TODAY,
        )
    assert refused.value.code == "stale" and "已被他人处理" in refused.value.message
    assert _state(session) == before


def test_the_photo_date_signal_fires_for_a_photo_taken_days_away(session, settings):
    _district(session, settings)
    far = _register(session, settings, entry=Entry("2026-10-15", "远"), photos=[("远.jpg", FAR)])
    near = _register(session, settings, entry=Entry("2026-10-15", "近"), photos=[("近.jpg", NEAR)])
    found = sig.signals(
        session=session,
        query=Query(actor=OPERATOR, settings=settings, start="2026-10", end="2026-10"),
        code="photo_date",
    )
    flagged = set(found["activity_id"].dropna().astype(int))
    assert far.activity_id in flagged and near.activity_id not in flagged
    message = found.loc[found["activity_id"] == far.activity_id, "message"].iloc[0]
    assert "2026-10-01" in message and "14 天" in message


def test_my_registrations_lists_this_month_and_last_with_photos_and_review_state(session, settings):
    _district(session, settings)
    first = _register(session, settings, photos=[("现场.jpg", PHOTO)])
    second = _register(session, settings, entry=Entry("2026-11-02", "志愿服务"))
    old = _register(session, settings, entry=Entry("2026-09-02", "九月登记"))
    _register(session, settings, actor=LX_CLERK, unit="LX-S", entry=Entry("2026-10-03", "兰溪"))
    mine_too = _register(session, settings, actor=REVIEWER, unit="NJK-HP", entry=Entry("2026-10-04", "代登记"))
    session.connection().execute(
        text("UPDATE importbatch SET created_at = '2026-08-20 02:00:00' WHERE id = :id"), {"id": old.batch_id}
    )
    session.commit()
    decide(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=second.activity_id,
        decision="rejected",
        reason="照片与活动不符",
        seen="",
        today=TODAY,
    )

    listed = my_registrations(session=session, actor=CLERK, settings=settings, today=TODAY)

    assert [r.activity.id for r in listed] == [second.activity_id, first.activity_id]  # newest first
    shown = {r.activity.id: r for r in listed}
    assert (shown[first.activity_id].review_state, shown[first.activity_id].open) == ("待认定", True)
    assert (shown[second.activity_id].review_state, shown[second.activity_id].reason) == ("不予认定", "照片与活动不符")
    assert shown[second.activity_id].open is False
    photo = session.exec(select(Photo).where(Photo.activity_id == first.activity_id)).one()
    assert [(p.id, p.sha256) for p in shown[first.activity_id].activity.photos] == [(photo.id, photo.sha256)]
    reviewed = my_registrations(session=session, actor=REVIEWER, settings=settings, today=TODAY)
    assert [r.activity.id for r in reviewed] == [mine_too.activity_id]


def _at_once(settings: Settings, *calls) -> list[object]:  # type: ignore[no-untyped-def]
    """Each call(session) in a thread of its own with a session of its own, started together: what each
    returned, or the refusal it raised."""
    barrier, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(number: int, call) -> None:  # type: ignore[no-untyped-def]
        with Session(get_engine(settings.database_url)) as own:
            barrier.wait(timeout=30)
            try:
                outcomes[number] = call(own)
            except RegisterRefused as exc:
                outcomes[number] = exc

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_people_at_once_one_wins_the_other_is_told(session, settings):
    _district(session, settings)
    entry = Entry("2026-10-20", "同时登记")
    registered = _at_once(
        settings,
        *[lambda own, actor=actor: _register(own, settings, actor=actor, entry=entry) for actor in (CLERK, REVIEWER)],
    )
    refused = [o for o in registered if isinstance(o, RegisterRefused)]
    [stored] = [o for o in registered if not isinstance(o, RegisterRefused)]
    assert [r.code for r in refused] == ["duplicate_activity"]
    _counts_check(session, settings)

    activity_id = stored.activity_id  # type: ignore[attr-defined]
    withdrawn = _at_once(
        settings,
        *[
            lambda own, actor=actor: withdraw_registration(
                session=own, actor=actor, settings=settings, activity_id=activity_id
            )
            for actor in (CLERK, REVIEWER)
        ],
    )
    assert sorted(type(o).__name__ for o in withdrawn) == ["RegisterRefused", "Withdrawn"]
    assert [o.code for o in withdrawn if isinstance(o, RegisterRefused)] == ["not_found"]
    assert _held(session)[("NJK-YCT", "2026-10")] == 2
    _counts_check(session, settings)


def test_the_form_shows_each_photo_s_thumbnail_or_why_it_cannot_be_saved():
    from monitor.ingest.register_check import preview_photos

    shown = preview_photos(
        [("IMG_1.jpg", jpeg(1)), ("坏照片.jpg", b"\xff\xd8 not a picture"), ("a/b/IMG_2.png", png(2))], RULES
    )
    assert [p.name for p in shown] == ["IMG_1.jpg", "坏照片.jpg", "IMG_2.png"]  # never a path
    assert [bool(p.thumb) for p in shown] == [True, False, True]
    assert shown[0].problem == "" and shown[1].problem and "坏照片.jpg" in shown[1].problem


def test_units_to_register_are_the_township_s_own_the_last_used_first(session, settings):
    from monitor.ingest.register_units import units_to_register

    load_roster(session, settings)
    clerk = Actor(name="泥江口镇经办人", role="town", town="泥江口镇")
    with pytest.raises(Forbidden):
        units_to_register(session=session, actor=clerk, town="兰溪镇", today=TODAY)
    first = units_to_register(session=session, actor=clerk, town=None, today=TODAY)
    assert list(first["code"]) == ["NJK-S", "NJK-HP", "NJK-YCT"]  # roster order: the institute, then stations
    register_activity(
        session=session, actor=clerk, settings=settings, unit="NJK-YCT", entry=Entry(TODAY, "例会"), today=TODAY
    )
    assert list(units_to_register(session=session, actor=clerk, town=None, today=TODAY)["code"]) == [
        "NJK-YCT",
        "NJK-S",
        "NJK-HP",
    ]
    reviewer = Actor(name="审核", role="reviewer")
    assert list(units_to_register(session=session, actor=reviewer, town="区级", today=TODAY)["code"]) == ["ZX"]
