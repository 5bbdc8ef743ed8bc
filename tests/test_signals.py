"""疑点 (SPEC §8): each signal found where it is planted and not on the near miss beside it.

The data is mostly built with the tables directly (photos are rows with chosen hashes and EXIF times,
no files); the resubmission and camera-year cases go through import, review and photo upload as a
clerk and a reviewer do. Every expected value is written out by hand.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from factories import OPERATOR, TODAY, activities_csv
from photo_factories import jpeg, load_activities
from sqlmodel import func, select

from monitor.core.calendar import BadPeriod
from monitor.core.models import Activity, Photo, Review, Unit
from monitor.core.normalize import title_key
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query
from monitor.evidence import signals as sig
from monitor.evidence.images import hamming
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import decide
from monitor.ingest.importer import import_activities

STORED = datetime(2025, 8, 1, tzinfo=UTC)
REVIEWER = Actor(name="审核员", role="reviewer")
SUFFIX = {"station": "新时代文明实践站", "institute": "新时代文明实践所", "center": "新时代文明实践服务中心"}


class District:
    """Units, activities and photos written straight into the tables."""

    def __init__(self, session):
        self.session = session
        self.unit_ids: dict[str, int] = {}

    def unit(self, code, short, town="", kind="station", active_from=None):
        unit = Unit(
            code=code,
            name=short + SUFFIX[kind],
            short_name=short,
            type=kind,
            town=town,
            active_from=active_from,
        )
        self.session.add(unit)
        self.session.flush()
        self.unit_ids[code] = unit.id
        return self

    def act(self, code, day, title="活动"):
        when = date.fromisoformat(day)
        activity = Activity(
            unit_id=self.unit_ids[code],
            date=when,
            month=day[:7],
            title=title,
            title_key=title_key(title),
            stored_at=STORED,
        )
        self.session.add(activity)
        self.session.flush()
        return activity.id

    def photo(self, activity_id, sha, phash="", taken_at=""):
        self.session.add(Photo(activity_id=activity_id, sha256=sha, phash=phash, taken_at=taken_at, uploaded_at=STORED))
        self.session.flush()

    def done(self):
        self.session.commit()
        return self.session


def run(session, settings, start="2025-06", end="2025-06", actor=OPERATOR, town=None, code=None) -> pd.DataFrame:
    return sig.signals(
        session=session, query=Query(actor=actor, settings=settings, start=start, end=end, town=town), code=code
    )


def found(frame: pd.DataFrame) -> list[tuple[str, str, int | None]]:
    """(unit code, month, activity id) of each signal, in the table's order."""
    return [
        (unit, month, None if pd.isna(activity) else int(activity))
        for unit, month, activity in zip(frame["unit_code"], frame["month"], frame["activity_id"], strict=True)
    ]


# --- photo_reused ---------------------------------------------------------------------------------


@pytest.fixture
def photos(session):
    d = District(session)
    d.unit("YCT", "油草塘村", "泥江口镇").unit("HP", "和平村", "兰溪镇").unit("XJ", "新建村", "兰溪镇")
    ids = {}
    # The same file on two units' activities.
    ids["same_a"] = d.act("YCT", "2025-06-03", "理论宣讲")
    ids["same_b"] = d.act("HP", "2025-06-10", "理论宣讲")
    d.photo(ids["same_a"], "sha-same", "5555555555555555")
    d.photo(ids["same_b"], "sha-same", "5555555555555555")
    # Two files whose perceptual hashes differ in 4 bits, one in each of four of the five bands.
    ids["near_a"] = d.act("YCT", "2025-06-05", "环境整治")
    ids["near_c"] = d.act("XJ", "2025-06-05", "环境整治")
    d.photo(ids["near_a"], "sha-near-1", "0000000000000000")
    d.photo(ids["near_c"], "sha-near-2", "0000008004002001")
    # 5 bits apart: a different picture.
    ids["far_a"] = d.act("YCT", "2025-06-07", "义诊")
    ids["far_c"] = d.act("XJ", "2025-06-08", "义诊")
    d.photo(ids["far_a"], "sha-far-1", "ffffffffffffffff")
    d.photo(ids["far_c"], "sha-far-2", "ffefff7ffbffdffe")
    # One unit, one day, two activities with one photo: not a reuse.
    ids["day_1"] = d.act("HP", "2025-06-20", "上午 宣讲")
    ids["day_2"] = d.act("HP", "2025-06-20", "下午 宣讲")
    d.photo(ids["day_1"], "sha-day", "3333333333333333")
    d.photo(ids["day_2"], "sha-day", "3333333333333333")
    # A photo of last June used again this June.
    ids["old"] = d.act("XJ", "2024-06-01", "文艺演出")
    ids["again"] = d.act("HP", "2025-06-25", "文艺演出")
    d.photo(ids["old"], "sha-old", "0f0f0f0f0f0f0f0f")
    d.photo(ids["again"], "sha-old", "0f0f0f0f0f0f0f0f")
    # One unit, two days: a reuse.
    ids["own_1"] = d.act("YCT", "2025-06-14", "读书会")
    ids["own_2"] = d.act("YCT", "2025-06-15", "读书分享会")
    d.photo(ids["own_1"], "sha-own")
    d.photo(ids["own_2"], "sha-own")
    d.done()
    return ids


def test_photo_reused_same_and_near_photos_are_found(session, settings, photos):
    frame = run(session, settings, code="photo_reused")
    assert found(frame) == [
        ("HP", "2025-06", photos["same_b"]),
        ("HP", "2025-06", photos["again"]),
        ("XJ", "2025-06", photos["near_c"]),
        ("YCT", "2025-06", photos["same_a"]),
        ("YCT", "2025-06", photos["near_a"]),
        ("YCT", "2025-06", photos["own_1"]),
        ("YCT", "2025-06", photos["own_2"]),
    ]
    assert frame["code"].unique().tolist() == ["photo_reused"]
    assert frame["town"].tolist() == ["兰溪镇", "兰溪镇", "兰溪镇", "泥江口镇", "泥江口镇", "泥江口镇", "泥江口镇"]
    assert frame["message"].tolist() == [
        "照片与 泥江口镇油草塘村 2025-06-03 的活动照片相同",
        "照片与 兰溪镇新建村 2024-06-01 的活动照片相同",
        "照片与 泥江口镇油草塘村 2025-06-05 的活动照片相近",
        "照片与 兰溪镇和平村 2025-06-10 的活动照片相同",
        "照片与 兰溪镇新建村 2025-06-05 的活动照片相近",
        "照片与 本单位 2025-06-15 的活动照片相同",
        "照片与 本单位 2025-06-14 的活动照片相同",
    ]
    assert frame["date"].tolist()[:2] == ["2025-06-10", "2025-06-25"]
    assert frame["title"].tolist()[:2] == ["理论宣讲", "文艺演出"]


def test_photo_reused_distance_is_a_setting(session, settings, photos):
    frame = run(session, replace(settings, photo_near_distance=5), code="photo_reused")
    assert {photos["far_a"], photos["far_c"]} <= set(frame["activity_id"].tolist())
    assert len(frame) == 9
    frame = run(session, replace(settings, photo_near_distance=3), code="photo_reused")
    assert not {photos["near_a"], photos["near_c"]} & set(frame["activity_id"].tolist())
    assert len(frame) == 5


def test_photo_reused_the_other_side_may_be_in_another_township(session, settings, photos):
    frame = run(session, settings, code="photo_reused", town="泥江口镇")
    assert found(frame) == [
        ("YCT", "2025-06", photos["same_a"]),
        ("YCT", "2025-06", photos["near_a"]),
        ("YCT", "2025-06", photos["own_1"]),
        ("YCT", "2025-06", photos["own_2"]),
    ]
    assert frame["message"].iloc[0] == "照片与 兰溪镇和平村 2025-06-10 的活动照片相同"


def test_photo_reused_names_a_few_places_and_counts_the_rest(session, settings):
    d = District(session)
    for n, short in enumerate(["一村", "二村", "三村", "四村", "五村"], start=1):
        d.unit(f"S{n}", short, "甲镇")
        d.photo(d.act(f"S{n}", f"2025-06-0{n}", "宣讲"), "sha-shared")
    d.done()
    frame = run(session, settings, code="photo_reused")
    assert frame["unit_code"].tolist() == ["S1", "S2", "S3", "S4", "S5"]
    assert frame["message"].iloc[0] == (
        "照片与 甲镇二村 2025-06-02、甲镇三村 2025-06-03、甲镇四村 2025-06-04 等 4 处活动的照片相同"
    )


def test_near_pairs_finds_a_pair_exactly_the_distance_apart_in_any_band():
    # 64 bits in 5 bands of 13, 13, 13, 13 and 12 bits (distance 4).
    base = "0000000000000000"
    pairs = {
        "4 bits, one in each of four bands": ("0000008004002001", True),
        "4 bits, all in the last band": ("f000000000000000", True),
        "4 bits, all in the first band": ("000000000000000f", True),
        "4 bits across band edges": ("0010000006000001", True),
        "5 bits, one in each band": ("0010008004002001", False),
        "64 bits": ("ffffffffffffffff", False),
    }
    for name, (other, expected) in pairs.items():
        values = np.array([int(base, 16), int(other, 16)], dtype=np.uint64)
        i, j = sig.near_pairs(values, np.array([0]), 4)
        assert (sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 0), (0, 1)]) is expected, name


def test_near_pairs_with_other_distances():
    assert sig.near_pairs(np.array([0, 1], dtype=np.uint64), np.array([0]), 0)[1].tolist() == [0]
    eight = np.array([0, 0x0101010101010101, 0x0301010101010101], dtype=np.uint64)  # 8 and 9 bits from 0
    i, j = sig.near_pairs(eight, np.array([0, 1, 2]), 8)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)]
    assert sig.near_pairs(eight, np.array([0]), -1)[0].tolist() == []


def test_near_pairs_agrees_with_comparing_every_pair():
    # Clusters of hashes a few bits from a centre, so that pairs near the threshold are common.
    rng = random.Random(7)
    centres = [rng.getrandbits(64) for _ in range(20)]
    hashes = [c ^ sum(1 << b for b in rng.sample(range(64), rng.randint(0, 6))) for c in centres for _ in range(8)]
    texts = [format(h, "016x") for h in hashes]
    for distance in (0, 1, 3, 4, 5, 7):
        every = {(a, b) for a, b in combinations(range(len(texts)), 2) if hamming(texts[a], texts[b]) <= distance}
        i, j = sig.near_pairs(np.array(hashes, dtype=np.uint64), np.arange(len(hashes)), distance)
        bucketed = {(int(a), int(b)) for a, b in zip(i, j, strict=True) if a < b}
        assert bucketed == every, distance
        assert len(every) > 0


# --- no_photo -------------------------------------------------------------------------------------


def test_no_photo_from_the_first_month_with_photos(session, settings):
    d = District(session)
    d.unit("A", "甲村", "甲镇").unit("B", "乙村", "乙镇")
    d.act("A", "2025-04-10", "四月")
    with_photo = d.act("A", "2025-05-10", "五月")
    d.photo(with_photo, "sha-1")
    d.act("B", "2025-04-11", "四月")
    b_may = d.act("B", "2025-05-11", "五月")
    a_june = d.act("A", "2025-06-10", "六月")
    d.done()
    frame = run(session, settings, start="2025-03", end="2025-06", code="no_photo")
    assert found(frame) == [("B", "2025-05", b_may), ("A", "2025-06", a_june)]  # 乙镇 sorts before 甲镇
    assert frame["message"].tolist() == ["活动没有上传照片", "活动没有上传照片"]


def test_no_photo_is_never_raised_while_no_photo_is_stored(session, settings):
    d = District(session)
    d.unit("A", "甲村", "甲镇")
    d.act("A", "2025-06-10")
    d.done()
    assert run(session, settings).empty


# --- photo_date -----------------------------------------------------------------------------------


def test_photo_date_more_than_three_days_from_the_activity(session, settings):
    d = District(session)
    d.unit("A", "甲村", "甲镇")
    four_after = d.act("A", "2025-06-10", "四天后")
    d.photo(four_after, "sha-1", taken_at="2025-06-14 09:00:00")
    three_after = d.act("A", "2025-06-20", "三天后")
    d.photo(three_after, "sha-2", taken_at="2025-06-23 23:59:59")
    four_before = d.act("A", "2025-06-11", "四天前")
    d.photo(four_before, "sha-3", taken_at="2025-06-07 00:00:01")
    unknown = d.act("A", "2025-06-12", "无拍摄时间")
    d.photo(unknown, "sha-4", taken_at="")
    several = d.act("A", "2025-06-13", "多张")
    d.photo(several, "sha-5", taken_at="2025-06-13 10:00:00")
    d.photo(several, "sha-6", taken_at="2025-05-01 10:00:00")
    d.photo(several, "sha-7", taken_at="2025-06-20 10:00:00")
    d.done()
    frame = run(session, settings, code="photo_date")
    assert found(frame) == [
        ("A", "2025-06", four_after),
        ("A", "2025-06", four_before),
        ("A", "2025-06", several),
    ]
    assert frame["message"].tolist() == [
        "照片拍摄于 2025-06-14，与活动日期 2025-06-10 相差 4 天",
        "照片拍摄于 2025-06-07，与活动日期 2025-06-11 相差 4 天",
        "2 张照片的拍摄日期与活动日期相差超过 3 天，最多 43 天（2025-05-01 拍摄）",
    ]


def test_photo_date_flags_exif_years_before_2000_as_not_credible(session, settings):
    ids = load_activities(session, settings)  # 油草塘村: 理论宣讲进村 on 3 June, 志愿服务 and 文艺演出 on 5 June
    for title, seed, taken in (
        ("理论宣讲进村", 31, "0001:01:01 00:00:00"),
        ("志愿服务", 32, "0999:12:31 23:59:59"),
        ("文艺演出", 33, "1900:01:01 08:00:00"),
        ("和平村宣讲", 34, "2025:06:03 09:00:00"),  # as the camera should say
    ):
        _attach(session, settings, ids[title], jpeg(seed, exif={0x0132: taken}))
    frame = run(session, settings, code="photo_date")
    assert found(frame) == [
        ("NJK-YCT", "2025-06", ids["理论宣讲进村"]),
        ("NJK-YCT", "2025-06", ids["志愿服务"]),
        ("NJK-YCT", "2025-06", ids["文艺演出"]),
    ]
    assert frame["message"].tolist() == [
        "照片拍摄时间 0001-01-01 不可信（早于 2000 年）",
        "照片拍摄时间 0999-12-31 不可信（早于 2000 年）",
        "照片拍摄时间 1900-01-01 不可信（早于 2000 年）",
    ]


def test_photo_date_reads_every_way_an_early_year_was_stored(session, settings):
    d = District(session)
    d.unit("A", "甲村", "甲镇")
    short = d.act("A", "2025-06-10", "年份一位")
    d.photo(short, "sha-1", taken_at="1-01-01 00:00:00")
    padded = d.act("A", "2025-06-11", "年份补零")
    d.photo(padded, "sha-2", taken_at="0999-06-01 10:00:00")
    impossible = d.act("A", "2025-06-12", "无效日期")
    d.photo(impossible, "sha-3", taken_at="2025-13-01 10:00:00")
    several = d.act("A", "2025-06-13", "多张")
    d.photo(several, "sha-4", taken_at="2025-06-20 10:00:00")
    d.photo(several, "sha-5", taken_at="0001-01-01 00:00:00")
    d.done()
    frame = run(session, settings, code="photo_date")
    assert found(frame) == [("A", "2025-06", short), ("A", "2025-06", padded), ("A", "2025-06", several)]
    assert frame["message"].tolist() == [
        "照片拍摄时间 0001-01-01 不可信（早于 2000 年）",
        "照片拍摄时间 0999-06-01 不可信（早于 2000 年）",
        "2 张照片的拍摄日期与活动日期相差超过 3 天，其中拍摄时间 0001-01-01 不可信（早于 2000 年）",
    ]


# --- resubmitted ----------------------------------------------------------------------------------


def _attach(session, settings, activity_id: int, data: bytes) -> None:
    done = attach_one(
        session=session,
        actor=OPERATOR,
        settings=settings,
        store=open_store(settings),
        activity_id=activity_id,
        name="1.jpg",
        data=data,
    )
    assert done.stored == 1


def _reject(session, settings, activity_id: int) -> None:
    decide(
        session=session,
        actor=REVIEWER,
        settings=settings,
        activity_id=activity_id,
        decision="rejected",
        reason="照片与活动内容不符",
        seen="",
        today=TODAY,
    )


def _import_again(session, settings, code: str, day: str, title: str) -> int:
    done = import_activities(
        session=session,
        actor=OPERATOR,
        settings=settings,
        file_name="补报.csv",
        data=activities_csv([[code, "", "", day, title, "20"]]),
        today=TODAY,
    )
    assert (done.errors, done.imported) == ([], 1)
    return int(session.exec(select(func.max(Activity.id))).one())  # the newest


def test_a_rejected_activity_imported_again_with_the_same_photo_is_resubmitted(session, settings):
    ids = load_activities(session, settings)
    rejected = ids["理论宣讲进村"]  # 油草塘村, 3 June
    photo = jpeg(21)
    _attach(session, settings, rejected, photo)
    _attach(session, settings, ids["志愿服务"], jpeg(22))  # the same unit on another day, its own photo
    _reject(session, settings, rejected)
    again = _import_again(session, settings, "NJK-YCT", "2025-06-03", "理论宣讲进村（补充材料）")
    _attach(session, settings, again, photo)
    frame = run(session, settings, code="resubmitted")
    assert found(frame) == [("NJK-YCT", "2025-06", again)]
    assert frame["message"].tolist() == [f"与已不予认定的活动同单位同日期（#{rejected} 理论宣讲进村），照片相同"]
    assert frame["title"].tolist() == ["理论宣讲进村(补充材料)"]  # as stored: brackets read half-width
    # Among all signals, only the activity that came back carries it; 和平村 on the same day does not.
    everything = run(session, settings)
    assert everything.loc[everything["code"] == "resubmitted", "activity_id"].tolist() == [again]
    assert sig.SIGNALS["resubmitted"] in sig.ranking(everything).set_index("unit_code").at["NJK-YCT", "codes"]


def test_resubmitted_follows_the_rejected_photo_to_other_units_and_days(session, settings):
    ids = load_activities(session, settings)
    rejected = ids["理论宣讲进村"]  # 油草塘村, 3 June
    photo = jpeg(21)
    _attach(session, settings, rejected, photo)
    _reject(session, settings, rejected)
    _attach(session, settings, ids["兰溪和平村宣讲"], photo)  # another unit, the same file
    # The same picture saved again with another camera time: another file, the same perceptual hash.
    _attach(session, settings, ids["文艺演出"], jpeg(21, exif={0x0132: "2025:06:05 09:00:00"}))
    _attach(session, settings, ids["和平村宣讲"], jpeg(23))  # the same day, another unit, another picture
    frame = run(session, settings, code="resubmitted")
    assert found(frame) == [("LX-HP", "2025-06", ids["兰溪和平村宣讲"]), ("NJK-YCT", "2025-06", ids["文艺演出"])]
    assert frame["message"].tolist() == [
        f"照片与已不予认定的活动 #{rejected} 相同（泥江口镇油草塘村 2025-06-03 理论宣讲进村）",
        f"照片与已不予认定的活动 #{rejected} 相近（本单位 2025-06-03 理论宣讲进村）",
    ]


def test_resubmitted_is_not_raised_on_activities_already_decided_or_unrelated(session, settings):
    d = District(session)
    d.unit("A", "甲村", "甲镇").unit("B", "乙村", "甲镇").unit("C", "丙村", "乙镇")
    # The originals: an activity stored before a later copy of it that was 不予认定, and a photo
    # uploaded before the copy of it that was. They came first, so nothing of theirs came back.
    original = d.act("C", "2025-06-08", "读书会")
    d.photo(original, "sha-first", "3333333333333333")
    copy = d.act("C", "2025-06-08", "读书会（二）")
    d.photo(copy, "sha-first", "3333333333333333")
    borrowed = d.act("A", "2025-06-09", "义诊")
    d.photo(borrowed, "sha-first", "3333333333333333")
    first = d.act("A", "2025-06-03", "宣讲")
    rejected_too = d.act("A", "2025-06-03", "宣讲（补充材料）")
    recognised = d.act("A", "2025-06-03", "宣讲（再次补充）")
    d.act("A", "2025-06-04", "宣讲")  # another day
    d.act("B", "2025-06-03", "宣讲")  # another unit
    last_year = d.act("B", "2024-05-20", "文艺演出")
    d.photo(last_year, "sha-old", "0f0f0f0f0f0f0f0f")
    reused = d.act("B", "2025-06-20", "文艺演出")
    d.photo(reused, "sha-old", "0f0f0f0f0f0f0f0f")
    for activity_id, decision in (
        (copy, "rejected"),
        (borrowed, "rejected"),
        (first, "rejected"),
        (rejected_too, "rejected"),
        (recognised, "recognised"),
        (last_year, "rejected"),
    ):
        session.add(Review(activity_id=activity_id, decision=decision, reason="", decided_at=STORED))
    d.done()
    frame = run(session, settings, code="resubmitted")
    assert found(frame) == [("A", "2025-06", recognised), ("B", "2025-06", reused)]
    assert frame["message"].tolist() == [
        f"与已不予认定的活动同单位同日期（#{first} 宣讲）；"
        f"与已不予认定的活动同单位同日期（#{rejected_too} 宣讲（补充材料））",
        f"照片与已不予认定的活动 #{last_year} 相同（本单位 2024-05-20 文艺演出）",
    ]


# --- copied_title ---------------------------------------------------------------------------------


@pytest.fixture
def copied(session):
    d = District(session)
    for n in range(1, 11):
        d.unit(f"J{n:02d}", f"甲{n}村", "甲镇" if n <= 5 else "乙镇")
    d.unit("J-S", "甲镇", "甲镇", kind="institute")
    ten = [
        d.act(f"J{n:02d}", "2025-06-18", "学习贯彻 会议精神" if n == 3 else "学习贯彻会议精神") for n in range(1, 11)
    ]
    d.act("J-S", "2025-06-18", "学习贯彻会议精神")  # an institute: not a station
    for n in range(1, 10):
        d.act(f"J{n:02d}", "2025-06-19", "文明交通宣传")  # 9 stations
    for n in range(1, 11):
        d.act(f"J{n:02d}", f"2025-06-{n:02d}", "文明交通宣传")  # 10 stations, on ten days
    d.done()
    return ten


def test_copied_title_at_ten_stations_on_one_day(session, settings, copied):
    frame = run(session, settings, code="copied_title")
    assert found(frame) == [(f"J{n:02d}", "2025-06", copied[n - 1]) for n in (6, 7, 8, 9, 10, 1, 2, 3, 4, 5)]
    assert set(frame["message"]) == {"同一天 10 个站使用相同标题"}


def test_copied_title_counts_the_stations_of_every_township(session, settings, copied):
    frame = run(session, settings, code="copied_title", town="甲镇")
    assert found(frame) == [(f"J{n:02d}", "2025-06", copied[n - 1]) for n in (1, 2, 3, 4, 5)]
    assert set(frame["message"]) == {"同一天 10 个站使用相同标题"}


def test_copied_title_threshold_is_a_setting(session, settings, copied):
    frame = run(session, replace(settings, copied_title_units=9), code="copied_title")
    assert len(frame) == 19
    assert sorted(set(frame["message"])) == ["同一天 10 个站使用相同标题", "同一天 9 个站使用相同标题"]


# --- month_end_bunching ---------------------------------------------------------------------------


@pytest.fixture
def bunching(session):
    d = District(session)
    days = {
        "U1": ["2025-06-28", "2025-06-29", "2025-06-30"],  # 3 of 3 in the last 3 days
        "U2": ["2025-06-29", "2025-06-30"],  # only 2
        "U3": ["2025-06-02", "2025-06-28", "2025-06-29", "2025-06-30", "2025-06-30"],  # 4 of 5 = 80 %
        "U4": ["2025-06-01", "2025-06-02", "2025-06-28", "2025-06-29", "2025-06-30"],  # 3 of 5
        "U5": ["2025-06-10", "2025-06-10"],  # all on one day
        "U6": ["2025-06-10"],  # one activity
        "U7": ["2025-02-26", "2025-02-27", "2025-02-28"],  # February has 28 days
        "U8": ["2025-02-25", "2025-02-27", "2025-02-28"],  # 25 February is not in the last 3 days
    }
    towns = {
        "U1": "甲镇",
        "U2": "乙镇",
        "U3": "甲镇",
        "U4": "乙镇",
        "U5": "乙镇",
        "U6": "甲镇",
        "U7": "甲镇",
        "U8": "乙镇",
    }
    for code, dates in days.items():
        d.unit(code, f"{code}村", towns[code])
        for k, day in enumerate(dates):
            d.act(code, day, f"活动{k}")
    return d.done()


def test_month_end_bunching(session, settings, bunching):
    frame = run(session, settings, start="2025-02", end="2025-06", code="month_end_bunching")
    assert found(frame) == [
        ("U5", "2025-06", None),  # 乙镇 sorts before 甲镇
        ("U1", "2025-06", None),
        ("U3", "2025-06", None),
        ("U7", "2025-02", None),
    ]
    assert frame["message"].tolist() == [
        "本月 2 次活动全部在同一天（2025-06-10）",
        "本月 3 次活动中 3 次集中在月底最后 3 天（28 日及以后）",
        "本月 5 次活动中 4 次集中在月底最后 3 天（28 日及以后）",
        "本月 3 次活动中 3 次集中在月底最后 3 天（26 日及以后）",
    ]
    assert frame["activity_id"].dtype == "Int64"
    assert frame["date"].isna().all() and frame["title"].isna().all()


def test_town_scope(session, settings, bunching):
    reviewer = Actor(name="审核员", role="reviewer")
    frame = run(session, settings, start="2025-02", end="2025-06", actor=reviewer, town="乙镇")
    assert set(frame["town"]) == {"乙镇"}
    assert found(frame) == [("U5", "2025-06", None)]
    everyone = run(session, settings, start="2025-02", end="2025-06", actor=reviewer)
    assert set(everyone["town"]) == {"甲镇", "乙镇"}
    clerk = Actor(name="乙镇文书", role="town", town="乙镇")
    with pytest.raises(Forbidden):
        run(session, settings, start="2025-02", end="2025-06", actor=clerk)
    with pytest.raises(Forbidden):
        run(session, settings, start="2025-02", end="2025-06", actor=clerk, town="乙镇")


def test_unknown_code_and_bad_period_are_refused(session, settings, bunching):
    with pytest.raises(ValueError, match="没有“photo”这种疑点"):
        run(session, settings, code="photo")
    with pytest.raises(BadPeriod):
        run(session, settings, start="2025-07", end="2025-06")


# --- count_outlier --------------------------------------------------------------------------------


def test_count_outlier_against_the_units_own_history(session, settings):
    d = District(session)
    d.unit("U1", "甲村", "甲镇", active_from="2025-01")
    d.unit("U2", "乙村", "甲镇", active_from="2025-01")
    d.unit("U3", "丙村", "甲镇", active_from="2025-02")  # five months of history
    d.unit("U4", "丁村", "甲镇", active_from="2024-06")  # many months with nothing: median 0
    steady = {"2025-01": 2, "2025-02": 2, "2025-03": 2, "2025-04": 3, "2025-05": 2, "2025-06": 2}
    july = {"U1": 8, "U2": 7, "U3": 9, "U4": 6}
    for code in ("U1", "U2", "U3"):
        for month, n in steady.items():
            if code == "U3" and month == "2025-01":
                continue
            for k in range(1, n + 1):
                d.act(code, f"{month}-{k:02d}", f"活动{k}")
    d.act("U4", "2025-05-01", "活动")
    ids = {code: [d.act(code, f"2025-07-{k:02d}", f"七月{k}") for k in range(1, n + 1)] for code, n in july.items()}
    d.done()
    # A rejected activity still counts: it is what was reported.
    session.add(Review(activity_id=ids["U1"][0], decision="rejected", reason="照片不符", decided_at=STORED))
    session.commit()
    frame = run(session, settings, start="2025-07", end="2025-07", code="count_outlier")
    # U1: 0.6745 × (8 − 2) / max(MAD 0, 1) = 4.05 > 3.5; U2: 0.6745 × 5 = 3.37; U3: five months only;
    # U4: active for 12 months, but the district's records start in 2025-01: six months (five empty,
    # one with 1), median 0, MAD 0 → 1: 0.6745 × 6 = 4.05.
    assert found(frame) == [("U1", "2025-07", None), ("U4", "2025-07", None)]
    assert frame["message"].tolist() == [
        "本月 8 次，前 6 个有任务月份的中位数为 2 次（修正 z 值 4.0）",
        "本月 6 次，前 6 个有任务月份的中位数为 0 次（修正 z 值 4.0）",
    ]


def test_count_outlier_months_before_the_first_record_are_not_history(session, settings):
    d = District(session)
    d.unit("ZX", "区", kind="center").unit("A", "甲村", "甲镇", active_from="2024-01")
    for month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"):
        d.act("A", f"{month}-05", "宣讲")
    for k in range(1, 11):
        d.act("ZX", f"2025-01-{k:02d}", f"第{k}次")  # the first month on record
        d.act("ZX", f"2025-07-{k:02d}", f"第{k}次")  # after six months with nothing
    d.done()
    assert run(session, settings, start="2025-01", end="2025-06", code="count_outlier").empty
    frame = run(session, settings, start="2025-07", end="2025-07", code="count_outlier")
    # ZX in July: history 2025-01..06 = 10, 0, 0, 0, 0, 0: median 0, MAD 0 → 1, z = 0.6745 × 10.
    assert found(frame) == [("ZX", "2025-07", None)]
    assert frame["message"].tolist() == ["本月 10 次，前 6 个有任务月份的中位数为 0 次（修正 z 值 6.7）"]


def test_outlier_scores_floor_mad_at_one():
    history = np.array([[2, 2, 2, 3, 2, 2], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0]])
    active = np.array([[True] * 6, [True] * 6, [False] * 6])
    z, months = sig.outlier_scores(np.array([8, 10, 5]), history, active)
    # median 2, MAD 0 → 1; median 3.5, MAD 1.5; no history.
    assert z[0] == pytest.approx(0.6745 * 6)
    assert z[1] == pytest.approx(0.6745 * 6.5 / 1.5)
    assert np.isnan(z[2])
    assert months.tolist() == [6, 6, 0]


# --- repeated_title -------------------------------------------------------------------------------


def test_repeated_title_three_months_running(session, settings):
    d = District(session)
    for code in ("U1", "U2", "U3", "U4"):
        d.unit(code, f"{code}村", "甲镇")
    d.act("U1", "2025-04-03", "理论宣讲")
    d.act("U1", "2025-05-03", "理论宣讲")
    u1_june = d.act("U1", "2025-06-03", "理论宣讲")
    d.act("U2", "2025-05-03", "理论宣讲")  # two months
    d.act("U2", "2025-06-03", "理论宣讲")
    d.act("U3", "2025-03-03", "理论宣讲")  # a gap in May
    d.act("U3", "2025-04-03", "理论宣讲")
    d.act("U3", "2025-06-03", "理论宣讲")
    d.act("U4", "2025-04-08", "理论宣讲")
    d.act("U4", "2025-05-08", "理论 宣讲")
    u4_june = d.act("U4", "2025-06-08", "理论宣讲")
    d.act("U4", "2025-06-20", "理论宣讲 ")
    u4_july = d.act("U4", "2025-07-08", "理论宣讲")
    d.done()
    frame = run(session, settings, start="2025-05", end="2025-07", code="repeated_title")
    assert found(frame) == [
        ("U1", "2025-06", u1_june),
        ("U4", "2025-06", u4_june),
        ("U4", "2025-07", u4_july),
    ]
    assert frame["message"].tolist() == [
        "标题“理论宣讲”已连续 3 个月使用",
        "标题“理论宣讲”已连续 3 个月使用",
        "标题“理论宣讲”已连续 4 个月使用",
    ]


# --- the table, ranking, JSON ---------------------------------------------------------------------


def test_all_codes_in_one_table_sorted(session, settings, photos):
    frame = run(session, settings)
    assert list(frame.columns[: len(sig.COLUMNS)]) == sig.COLUMNS
    assert {"date", "title", "unit_id", "type"} <= set(frame.columns)
    assert frame["activity_id"].dtype == "Int64"
    # HP on 2025-06-20: one photo on two activities of the same day, each with a photo; no other signal.
    hp = frame[frame["unit_code"] == "HP"]
    assert hp["code"].tolist() == ["photo_reused", "photo_reused"]
    assert list(sig.SIGNALS) == [
        "resubmitted",
        "photo_reused",
        "no_photo",
        "photo_date",
        "copied_title",
        "month_end_bunching",
        "count_outlier",
        "repeated_title",
    ]
    assert set(sig.EXPLANATIONS) == set(sig.SIGNALS)


def test_codes_sort_in_signals_order_within_a_unit_month(session, settings):
    d = District(session)
    d.unit("A", "甲村", "甲镇")
    first = d.act("A", "2025-06-30", "甲")
    second = d.act("A", "2025-06-30", "乙")
    d.photo(first, "sha-1", taken_at="2025-01-01 08:00:00")
    d.done()
    frame = run(session, settings)
    assert found(frame) == [
        ("A", "2025-06", second),  # no_photo
        ("A", "2025-06", first),  # photo_date
        ("A", "2025-06", None),  # month_end_bunching
    ]
    assert frame["code"].tolist() == ["no_photo", "photo_date", "month_end_bunching"]


def test_ranking():
    rows = [
        ("no_photo", "B", "乙村", "乙镇", "2025-06", 1, ""),
        ("photo_reused", "A", "甲村", "甲镇", "2025-06", 2, ""),
        ("month_end_bunching", "C", "丙村", "甲镇", "2025-06", None, ""),
        ("no_photo", "A", "甲村", "甲镇", "2025-06", 3, ""),
        ("repeated_title", "C", "丙村", "甲镇", "2025-06", 4, ""),
        ("photo_reused", "A", "甲村", "甲镇", "2025-06", 5, ""),
    ]
    frame = pd.DataFrame(rows, columns=sig.COLUMNS).astype({"activity_id": "Int64"})
    ranked = sig.ranking(frame)
    assert ranked.to_dict("records") == [
        {"unit_code": "A", "unit_name": "甲村", "town": "甲镇", "signals": 3, "codes": "照片重复使用、无照片"},
        {"unit_code": "C", "unit_name": "丙村", "town": "甲镇", "signals": 2, "codes": "月底集中、标题雷同"},
        {"unit_code": "B", "unit_name": "乙村", "town": "乙镇", "signals": 1, "codes": "无照片"},
    ]
    empty = sig.ranking(frame.iloc[:0])
    assert list(empty.columns) == ["unit_code", "unit_name", "town", "signals", "codes"] and empty.empty


def test_to_json(session, settings, bunching):
    d = District(session)
    d.unit("P", "丁村", "丙镇")
    d.photo(d.act("P", "2025-06-05", "宣讲"), "sha-1", taken_at="2025-06-15 08:00:00")
    d.done()
    frame = run(session, settings, start="2025-6", end="2025-06", town="丙镇")
    doc = sig.to_json(frame, start="2025-6", end="2025-06")
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc
    assert doc["start"] == "2025-06" and doc["end"] == "2025-06"
    (only,) = doc["signals"]
    assert only == {
        "code": "photo_date",
        "unit_code": "P",
        "unit_name": "丁村新时代文明实践站",
        "town": "丙镇",
        "month": "2025-06",
        "activity_id": int(frame["activity_id"].iloc[0]),
        "message": "照片拍摄于 2025-06-15，与活动日期 2025-06-05 相差 10 天",
    }
    frame = run(session, settings, town="甲镇", code="month_end_bunching")
    bunched = sig.to_json(frame, start="2025-06", end="2025-06")["signals"]
    assert [(s["unit_code"], s["activity_id"]) for s in bunched] == [("U1", None), ("U3", None)]


def test_nothing_stored(session, settings):
    frame = run(session, settings)
    assert frame.empty and list(frame.columns[: len(sig.COLUMNS)]) == sig.COLUMNS
    assert sig.to_json(frame, start="2025-06", end="2025-06") == {"start": "2025-06", "end": "2025-06", "signals": []}
