"""The signals a reviewer reads off the photos (resubmitted, photo_reused, no_photo, photo_date), as
monitor.evidence.signals defines them.

resubmitted and photo_reused are told from pairs of matching photos: frames of row positions in
the photos read, `mine` and `theirs`, and whether the two are only near (another file whose
perceptual hash is close) rather than the same file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from monitor.core.config import Settings
from monitor.evidence.signal_data import SignalData, iso_days, part

LISTED = 3  # other activities named in a photo_reused message before "等"

Links = dict[tuple[int, int], str]  # (activity id, rejected activity id) -> the photo: "", 相同 or 相近


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


# --- photo_reused ---------------------------------------------------------------------------------


def photo_reused(data: SignalData, pairs: pd.DataFrame) -> pd.DataFrame:
    """photo_reused from the pairs of a photo of the period's activities (mine) and any stored photo (theirs)."""
    photos = data.photos
    assert photos is not None
    matches = _elsewhere(photos, pairs)
    if matches.empty:
        return part("photo_reused", [], [], [], [])
    messages = _reused_messages(_reused_places(matches), _labels(data.units))
    period = data.period.set_index("id").loc[list(messages)]
    return part("photo_reused", period["unit_id"], period["month"], list(messages), list(messages.values()))


def _elsewhere(photos: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs as activity, unit and day of each side, kept where the other is of another unit or date."""
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
    return matches[elsewhere]


def _reused_places(matches: pd.DataFrame) -> pd.DataFrame:
    """One line per activity and other (unit, date); the same picture outweighs a near one."""
    return (
        matches.groupby(["activity_id", "unit_id", "unit_id_other", "day_other"], sort=False)["near"]
        .all()
        .reset_index()
        .sort_values(["activity_id", "near", "day_other", "unit_id_other"])
    )


def _reused_messages(places: pd.DataFrame, names: dict[int, str]) -> dict[int, str]:
    """Activity id -> its photo_reused message, the places of the same photos named before the near ones."""
    lists: dict[int, tuple[list[str], list[str]]] = {}  # activity -> (same, near)
    for activity_id, unit, other_unit, day, is_near in zip(
        places["activity_id"].tolist(),
        places["unit_id"].tolist(),
        places["unit_id_other"].tolist(),
        iso_days(places["day_other"].to_numpy()),
        places["near"].tolist(),
        strict=True,
    ):
        label = "本单位" if other_unit == unit else names.get(other_unit, "已删除的单位")
        lists.setdefault(activity_id, ([], []))[is_near].append(f"{label} {day}")
    return {
        activity_id: "照片"
        + "；".join(_places(items, word) for items, word in zip(kinds, ("相同", "相近"), strict=True) if items)
        for activity_id, kinds in lists.items()
    }


# --- resubmitted ----------------------------------------------------------------------------------


def same_day_links(period: pd.DataFrame, rejected: pd.DataFrame) -> Links:
    """Each activity of `period` stored after (a later row than) one 不予认定 of the same unit and date."""
    same_day = period[["id", "unit_id", "day"]].merge(
        rejected[["id", "unit_id", "day"]].rename(columns={"id": "rejected"}), on=["unit_id", "day"]
    )
    same_day = same_day[same_day["id"] > same_day["rejected"]]
    return {(int(a), int(r)): "" for a, r in zip(same_day["id"], same_day["rejected"], strict=True)}


def later_photo_links(photos: pd.DataFrame, pairs: pd.DataFrame) -> Links:
    """Each activity (mine) carrying a photo attached after a matching one of an activity 不予认定 (theirs)."""
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
    return {(int(a), int(r)): "相近" if is_near else "相同" for (a, r), is_near in by_photo.items()}


def resubmitted(data: SignalData, period: pd.DataFrame, links: Links) -> pd.DataFrame:
    """resubmitted for the activities of `period` that `links` ties to activities 不予认定."""
    rejected = data.rejected
    assert rejected is not None
    if not links:
        return part("resubmitted", [], [], [], [])
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
    return part("resubmitted", rows["unit_id"], rows["month"], list(messages), list(messages.values()))


# --- no_photo, photo_date -------------------------------------------------------------------------


def no_photo(data: SignalData) -> pd.DataFrame:
    """no_photo: the period's activities without a photo, from the district's first month with one."""
    photos = data.photos
    assert photos is not None
    if photos.empty:
        return part("no_photo", [], [], [], [])
    first = str(photos["day"].min().to_datetime64().astype("datetime64[M]"))  # YYYY-MM
    period = data.period
    without = period[(period["month"] >= first) & ~period["id"].isin(photos["activity_id"])]
    return part("no_photo", without["unit_id"], without["month"], without["id"], ["活动没有上传照片"] * len(without))


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


def photo_date(data: SignalData, settings: Settings) -> pd.DataFrame:
    """photo_date: the period's activities with a photo taken too far from their date, or before the earliest year."""
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
        return part("photo_date", [], [], [], [])
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
            iso_days(worst["taken"].to_numpy()),
            iso_days(period["day"].to_numpy()),
            strict=True,
        )
    ]
    return part("photo_date", period["unit_id"], period["month"], worst["activity_id"], messages)
