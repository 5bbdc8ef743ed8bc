"""The gallery of 活动认定: a unit's (or a township's) activities of a month with their photos and decisions,
the review queue's counts, the township scope, and the speed at district scale.

Every count is worked out by hand from the activities and photos each test stores.
"""

from __future__ import annotations

import hashlib
import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from monitor.core.models import Activity, Photo, Unit
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.evidence import gallery
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import decide, decisions_of, reply
from monitor.store.db import bump_version
from tests.factories import OPERATOR, RULES, TODAY, hold, load_roster

REVIEWER = Actor(name="审核员", role="reviewer")
NJK_CLERK = Actor(name="泥江口文书", role="town", town="泥江口镇")
LX_CLERK = Actor(name="兰溪文书", role="town", town="兰溪镇")
_EXIF_IFD, _TAKEN = 0x8769, 0x9003


def photo(seed: int, taken: str = "") -> bytes:
    """A small JPEG of its own colour (so its own SHA-256), with an EXIF time when given."""
    image = Image.new("RGB", (64, 48), ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    exif = Image.Exif()
    if taken:
        exif.get_ifd(_EXIF_IFD)[_TAKEN] = taken
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def ids_of(session: Session, code: str, month: str) -> list[int]:
    unit = session.exec(select(Unit).where(Unit.code == code)).one()
    rows = session.exec(
        select(Activity.id).where(Activity.unit_id == unit.id, Activity.month == month).order_by(col(Activity.date))
    ).all()
    return [int(i) for i in rows if i is not None]


def attach(session: Session, settings, activity_id: int, seed: int, taken: str = "", actor: Actor = OPERATOR) -> None:  # type: ignore[no-untyped-def]
    attach_one(
        session=session,
        actor=actor,
        settings=settings,
        store=open_store(settings),
        activity_id=activity_id,
        name=f"{seed}.jpg",
        data=photo(seed, taken),
    )


@pytest.fixture
def district(session, settings):  # type: ignore[no-untyped-def]
    """June 2025: 油草塘村 3 activities (days 1-3), 和平村 2, 兰溪镇和平村 1; 油草塘村 also 1 in May.
    Photos: 油草塘村's first activity 2 (EXIF 2025-06-01 and none), its second 1; the others none."""
    load_roster(session, settings)
    hold(
        session,
        settings,
        {("NJK-YCT", "2025-06"): 3, ("NJK-HP", "2025-06"): 2, ("LX-HP", "2025-06"): 1, ("NJK-YCT", "2025-05"): 1},
        today=TODAY,
    )
    first, second, _ = ids_of(session, "NJK-YCT", "2025-06")
    attach(session, settings, first, 1, "2025:06:01 09:30:00")
    attach(session, settings, first, 2)
    attach(session, settings, second, 3, "2025:05:20 10:00:00")
    return session


def _decide(session, settings, activity_id: int, decision: str, reason: str = "") -> None:  # type: ignore[no-untyped-def]
    """The reviewer decides on the activity as it stands now."""
    decide(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=activity_id,
        decision=decision,
        reason=reason,
        seen=decisions_of(session, [activity_id]).get(activity_id, ("", ""))[0],
        today=TODAY,
    )


def test_a_units_month_lists_its_activities_by_date_with_photos_and_exif_times(district, settings):
    items = gallery.gallery(session=district, actor=REVIEWER, month="2025-06", code="NJK-YCT")
    assert [(i.date, i.title, len(i.photos)) for i in items] == [
        (date(2025, 6, 1), "活动1", 2),
        (date(2025, 6, 2), "活动2", 1),
        (date(2025, 6, 3), "活动3", 0),
    ]
    first = items[0]
    assert [p.taken_at for p in first.photos] == ["2025-06-01 09:30:00", ""]
    assert [p.file_name for p in first.photos] == ["1.jpg", "2.jpg"]
    assert all(len(p.sha256) == 64 and open_store(settings).has(p.sha256, "thumb") for p in first.photos)
    assert (first.unit_code, first.town, first.month) == ("NJK-YCT", "泥江口镇", "2025-06")
    assert all(i.status == "pending" and i.status_label == "待认定" and not i.reviewer for i in items)


def test_a_township_month_holds_every_unit_of_it_and_no_other(district):
    items = gallery.gallery(session=district, actor=REVIEWER, month="2025-06", town="泥江口镇")
    assert [(i.unit_code, i.date.day) for i in items] == [("NJK-HP", 1), ("NJK-HP", 2)] + [
        ("NJK-YCT", d) for d in (1, 2, 3)
    ]
    assert len(gallery.gallery(session=district, actor=REVIEWER, month="2025-06")) == 6
    assert gallery.gallery(session=district, actor=REVIEWER, month="2025-07", town="泥江口镇") == []
    assert [
        i.month
        for i in gallery.gallery(session=district, actor=REVIEWER, month="2025-05", end="2025-06", code="NJK-YCT")
    ] == ["2025-05"] + ["2025-06"] * 3
    assert gallery.gallery(session=district, actor=REVIEWER, month="2025-06", code="NO-SUCH") == []


def test_decisions_and_answers_move_the_status(district, settings):
    first, second, third = ids_of(district, "NJK-YCT", "2025-06")
    _decide(district, settings, first, "rejected", "照片与活动不符")
    _decide(district, settings, second, "recognised")

    def status() -> dict[int, tuple[str, str, str]]:
        items = gallery.gallery(session=district, actor=REVIEWER, month="2025-06", code="NJK-YCT")
        return {i.id: (i.status, i.reason, i.reviewer) for i in items}

    assert status() == {
        first: ("rejected", "照片与活动不符", "审核员"),
        second: ("recognised", "", "审核员"),
        third: ("pending", "", ""),
    }
    reply(session=district, actor=NJK_CLERK, settings=settings, activity_id=first, text="已补充现场照片", today=TODAY)
    assert status()[first][0] == "answered"
    [item] = gallery.items(session=district, actor=NJK_CLERK, activity_ids=[first])
    assert (item.status_label, item.answered, item.decided_at is not None) == ("已答复待复核", True, True)
    _decide(district, settings, first, "rejected", "仍不是本次活动")  # looked again: the answer is behind it
    assert status()[first] == ("rejected", "仍不是本次活动", "审核员")
    _decide(district, settings, first, "recognised")
    assert status()[first][0] == "recognised"


def test_the_queue_counts_what_waits_at_each_unit(district, settings):
    yct = ids_of(district, "NJK-YCT", "2025-06")
    hp = ids_of(district, "NJK-HP", "2025-06")
    _decide(district, settings, yct[0], "rejected", "无现场照片")
    _decide(district, settings, yct[1], "recognised")
    _decide(district, settings, hp[0], "rejected", "标题与内容不符")
    reply(session=district, actor=NJK_CLERK, settings=settings, activity_id=hp[0], text="已补充", today=TODAY)

    queue = gallery.queue(session=district, query=Query.month_of(REVIEWER, RULES, "2025-06"))
    rows = {r["code"]: r for r in queue.to_dict("records")}
    assert list(queue["code"]) == ["LX-HP", "NJK-HP", "NJK-YCT"]  # by township, type, code
    pick = ["activities", "photos", "no_photo", "pending", "recognised", "rejected", "answered"]
    assert [rows["NJK-YCT"][k] for k in pick] == [3, 3, 1, 1, 1, 1, 0]
    assert [rows["NJK-HP"][k] for k in pick] == [2, 0, 2, 1, 0, 0, 1]
    assert [rows["LX-HP"][k] for k in pick] == [1, 0, 1, 1, 0, 0, 0]
    assert list(
        gallery.queue(session=district, query=Query.month_of(REVIEWER, RULES, "2025-06", town="兰溪镇"))["code"]
    ) == ["LX-HP"]
    assert (
        list(
            gallery.queue(session=district, query=Query.month_of(REVIEWER, RULES, "2025-06", unit_type="institute"))[
                "code"
            ]
        )
        == []
    )
    assert gallery.queue(session=district, query=Query.month_of(REVIEWER, RULES, "2025-07")).empty


def test_town_staff_see_their_own_township_only(district):
    assert {i.town for i in gallery.gallery(session=district, actor=NJK_CLERK, month="2025-06")} == {"泥江口镇"}
    with pytest.raises(Forbidden):
        gallery.gallery(session=district, actor=NJK_CLERK, month="2025-06", town="兰溪镇")
    with pytest.raises(Forbidden):
        gallery.gallery(session=district, actor=NJK_CLERK, month="2025-06", code="LX-HP")
    [lx] = ids_of(district, "LX-HP", "2025-06")
    yct = ids_of(district, "NJK-YCT", "2025-06")
    assert [i.id for i in gallery.items(session=district, actor=NJK_CLERK, activity_ids=[lx, *yct])] == yct
    assert gallery.item(session=district, actor=NJK_CLERK, activity_id=lx) is None
    assert gallery.item(session=district, actor=LX_CLERK, activity_id=lx) is not None
    assert set(gallery.queue(session=district, query=Query.month_of(NJK_CLERK, RULES, "2025-06"))["town"]) == {
        "泥江口镇"
    }


def test_items_keep_the_order_asked_and_skip_what_is_gone(district):
    yct = ids_of(district, "NJK-YCT", "2025-06")
    asked = [yct[2], yct[0], 10**9, yct[0]]
    assert [i.id for i in gallery.items(session=district, actor=REVIEWER, activity_ids=asked)] == [yct[2], yct[0]]


def test_an_empty_database_has_an_empty_gallery_and_queue(session):
    assert gallery.gallery(session=session, actor=REVIEWER, month="2025-06") == []
    assert gallery.queue(session=session, query=Query.month_of(REVIEWER, RULES, "2025-06")).empty
    assert (
        list(gallery.queue(session=session, query=Query.month_of(REVIEWER, RULES, "2025-06")).columns)
        == gallery.QUEUE_COLUMNS
    )


def test_the_demo_queue_holds_every_activity_of_the_month_once(demo_session):
    month = "2025-06"
    stored = demo_session.exec(select(func.count()).select_from(Activity).where(Activity.month == month)).one()
    queue = gallery.queue(session=demo_session, query=Query.month_of(REVIEWER, RULES, month))
    assert int(queue["activities"].sum()) == stored
    assert (queue[["pending", "recognised", "rejected", "answered"]].sum(axis=1) == queue["activities"]).all()
    code = str(queue["code"].iloc[0])
    items = gallery.gallery(session=demo_session, actor=REVIEWER, month=month, code=code)
    assert len(items) == int(queue["activities"].iloc[0])
    assert sum(len(i.photos) for i in items) == int(queue["photos"].iloc[0])


def _district_scale(session: Session, settings) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A year at district scale written straight to the tables: 260 units, about 7,000 activities,
    20,800 photo rows (the files themselves do not matter to the queries). Returns a unit and month to open."""
    units = [
        {"code": f"U{n:03d}", "name": f"站{n}", "short_name": f"站{n}", "type": "station", "town": f"镇{n % 18}"}
        for n in range(260)
    ]
    session.connection().execute(insert(Unit.__table__), units)  # type: ignore[attr-defined]
    unit_ids = [int(i) for i in session.exec(select(Unit.id).order_by(col(Unit.code))).all() if i is not None]
    stored = datetime(2025, 1, 1, tzinfo=UTC)
    activities = [
        {
            "unit_id": unit_id,
            "date": date(2025, month, day),
            "month": f"2025-{month:02d}",
            "title": f"活动{day}",
            "title_key": f"活动{day}",
            "stored_at": stored,
        }
        for unit_id in unit_ids
        for month in range(1, 13)
        for day in (3, 12, 25)[: 2 + (unit_id + month) % 2]
    ]
    session.connection().execute(insert(Activity.__table__), activities)  # type: ignore[attr-defined]
    activity_ids = [int(i) for i in session.exec(select(Activity.id)).all() if i is not None]
    photos = [
        {
            "activity_id": activity_id,
            "sha256": hashlib.sha256(f"{activity_id}-{n}".encode()).hexdigest(),
            "phash": "0" * 16,
            "taken_at": "2025-06-03 10:00:00",
            "uploaded_at": stored + timedelta(days=n),
        }
        for activity_id in activity_ids
        for n in range(3)
    ][:20_800]
    session.connection().execute(insert(Photo.__table__), photos)  # type: ignore[attr-defined]
    bump_version(session)
    session.commit()
    return "U007", len(photos)


def test_the_gallery_opens_in_well_under_a_second_at_district_scale(session, settings):
    code, photos = _district_scale(session, settings)
    assert session.exec(select(func.count()).select_from(Photo)).one() == photos == 20_800
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        queue = gallery.queue(session=session, query=Query.month_of(REVIEWER, RULES, "2025-06"))
        items = gallery.gallery(session=session, actor=REVIEWER, month="2025-06", code=code)
        timings.append(time.perf_counter() - started)
    assert len(queue) == 260 and len(items) in (2, 3) and all(len(i.photos) == 3 for i in items)
    assert min(timings) < 1.0, timings
