"""The demo's evidence (SPEC §8): photos on December 2025, a few decisions, and every signal on
exactly the units planted for it (monitor/demo.py says what is planted where; the cases below are
written out by hand, not read from it). The figures of the department's report stay as they were.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime

import numpy as np
from factories import OPERATOR, RULES
from PIL import Image
from sqlmodel import col, func, select

from monitor.core.models import Activity, Photo
from monitor.core.query import Query
from monitor.demo.photos import draw_photo
from monitor.evidence.images import describe
from monitor.evidence.photo_store import open_store
from monitor.evidence.review import feedback, thread
from monitor.evidence.signals import signals
from monitor.figures import metrics

MONTH = "2025-12"
PLANTED = {
    "photo_reused": {"NJK-007", "LX-012", "QJH-009", "QJH-001"},
    "no_photo": {"OJC-009", "CSP-009"},
    "photo_date": {"QJH-001", "LX-012"},
    "copied_title": {
        *("YJQ-001", "YJQ-002", "YJQ-003", "YJQ-004", "YJQ-005", "YJQ-006", "YJQ-007"),
        *("YJQ-008", "YJQ-009", "YJQ-010", "YJQ-011", "YJQ-012", "YJQ-013", "YJQ-014"),
        *("HLQ-001", "HLQ-002", "HLQ-003", "HLQ-004", "HLQ-005", "HLQ-006"),
    },
    "month_end_bunching": {"OJC-014", "HS-S"},
    "count_outlier": {"CSP-010"},
    "repeated_title": {"LX-003"},
    "resubmitted": {"QJH-001"},
}
PHOTOS = 978  # rows: one per activity a picture is on
FILES = 976  # LX-012's borrowed picture is NJK-007's file, QJH-001's 12-15 one its 12-12 one
DUE = {
    "2025-10": set(),
    "2025-11": {"LX-009", "LX-011", "XSD-010", "YXS-010", "ZJQ-001"},
    "2025-12": {
        *("BZS-001", "CSP-007", "LGQ-003", "LGQ-012", "LX-009"),
        *("LX-011", "LX-S", "XSD-010", "YXS-010", "ZJQ-001"),
    },
}
LAGGARDS_2024 = {
    *("HLS-001", "HLS-004", "HLS-006", "HS-002", "HS-003", "HS-009", "JYS-013", "LX-004"),
    *("NJK-004", "NJK-012", "NJK-YCT", "XLG-007", "YJQ-009", "YJQ-011", "ZJQ-002"),
}


def _found(frame) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    found: dict[str, set[str]] = defaultdict(set)
    for code, unit in zip(frame["code"], frame["unit_code"], strict=True):
        found[code].add(unit)
    return dict(found)


def test_every_signal_shows_on_exactly_the_units_planted_for_it(demo_session, demo_settings):
    frame = signals(session=demo_session, query=Query(actor=OPERATOR, settings=demo_settings, start=MONTH, end=MONTH))
    assert set(frame["month"]) == {MONTH}
    assert _found(frame) == PLANTED
    rows = {code: frame[frame["code"] == code] for code in PLANTED}
    # Per activity: both ends of each reused picture, QJH-009's on the 17th and on the 19th.
    reused = rows["photo_reused"]
    assert sorted(zip(reused["unit_code"], reused["date"], strict=True)) == [
        ("LX-012", "2025-12-12"),
        ("NJK-007", "2025-12-04"),
        ("QJH-001", "2025-12-12"),
        ("QJH-001", "2025-12-15"),
        ("QJH-009", "2025-12-17"),
        ("QJH-009", "2025-12-19"),
    ]
    assert "泥江口镇青山村 2025-12-04" in reused[reused["unit_code"] == "LX-012"]["message"].item()
    assert "相近" in reused[reused["unit_code"] == "QJH-009"]["message"].iloc[0]
    dated = rows["photo_date"][rows["photo_date"]["unit_code"] == "QJH-001"]
    assert sorted(dated["message"]) == [
        "照片拍摄于 2025-10-26，与活动日期 2025-12-12 相差 47 天",
        "照片拍摄于 2025-10-26，与活动日期 2025-12-15 相差 50 天",
    ]
    assert set(rows["no_photo"]["date"]) == {"2025-12-20", "2025-12-10"}
    copied = rows["copied_title"]
    assert len(copied) == 20 and set(copied["date"]) == {"2025-12-12"}
    assert set(copied["title"]) == {"12月学习贯彻党的二十届四中全会精神宣讲"}
    assert rows["count_outlier"]["message"].item().startswith("本月 10 次")
    assert rows["repeated_title"]["title"].item() == "农家书屋读书会"
    # QJH-001's 12-12 was 不予认定 for its photo; that photo came back on its next activity.
    again = rows["resubmitted"]
    assert again["date"].item() == "2025-12-15"
    assert again["message"].item().startswith("照片与已不予认定的活动 #")
    assert "相同（本单位 2025-12-12" in again["message"].item()


def test_the_months_before_the_photos_have_no_signal(demo_session, demo_settings):
    """Nothing is planted before December, and the generator itself makes none of these patterns."""
    frame = signals(
        session=demo_session, query=Query(actor=OPERATOR, settings=demo_settings, start="2025-01", end="2025-11")
    )
    assert frame.empty


def test_december_has_its_photos_in_the_store(demo_session, demo_settings):
    store = open_store(demo_settings)
    photos = demo_session.exec(
        select(
            Photo.sha256, Photo.phash, Photo.taken_at, Photo.width, Photo.height, Activity.month, Activity.date
        ).join(Activity, col(Activity.id) == col(Photo.activity_id))
    ).all()
    assert len(photos) == PHOTOS and len({p[0] for p in photos}) == FILES
    assert {p[5] for p in photos} == {MONTH}
    assert {(p[3], p[4]) for p in photos} == {(480, 360)}
    december = demo_session.exec(select(func.count()).select_from(Activity).where(Activity.month == MONTH)).one()
    with_photos = demo_session.exec(select(func.count(func.distinct(Photo.activity_id)))).one()
    assert with_photos == december - 2  # OJC-009's and CSP-009's first activities have none
    # Taken on the activity's day, but for the planted ones (QJH-001's, twice, and LX-012's borrowed one).
    off = [p for p in photos if p[2][:10] != str(p[6])[:10]]
    assert sorted(p[2][:10] for p in off) == ["2025-10-26", "2025-10-26", "2025-12-04"]
    for sha256 in {p[0] for p in photos}:
        assert store.has(sha256, "original")
        with Image.open(io.BytesIO(store.get(sha256, "thumb"))) as thumb:
            thumb.load()
            assert thumb.format == "JPEG" and max(thumb.size) <= 480
    # Only the planted pictures are near-duplicates: the same file twice, and QJH-009's two.
    hashes = sorted({(p[1], p[0]) for p in photos})
    values = np.array([int(h, 16) for h, _ in hashes], dtype=np.uint64)
    distance = np.bitwise_count(values[:, None] ^ values[None, :])
    close = [(i, j) for i, j in zip(*np.nonzero(distance <= 4), strict=True) if i < j]
    assert len(close) == 1  # the borrowed picture is one file, so one row here


def test_decisions_and_an_answer_give_the_feedback_pages_content(demo_session):
    reviewed = feedback(session=demo_session, actor=OPERATOR, decision=None)
    assert len(reviewed) == 13 and set(reviewed["reviewer"]) == {"reviewer"}
    recognised = reviewed[reviewed["decision"] == "recognised"]
    assert set(recognised["code"]) == {"NJK-S", "NJK-002", "NJK-003"} and len(recognised) == 10
    rejected = feedback(session=demo_session, actor=OPERATOR)
    assert sorted(zip(rejected["code"], rejected["date"].astype(str), strict=True)) == [
        ("LX-012", "2025-12-12"),
        ("OJC-009", "2025-12-20"),
        ("QJH-001", "2025-12-12"),
    ]
    assert all(reason for reason in rejected["reason"])
    answered = rejected.set_index("code")["answered"]
    assert answered.to_dict() == {"LX-012": True, "OJC-009": False, "QJH-001": False}
    assert rejected.set_index("code")["photos"]["LX-012"] == 2  # the borrowed picture and the one sent with the answer
    lx = int(rejected.set_index("code")["activity_id"]["LX-012"])
    assert list(thread(session=demo_session, actor=OPERATOR, activity_id=lx)["kind"]) == ["rejected", "reply"]


def test_the_reports_figures_stand(demo_session):
    def asked(start: str, end: str, **more: str) -> Query:
        return Query(actor=OPERATOR, settings=RULES, start=start, end=end, **more)

    first_half = metrics.report(session=demo_session, query=asked("2025-01", "2025-06")).to_json()
    assert (first_half["held"], first_half["required"]) == (3617, 3264)
    assert f"{first_half['completion_rate'] * 100:.2f}" == "110.81"
    laggards = metrics.laggards(session=demo_session, query=asked("2024-01", "2024-08", unit_type="station"), below=10)
    assert set(laggards["code"]) == LAGGARDS_2024
    for month, due in DUE.items():
        assert set(metrics.interviews(session=demo_session, query=asked(month, month), min_streak=2)["code"]) == due
    december = metrics.report(session=demo_session, query=asked(MONTH, MONTH))
    assert december.to_json()["not_recognised"] == 3
    grid = december.grid.set_index("code")
    for code in ("LX-012", "QJH-001", "OJC-009"):  # 不予认定 once each, and still at quota
        assert (grid.at[code, "not_recognised"], grid.at[code, "held"]) == (1, 2)
    assert grid.at["CSP-010", "held"] == 10


def test_a_demo_photo_is_the_same_for_the_same_seed_and_carries_its_time():
    taken = datetime(2025, 12, 3, 10, 15, 0)
    one = draw_photo(seed=7, title="12月农家书屋读书会", taken_at=taken)
    assert one == draw_photo(seed=7, title="12月农家书屋读书会", taken_at=taken)
    facts = describe(one, limit_bytes=RULES.photo_limit_bytes, max_pixels=RULES.photo_max_pixels)
    assert (facts.kind, facts.width, facts.height, facts.taken_at) == ("JPEG", 480, 360, "2025-12-03 10:15:00")
    other = describe(
        draw_photo(seed=8, title="12月农家书屋读书会", taken_at=taken),
        limit_bytes=RULES.photo_limit_bytes,
        max_pixels=RULES.photo_max_pixels,
    )
    assert (int(facts.phash, 16) ^ int(other.phash, 16)).bit_count() > 4
