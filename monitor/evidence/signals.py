"""疑点 (SPEC §8): hints that tell a reviewer where to look, never verdicts; nothing is excluded by one.

Each signal belongs to an activity of the period (activity_id set) or to a unit-month (activity_id
empty). The data is read in three set-based queries (the units, the activities of the period and
the months before it, every stored photo) and the signals are computed on arrays.

Definitions, with the thresholds from Settings:
- resubmitted: an activity stored after an activity 不予认定 (Review decision 'rejected') of the
  same unit and date, or carrying a photo attached after a photo of one (the same SHA-256, or a
  perceptual hash within photo_near_distance bits, as photo_reused reads them), whatever its unit,
  date or month: what was turned down, back under another title or on another activity. "After" is
  the order rows were stored in, so the original a rejected copy was made from does not carry it.
  An activity that is itself 不予认定 does not either: it has been decided already.
- photo_reused: one of the activity's photos has the same SHA-256, or a perceptual hash within
  photo_near_distance bits, as a photo stored on an activity of another unit or another date, in
  any township and any month (a picture reused from last year counts). Near hashes are found by
  bands, not by comparing all pairs (near_pairs).
- no_photo: an activity without a photo, from the first month in which any activity of the
  district has one (earlier months were reported before photos were attached; with no photo
  stored at all it is never raised).
- photo_date: a photo whose EXIF date is more than photo_date_days days from the activity's date
  (photo_date_days itself is not flagged: a camera's clock and a late evening shift a day or two),
  or before the earliest year (Settings.earliest_year, 2000), which no camera of an activity shows:
  such a time (0001-01-01, a clock never set) is named not credible.
- copied_title: one title (title_key) at copied_title_units or more stations of the district on one
  day; stations only, counted in every township whichever one is asked for, so an activity's signal
  does not depend on the filter.
- month_end_bunching: a unit-month with at least 3 activities of which a share of at least
  bunching_share is dated in the month's last bunching_days calendar days, or with at least 2
  activities all on one day.
- count_outlier: see outlier_scores.
- repeated_title: a unit used the same title in each of repeated_title_months or more consecutive
  months; raised at every month of the period that ends such a run (a title used January to April
  is raised in March and in April), on that month's first activity with the title.

Activities 不予认定 are counted like any other: what was reported is the evidence.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from monitor.core.calendar import month_range, parse_month_arg, shift_month
from monitor.core.config import Settings
from monitor.core.models import Activity, Photo, Review
from monitor.core.permissions import Actor, scope
from monitor.figures.metrics import active_grid, quota_grid
from monitor.roster.grids import objects
from monitor.roster.units import units_frame
from monitor.store.db import fetch_tuples

HISTORY_MONTHS = 12  # the months before a month that count_outlier looks at

SIGNALS: dict[str, str] = {
    "resubmitted": "不予认定后重报",
    "photo_reused": "照片重复使用",
    "no_photo": "无照片",
    "photo_date": "拍摄日期不符",
    "copied_title": "多站同题",
    "month_end_bunching": "月底集中",
    "count_outlier": "数量异常",
    "repeated_title": "标题雷同",
}
_RULES = Settings()  # the thresholds as the explanations state them
EXPLANATIONS: dict[str, str] = {
    "resubmitted": "活动与一项已不予认定的活动同单位、同日期，或使用了已不予认定活动的照片（相同或几乎相同），"
    "可能是被退回的活动换个标题（如加上“补充材料”）重新上报。请对照原活动的认定理由核实。",
    "photo_reused": "活动照片与其他单位或其他日期活动的照片相同或几乎相同，可能是同一张照片重复上报。"
    "请对照两处活动的照片核实。",
    "no_photo": "活动没有上传照片，无法核实是否开展。只在区里开始上传照片以后的月份提示。",
    "photo_date": f"照片记录的拍摄时间与活动日期相差超过 {_RULES.photo_date_days} 天，照片可能不是本次活动拍摄的；"
    f"手机或相机时间设置错误也会这样。拍摄时间早于 {_RULES.earliest_year} 年的照片提示为时间不可信。",
    "copied_title": f"同一天有 {_RULES.copied_title_units} 个以上的站使用完全相同的活动名称，可能是统一安排的活动，"
    "也可能是照抄台账。请抽查各站是否实际开展。",
    "month_end_bunching": f"该单位当月的活动大多（{_RULES.bunching_share:.0%} 以上）集中在月底最后 "
    f"{_RULES.bunching_days} 天，或全部在同一天，可能是为完成任务集中补报。",
    "count_outlier": f"该单位当月活动数远高于它此前 {HISTORY_MONTHS} 个月的一贯水平（修正 z 值超过 "
    f"{_RULES.outlier_z:g}），请核实是否如实开展。",
    "repeated_title": f"该单位连续 {_RULES.repeated_title_months} 个月以上使用相同的活动名称，可能是重复上报同一活动。",
}
COLUMNS = ["code", "unit_code", "unit_name", "town", "month", "activity_id", "message"]
EXTRA_COLUMNS = ["date", "title", "unit_id", "type"]  # date 'YYYY-MM-DD' and title of the activity, or None
RANKING_COLUMNS = ["unit_code", "unit_name", "town", "signals", "codes"]

BUNCHING_MIN = 3  # activities in a unit-month before its share in the last days is judged
ONE_DAY_MIN = 2  # activities in a unit-month all on one day
LISTED = 3  # other activities named in a photo_reused message before "等"

_PHOTO_CODES = {"resubmitted", "photo_reused", "no_photo", "photo_date"}
_PART = ["code", "unit_id", "month", "activity_id", "message"]


class UnknownSignal(ValueError):
    """A signal code that is not one of SIGNALS."""


@dataclass
class _Data:
    months: list[str]  # the period
    window: list[str]  # the months read: the period and the months before it
    units: pd.DataFrame  # every unit, indexed by id
    scope: pd.DataFrame  # the units asked for, in units_frame order
    activities: pd.DataFrame  # every unit's activities of the window: id, unit_id, day, month, title, title_key
    photos: pd.DataFrame | None  # every photo: id, activity_id, sha256 (a number), hash, hashed, taken_at, unit_id, day
    rejected: pd.DataFrame | None = None  # every activity 不予认定: id, unit_id, day, title

    @cached_property
    def period(self) -> pd.DataFrame:
        """The activities that can carry a signal: the period's, of the units asked for."""
        frame = self.activities
        keep = frame["month"].isin(self.months) & frame["unit_id"].isin(self.scope["id"])
        return frame[keep]


def _days(values: Sequence[object]) -> np.ndarray:
    """Dates as SQLite (text) or PostgreSQL (date) hands them back, as datetime64[D] (in a frame: [s]).

    A district has a few hundred distinct dates among tens of thousands of rows: each is converted once.
    """
    codes, distinct = pd.factorize(np.array(values, dtype=object))
    if len(distinct) and isinstance(distinct[0], date):
        epoch = date(1970, 1, 1).toordinal()
        days = np.array([d.toordinal() - epoch for d in cast(Sequence[date], distinct)], dtype="int64")
        return days.astype("datetime64[D]")[codes]
    return np.array(list(distinct), dtype="datetime64[D]")[codes]


def _objects(values: Sequence[object]) -> pd.Series:
    """Text kept as Python objects: turning every column into Arrow strings costs more than the work on it."""
    return pd.Series(objects(values), dtype=object)


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; sorting is much faster than np.unique's hashing for wide integers."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _iso(days: np.ndarray) -> list[str]:
    return [str(d) for d in days.astype("datetime64[D]")]


def _read_activities(session: Session, first: str, last: str) -> pd.DataFrame:
    statement = select(
        col(Activity.id),
        col(Activity.unit_id),
        col(Activity.date),
        col(Activity.month),
        col(Activity.title),
        col(Activity.title_key),
    ).where(col(Activity.month) >= first, col(Activity.month) <= last)
    rows = fetch_tuples(session, statement)
    ids, units, days, months, titles, keys = zip(*rows, strict=True) if rows else ((), (), (), (), (), ())
    return pd.DataFrame(
        {
            "id": np.array(ids, dtype="int64"),
            "unit_id": np.array(units, dtype="int64"),
            "day": _days(days),
            "month": _objects(months),
            "title": _objects(titles),
            "title_key": _objects(keys),
        }
    )


def _read_photos(session: Session) -> pd.DataFrame:
    statement = select(
        col(Photo.id),
        col(Photo.activity_id),
        col(Photo.sha256),
        col(Photo.phash),
        col(Photo.taken_at),
        col(Activity.unit_id),
        col(Activity.date),
    ).join(Activity, col(Activity.id) == col(Photo.activity_id))
    rows = fetch_tuples(session, statement)
    empty: tuple[tuple[object, ...], ...] = ((),) * 7
    photo_ids, ids, shas, phashes, taken, units, days = zip(*rows, strict=True) if rows else empty
    values, valid = _hash_values(phashes)
    return pd.DataFrame(
        {
            "id": np.array(photo_ids, dtype="int64"),
            "activity_id": np.array(ids, dtype="int64"),
            "sha256": pd.factorize(np.array(shas, dtype=object))[0],  # the same file, the same number
            "hash": values,
            "hashed": valid,
            "taken_at": _objects(taken),
            "unit_id": np.array(units, dtype="int64"),
            "day": _days(days),
        }
    )


def _read_rejected(session: Session) -> pd.DataFrame:
    statement = (
        select(col(Activity.id), col(Activity.unit_id), col(Activity.date), col(Activity.title))
        .join(Review, col(Review.activity_id) == col(Activity.id))
        .where(col(Review.decision) == "rejected")
    )
    rows = fetch_tuples(session, statement)
    ids, units, days, titles = zip(*rows, strict=True) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "id": np.array(ids, dtype="int64"),
            "unit_id": np.array(units, dtype="int64"),
            "day": _days(days),
            "title": _objects(titles),
        }
    )


def _part(code: str, unit_id: object, month: object, activity_id: object, message: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": code,
            "unit_id": np.asarray(unit_id, dtype="int64"),
            "month": np.asarray(month, dtype=object),
            "activity_id": pd.array(np.asarray(activity_id, dtype="float64"), dtype="Int64"),
            "message": np.asarray(message, dtype=object),
        }
    )


# --- photo_reused ---------------------------------------------------------------------------------


def _bands(distance: int) -> list[tuple[int, int]]:
    """(shift, mask) of distance + 1 bands that share the 64 bits as evenly as they can."""
    count = min(distance + 1, 64)
    widths = [64 // count + (1 if b < 64 % count else 0) for b in range(count)]
    shifts = np.cumsum([0, *widths[:-1]])
    return [(int(s), (1 << w) - 1) for s, w in zip(shifts, widths, strict=True)]


def near_pairs(values: np.ndarray, query: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i from `query`, with hamming(values[i], values[j]) <= distance, i == j included.

    `values` are 64-bit perceptual hashes (uint64). Split into distance + 1 bands, two hashes at most
    `distance` bits apart agree on at least one whole band (pigeonhole), so only hashes that share a
    band's value are compared: bucket by each band (a sort), pair within buckets, then count the bits.
    Meaningful for 0 <= distance < 64.
    """
    values = np.asarray(values, dtype=np.uint64)
    query = _unique(np.asarray(query, dtype="int64"))
    if distance < 0 or not len(query):
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    found_i, found_j = [], []
    for shift, mask in _bands(distance):
        keys = (values >> np.uint64(shift)) & np.uint64(mask)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        # Each query's bucket is a run of the sorted keys; expand every (query, member) pair.
        low = np.searchsorted(ordered, keys[query], side="left")
        sizes = np.searchsorted(ordered, keys[query], side="right") - low
        starts = np.repeat(low - (np.cumsum(sizes) - sizes), sizes)
        i = np.repeat(query, sizes)
        j = order[starts + np.arange(len(i))]
        close = np.bitwise_count(values[i] ^ values[j]) <= distance
        found_i.append(i[close])
        found_j.append(j[close])
    code = _unique(np.concatenate(found_i) * len(values) + np.concatenate(found_j))
    return code // len(values), code % len(values)


_HEX = frozenset("0123456789abcdefABCDEF")


def _hash_values(phashes: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Each photo's perceptual hash as uint64 and whether it has a readable one (16 hex digits)."""
    texts = [t if isinstance(t, str) and len(t) == 16 else "" for t in phashes]
    valid = np.array([t != "" for t in texts], dtype=bool)
    try:
        joined = bytes.fromhex("".join(t or "0" * 16 for t in texts))
        return np.frombuffer(joined, dtype=">u8").astype(np.uint64), valid
    except ValueError:  # a hash with a character that is not a hex digit: read them one by one
        valid = np.array([t != "" and _HEX.issuperset(t) for t in texts], dtype=bool)
        values = [int(t, 16) if ok else 0 for t, ok in zip(texts, valid, strict=True)]
        return np.array(values, dtype=np.uint64), valid


def _labels(units: pd.DataFrame) -> dict[int, str]:
    """Unit id -> how a message names it: township and short name (兰溪镇和平村), or the full name."""
    return {
        int(i): f"{town}{short}" if town and short else str(name)
        for i, town, short, name in zip(
            units.index, units["town"].tolist(), units["short_name"].tolist(), units["name"].tolist(), strict=True
        )
    }


def _places(items: list[str], word: str) -> str:
    if len(items) > LISTED:
        return f"与 {'、'.join(items[:LISTED])} 等 {len(items)} 处活动的照片{word}"
    return f"与 {'、'.join(items)} 的活动照片{word}"


def _matching_photos(photos: pd.DataFrame, mine: np.ndarray, theirs: np.ndarray, distance: int) -> pd.DataFrame:
    """Pairs of photos (row positions in `photos`), one of `mine` and one of `theirs`: the same file (near
    False; a photo is paired with itself when it is on both sides) or another file whose perceptual hash is
    within `distance` bits (near True)."""
    rows = np.arange(len(photos))
    sha = photos["sha256"].to_numpy()
    left = pd.DataFrame({"mine": rows[mine], "sha256": sha[mine]})
    right = pd.DataFrame({"theirs": rows[theirs], "sha256": sha[theirs]})
    same = left.merge(right, on="sha256")[["mine", "theirs"]]
    values, valid = photos["hash"].to_numpy(), photos["hashed"].to_numpy()
    inverse, distinct = pd.factorize(values[valid])
    index = np.full(len(photos), -1, dtype="int64")
    index[valid] = inverse
    i, j = near_pairs(distinct, index[mine & valid], distance)
    near = (
        pd.DataFrame({"mine": rows[mine], "i": index[mine]})
        .merge(pd.DataFrame({"i": i, "j": j}), on="i")
        .merge(pd.DataFrame({"theirs": rows[theirs], "j": index[theirs]}), on="j")
    )
    near = near[sha[near["mine"].to_numpy()] != sha[near["theirs"].to_numpy()]]
    return pd.concat([same.assign(near=False), near[["mine", "theirs"]].assign(near=True)], ignore_index=True)


def _photo_reused(data: _Data, settings: Settings) -> pd.DataFrame:
    photos = data.photos
    assert photos is not None
    mine = photos["activity_id"].isin(data.period["id"]).to_numpy()
    if not mine.any():
        return _part("photo_reused", [], [], [], [])
    pairs = _matching_photos(photos, mine, np.ones(len(photos), dtype=bool), settings.photo_near_distance)
    at, other = pairs["mine"].to_numpy(), pairs["theirs"].to_numpy()
    units, days = photos["unit_id"].to_numpy(), photos["day"].to_numpy()
    matches = pd.DataFrame(
        {
            "activity_id": photos["activity_id"].to_numpy()[at],
            "unit_id": units[at],
            "unit_id_other": units[other],
            "day": days[at],
            "day_other": days[other],
            "near": pairs["near"].to_numpy(dtype=bool),
        }
    )
    elsewhere = (matches["unit_id"] != matches["unit_id_other"]) | (matches["day"] != matches["day_other"])
    matches = matches[elsewhere]
    if matches.empty:
        return _part("photo_reused", [], [], [], [])
    # One line per activity and other (unit, date); the same picture outweighs a near one.
    places = (
        matches.groupby(["activity_id", "unit_id", "unit_id_other", "day_other"], sort=False)["near"]
        .all()
        .reset_index()
        .sort_values(["activity_id", "near", "day_other", "unit_id_other"])
    )
    names = _labels(data.units)
    lists: dict[int, tuple[list[str], list[str]]] = {}  # activity -> (same, near)
    for activity_id, unit, other_unit, day, is_near in zip(
        places["activity_id"].tolist(),
        places["unit_id"].tolist(),
        places["unit_id_other"].tolist(),
        _iso(places["day_other"].to_numpy()),
        places["near"].tolist(),
        strict=True,
    ):
        label = "本单位" if other_unit == unit else names.get(other_unit, "已删除的单位")
        lists.setdefault(activity_id, ([], []))[is_near].append(f"{label} {day}")
    messages = {
        activity_id: "照片"
        + "；".join(_places(items, word) for items, word in zip(kinds, ("相同", "相近"), strict=True) if items)
        for activity_id, kinds in lists.items()
    }
    period = data.period.set_index("id").loc[list(messages)]
    return _part("photo_reused", period["unit_id"], period["month"], list(messages), list(messages.values()))


def _resubmitted(data: _Data, settings: Settings) -> pd.DataFrame:
    rejected, photos = data.rejected, data.photos
    assert rejected is not None and photos is not None
    period = data.period[~data.period["id"].isin(rejected["id"])]  # those 不予认定 are decided already
    if rejected.empty or period.empty:
        return _part("resubmitted", [], [], [], [])
    # Only what came after the rejected one: the activity stored later (a later row), the photo attached
    # later. The original a rejected copy was made from is photo_reused's, not this signal's.
    same_day = period[["id", "unit_id", "day"]].merge(
        rejected[["id", "unit_id", "day"]].rename(columns={"id": "rejected"}), on=["unit_id", "day"]
    )
    same_day = same_day[same_day["id"] > same_day["rejected"]]
    links = {(int(a), int(r)): "" for a, r in zip(same_day["id"], same_day["rejected"], strict=True)}
    mine = photos["activity_id"].isin(period["id"]).to_numpy()
    theirs = photos["activity_id"].isin(rejected["id"]).to_numpy()
    if mine.any() and theirs.any():
        pairs = _matching_photos(photos, mine, theirs, settings.photo_near_distance)
        photo_ids = photos["id"].to_numpy()
        pairs = pairs[photo_ids[pairs["mine"].to_numpy()] > photo_ids[pairs["theirs"].to_numpy()]]
        ids = photos["activity_id"].to_numpy()
        by_photo = (
            pd.DataFrame(
                {
                    "activity_id": ids[pairs["mine"].to_numpy()],
                    "rejected": ids[pairs["theirs"].to_numpy()],
                    "near": pairs["near"].to_numpy(dtype=bool),
                }
            )
            .groupby(["activity_id", "rejected"])["near"]
            .all()  # the same file outweighs a near one
        )
        for (activity_id, rejected_id), is_near in by_photo.items():
            links[(int(activity_id), int(rejected_id))] = "相近" if is_near else "相同"
    if not links:
        return _part("resubmitted", [], [], [], [])
    names = _labels(data.units)
    facts = rejected.set_index("id")
    own = period.set_index("id")
    found: dict[int, list[str]] = {}
    for (activity_id, rejected_id), photo in sorted(links.items()):
        unit, day, title = (facts.at[rejected_id, c] for c in ("unit_id", "day", "title"))
        if unit == own.at[activity_id, "unit_id"] and day == own.at[activity_id, "day"]:
            line = f"与已不予认定的活动同单位同日期（#{rejected_id} {title}）" + (f"，照片{photo}" if photo else "")
        else:
            where = "本单位" if unit == own.at[activity_id, "unit_id"] else names.get(int(unit), "已删除的单位")
            on = np.datetime64(day, "D")
            line = f"照片与已不予认定的活动 #{rejected_id} {photo}（{where} {on} {title}）"
        found.setdefault(activity_id, []).append(line)
    messages = {
        a: "；".join(lines[:LISTED]) + (f" 等 {len(lines)} 项已不予认定的活动" if len(lines) > LISTED else "")
        for a, lines in found.items()
    }
    rows = own.loc[list(messages)]
    return _part("resubmitted", rows["unit_id"], rows["month"], list(messages), list(messages.values()))


# --- no_photo, photo_date -------------------------------------------------------------------------


def _no_photo(data: _Data) -> pd.DataFrame:
    photos = data.photos
    assert photos is not None
    if photos.empty:
        return _part("no_photo", [], [], [], [])
    first = str(photos["day"].min().to_datetime64().astype("datetime64[M]"))  # YYYY-MM
    period = data.period
    without = period[(period["month"] >= first) & ~period["id"].isin(photos["activity_id"])]
    return _part("no_photo", without["unit_id"], without["month"], without["id"], ["活动没有上传照片"] * len(without))


_TAKEN_DAY = re.compile(r"(\d{1,4})-(\d{1,2})-(\d{1,2})")


def _taken_days(values: Sequence[object]) -> np.ndarray:
    """The day part of stored EXIF times as datetime64[D], NaT where there is none or it is no date.

    Years before 1000 are stored as the camera gave them, unpadded ('1-01-01 00:00:00') by older
    versions; they are read all the same (datetime64[D] holds year 1).
    """
    parts = [v.split(" ", 1)[0] if isinstance(v, str) else "" for v in values]
    codes, distinct = pd.factorize(np.array(parts, dtype=object))
    days = np.full(len(distinct), np.datetime64("NaT"), dtype="datetime64[D]")
    for n, text in enumerate(distinct):
        match = _TAKEN_DAY.fullmatch(str(text))
        if match:
            try:
                days[n] = np.datetime64(date(*(int(g) for g in match.groups())), "D")
            except ValueError:  # 2025-13-01, year 0: no day
                pass
    return days[codes] if len(codes) else np.zeros(0, dtype="datetime64[D]")


def _photo_date_message(n: int, days: int, early: bool, taken: str, day: str, settings: Settings) -> str:
    """What photo_date says of an activity's `n` photos off its date, by the worst one (`taken`)."""
    several = f"{n} 张照片的拍摄日期与活动日期相差超过 {settings.photo_date_days} 天"
    if early:
        not_credible = f"拍摄时间 {taken} 不可信（早于 {settings.earliest_year} 年）"
        return ("照片" if n == 1 else f"{several}，其中") + not_credible
    if n == 1:
        return f"照片拍摄于 {taken}，与活动日期 {day} 相差 {days} 天"
    return f"{several}，最多 {days} 天（{taken} 拍摄）"


def _photo_date(data: _Data, settings: Settings) -> pd.DataFrame:
    photos = data.photos
    assert photos is not None
    mine = photos[photos["activity_id"].isin(data.period["id"])]
    taken_day = _taken_days(mine["taken_at"].tolist())
    known = ~np.isnat(taken_day)
    apart = np.where(known, (taken_day - mine["day"].to_numpy().astype("datetime64[D]")).astype("int64"), 0)
    off = pd.DataFrame(
        {
            "activity_id": mine["activity_id"].to_numpy(),
            "taken": taken_day,
            "days": np.abs(apart),
            "early": known & (taken_day < np.datetime64(f"{settings.earliest_year:04d}-01-01", "D")),
            "known": known,
        }
    )
    off = off[off["known"] & ((off["days"] > settings.photo_date_days) | off["early"])]
    if off.empty:
        return _part("photo_date", [], [], [], [])
    # A time before the earliest year is named first: it is the camera's clock, not the day, that is wrong.
    off = off.sort_values(["activity_id", "early", "days", "taken"], ascending=[True, False, False, True])
    worst = off.drop_duplicates("activity_id")
    counts = off.groupby("activity_id").size().reindex(worst["activity_id"]).to_numpy()
    period = data.period.set_index("id").loc[worst["activity_id"]]
    messages = [
        _photo_date_message(n, days, early, taken, day, settings)
        for n, days, early, taken, day in zip(
            counts,
            worst["days"],
            worst["early"],
            _iso(worst["taken"].to_numpy()),
            _iso(period["day"].to_numpy()),
            strict=True,
        )
    ]
    return _part("photo_date", period["unit_id"], period["month"], worst["activity_id"], messages)


# --- titles ---------------------------------------------------------------------------------------


def _copied_title(data: _Data, settings: Settings) -> pd.DataFrame:
    frame = data.activities
    stations = data.units.index[data.units["type"] == "station"]
    frame = frame[frame["month"].isin(data.months) & frame["unit_id"].isin(stations) & (frame["title_key"] != "")]
    spread = frame.groupby(["day", "title_key"])["unit_id"].transform("nunique")
    wanted = (spread >= settings.copied_title_units) & frame["unit_id"].isin(data.scope["id"])
    hits, spread = frame[wanted], spread[wanted]
    messages = [f"同一天 {n} 个站使用相同标题" for n in spread]
    return _part("copied_title", hits["unit_id"], hits["month"], hits["id"], messages)


def _repeated_title(data: _Data, settings: Settings) -> pd.DataFrame:
    frame = data.activities
    frame = frame[frame["unit_id"].isin(data.scope["id"]) & (frame["title_key"] != "")]
    position = pd.Index(data.window).get_indexer(frame["month"])
    frame = frame.assign(position=position)[position >= 0]
    # The month's first activity with the title stands for the unit's use of it that month.
    firsts = frame.sort_values(["unit_id", "title_key", "position", "day", "id"]).drop_duplicates(
        ["unit_id", "title_key", "position"]
    )
    unit, key, where = (firsts[c].to_numpy() for c in ("unit_id", "title_key", "position"))
    follows = np.zeros(len(firsts), dtype=bool)
    if len(firsts):
        follows[1:] = (unit[1:] == unit[:-1]) & (key[1:] == key[:-1]) & (where[1:] == where[:-1] + 1)
    runs = pd.Series(~follows).cumsum().to_numpy()
    length = pd.Series(np.ones(len(firsts), dtype="int64")).groupby(runs).cumsum().to_numpy()
    ends = (length >= settings.repeated_title_months) & firsts["month"].isin(data.months).to_numpy()
    hits, length = firsts[ends], length[ends]
    messages = [f"标题“{t}”已连续 {n} 个月使用" for t, n in zip(hits["title"], length, strict=True)]
    return _part("repeated_title", hits["unit_id"], hits["month"], hits["id"], messages)


# --- unit-months ----------------------------------------------------------------------------------


def _month_end_bunching(data: _Data, settings: Settings) -> pd.DataFrame:
    frame = data.period
    day = pd.Series(frame["day"].to_numpy())
    length = day.dt.days_in_month.to_numpy()
    late = day.dt.day.to_numpy() > length - settings.bunching_days
    parts = pd.DataFrame(
        {
            "unit_id": frame["unit_id"].to_numpy(),
            "month": frame["month"].to_numpy(),
            "day": frame["day"].to_numpy(),
            "late": late,
            "first_late": length - settings.bunching_days + 1,
        }
    )
    months = parts.groupby(["unit_id", "month"], sort=False).agg(
        n=("day", "size"),
        late=("late", "sum"),
        days=("day", "nunique"),
        day=("day", "min"),
        first_late=("first_late", "min"),
    )
    one_day = (months["n"] >= ONE_DAY_MIN) & (months["days"] == 1)
    bunched = (months["n"] >= BUNCHING_MIN) & (months["late"] >= settings.bunching_share * months["n"] - 1e-9)
    hits = months[one_day | bunched].reset_index()
    one = one_day[one_day | bunched].to_numpy()
    messages = [
        f"本月 {n} 次活动全部在同一天（{day}）"
        if single
        else f"本月 {n} 次活动中 {k} 次集中在月底最后 {settings.bunching_days} 天（{first} 日及以后）"
        for single, n, k, day, first in zip(
            one, hits["n"], hits["late"], _iso(hits["day"].to_numpy()), hits["first_late"], strict=True
        )
    ]
    return _part("month_end_bunching", hits["unit_id"], hits["month"], [np.nan] * len(hits), messages)


def outlier_scores(counts: np.ndarray, history: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Modified z-scores of `counts` (one per unit) against each unit's history, and the months of history.

    z = 0.6745 × (x − median) / MAD over the history months that are `active` (rows: units, columns:
    months). Counts are whole numbers, so a steady unit (2, 2, 2, 3, 2, 2) has MAD 0 and any rise
    would be infinitely far: MAD is floored at 1, which makes z > 3.5 mean at least 6 above the
    median. Units without history get NaN.

    count_outlier: x is the number of activities stored for the unit-month (不予认定 included); the
    history is the unit's counts in those of the 12 months before it in which it was active (quota > 0)
    and the district had recorded any activity; at least outlier_history such months are needed.
    """
    masked = np.where(active, history, np.nan).astype("float64")
    months = active.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # units with no history month: all-NaN rows
        median = np.nanmedian(masked, axis=1)
        mad = np.nanmedian(np.abs(masked - median[:, None]), axis=1)
    return 0.6745 * (counts - median) / np.maximum(mad, 1.0), months


def _count_outlier(data: _Data, settings: Settings, session: Session) -> pd.DataFrame:
    units, window = data.scope, data.window
    shape = (len(units), len(window))
    counts = np.zeros(shape, dtype="int64")
    frame = data.activities
    row = pd.Index(units["id"]).get_indexer(frame["unit_id"])
    column = pd.Index(window).get_indexer(frame["month"])
    keep = (row >= 0) & (column >= 0)
    np.add.at(counts, (row[keep], column[keep]), 1)
    active = active_grid(units, window) & (quota_grid(session=session, units=units, months=window) > 0)
    # Months before the district's first recorded activity hold no data, not zeros.
    recorded = pd.Index(window).isin(frame["month"].unique())
    active &= np.cumsum(recorded) > 0
    found: list[tuple[int, str, float, int, float]] = []
    for month in data.months:
        at = window.index(month)
        history = slice(max(at - HISTORY_MONTHS, 0), at)
        z, months = outlier_scores(counts[:, at], counts[:, history], active[:, history])
        with np.errstate(invalid="ignore"):
            flagged = (months >= settings.outlier_history) & (z > settings.outlier_z)
        median = np.nanmedian(np.where(active[:, history], counts[:, history], np.nan)[flagged], axis=1)
        for n, m, score, med in zip(np.flatnonzero(flagged), months[flagged], z[flagged], median, strict=True):
            found.append((int(n), month, float(score), int(m), float(med)))
    messages = [
        f"本月 {counts[n, window.index(month)]} 次，前 {m} 个有任务月份的中位数为 {med:g} 次（修正 z 值 {score:.1f}）"
        for n, month, score, m, med in found
    ]
    ids = units["id"].to_numpy()[[n for n, *_ in found]] if found else []
    return _part("count_outlier", ids, [f[1] for f in found], [np.nan] * len(found), messages)


# --- the table ------------------------------------------------------------------------------------


def signals(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    start: str,
    end: str,
    town: str | None = None,
    code: str | None = None,
) -> pd.DataFrame:
    """All signals of activities/unit-months in months [start, end] ('YYYY-MM'), for units of `town` (None: all
    units the actor may see), optionally only one code; columns COLUMNS + EXTRA_COLUMNS, activity_id as
    nullable Int64; sorted by town, unit_code, month, code (in SIGNALS order), date, activity_id."""
    town = scope(actor, "review", town)
    if code is not None and code not in SIGNALS:
        raise UnknownSignal(f"没有“{code}”这种疑点，可选：{'、'.join(f'{c}（{n}）' for c, n in SIGNALS.items())}。")
    months = month_range(start, end)
    lookback = max(HISTORY_MONTHS, settings.repeated_title_months - 1)
    window = month_range(shift_month(months[0], -lookback), months[-1])
    units = units_frame(session=session)
    chosen = units[units["town"] == town] if town else units
    wanted = [code] if code else list(SIGNALS)
    data = _Data(
        months=months,
        window=window,
        units=units.set_index("id"),
        scope=chosen.reset_index(drop=True),
        activities=_read_activities(session, window[0], window[-1]),
        photos=_read_photos(session) if _PHOTO_CODES & set(wanted) else None,
        rejected=_read_rejected(session) if "resubmitted" in wanted else None,
    )
    builders = {
        "resubmitted": lambda: _resubmitted(data, settings),
        "photo_reused": lambda: _photo_reused(data, settings),
        "no_photo": lambda: _no_photo(data),
        "photo_date": lambda: _photo_date(data, settings),
        "copied_title": lambda: _copied_title(data, settings),
        "month_end_bunching": lambda: _month_end_bunching(data, settings),
        "count_outlier": lambda: _count_outlier(data, settings, session),
        "repeated_title": lambda: _repeated_title(data, settings),
    }
    found = pd.concat([builders[c]() for c in wanted], ignore_index=True)
    return _table(found, data)


def _table(found: pd.DataFrame, data: _Data) -> pd.DataFrame:
    units = data.units
    where = units.index.get_indexer(found["unit_id"])
    acts = data.activities.set_index("id")
    flagged = found["activity_id"].notna().to_numpy()
    at = np.full(len(found), -1, dtype="int64")
    at[flagged] = acts.index.get_indexer(found["activity_id"][flagged].astype("int64"))
    days = np.full(len(found), None, dtype=object)
    titles = np.full(len(found), None, dtype=object)
    days[at >= 0] = _iso(acts["day"].to_numpy()[at[at >= 0]])
    titles[at >= 0] = acts["title"].to_numpy(dtype=object)[at[at >= 0]]
    table = pd.DataFrame(
        {
            "code": found["code"].to_numpy(dtype=object),
            "unit_code": units["code"].to_numpy(dtype=object)[where],
            "unit_name": units["name"].to_numpy(dtype=object)[where],
            "town": units["town"].to_numpy(dtype=object)[where],
            "month": found["month"].to_numpy(dtype=object),
            "activity_id": found["activity_id"].astype("Int64").to_numpy(),
            "message": found["message"].to_numpy(dtype=object),
            "date": pd.Series(days, dtype=object),
            "title": pd.Series(titles, dtype=object),
            "unit_id": found["unit_id"].to_numpy(dtype="int64"),
            "type": units["type"].to_numpy(dtype=object)[where],
        }
    )
    table["activity_id"] = table["activity_id"].astype("Int64")
    rank = table["code"].map({c: n for n, c in enumerate(SIGNALS)})
    order = table.assign(rank=rank, day=table["date"].fillna(""), aid=table["activity_id"].fillna(0)).sort_values(
        ["town", "unit_code", "month", "rank", "day", "aid"], kind="stable"
    )
    return table.loc[order.index].reset_index(drop=True)


def ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """Units ranked by their signals: one row per unit with unit_code, unit_name, town, signals (count), codes
    (distinct codes joined by '、' as Chinese names, in SIGNALS order), most first, then by town and unit code."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "signals" else object) for c in RANKING_COLUMNS})
    rank = {c: n for n, c in enumerate(SIGNALS)}
    grouped = frame.groupby("unit_code", sort=False)
    out = pd.DataFrame(
        {
            "unit_name": grouped["unit_name"].first(),
            "town": grouped["town"].first(),
            "signals": grouped.size().astype("int64"),
            "codes": grouped["code"].agg(lambda s: "、".join(SIGNALS[c] for c in sorted(set(s), key=rank.__getitem__))),
        }
    ).reset_index()
    out = out.sort_values(["signals", "town", "unit_code"], ascending=[False, True, True], kind="stable")
    return out[RANKING_COLUMNS].reset_index(drop=True)


def to_json(frame: pd.DataFrame, *, start: str, end: str) -> dict:
    """{"start","end","signals":[{"code","unit_code","unit_name","town","month","activity_id","message"}]}"""
    rows = [
        {
            "code": str(code),
            "unit_code": str(unit_code),
            "unit_name": str(unit_name),
            "town": str(town),
            "month": str(month),
            "activity_id": None if pd.isna(activity_id) else int(activity_id),
            "message": str(message),
        }
        for code, unit_code, unit_name, town, month, activity_id, message in zip(
            *(frame[c] for c in COLUMNS), strict=True
        )
    ]
    return {"start": parse_month_arg(start), "end": parse_month_arg(end), "signals": rows}
