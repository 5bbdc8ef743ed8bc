"""Which activity a photo belongs to, read from its folder and file names.

`油草塘村/2025-06-03 理论宣讲/1.jpg`, `油草塘村-0603-1.jpg`, `泥江口镇/油草塘村/6月3日/2.heic`,
`NJK-YCT_20250603.jpg`: the unit is a roster name or code found in the path (the longest wins,
a township in the path, else the one the upload is for, settles a name two townships share), the date is the
first date spelled in the path, and words left over pick among several activities of that day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from monitor.core.normalize import clean, title_key, town_key

_FULL = re.compile(r"(?<!\d)(20\d{2})\s*[-._/年]\s*(\d{1,2})\s*[-._/月]\s*(\d{1,2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
_CHINESE = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_MMDD = re.compile(r"(?<!\d)(0[1-9]|1[0-2])([0-2]\d|3[01])(?!\d)")
_DOTTED = re.compile(r"(?<![\d.])(\d{1,2})[.](\d{1,2})(?![\d.])")
_YEAR = re.compile(r"(?<!\d)(20\d{2})\s*年")
_NOISE = re.compile(r"[\d\s\-_.,，、/()（）\[\]【】#]+|照片|图片|活动照|IMG|DSC|微信图片", re.IGNORECASE)
_SUFFIX = re.compile(r"\.(jpe?g|png|heic|heif)$", re.IGNORECASE)


@dataclass
class Hints:
    unit_ids: list[int] = field(default_factory=list)
    day: date | None = None
    month_day: tuple[int, int] | None = None  # a date without its year
    year: int | None = None
    words: str = ""  # what is left of the name: a title, or part of one
    date_text: str = ""


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates(text: str) -> tuple[date | None, tuple[int, int] | None, str]:
    for pattern in (_FULL, _COMPACT):
        for match in pattern.finditer(text):
            day = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            if day:
                return day, None, match.group(0)
    for pattern in (_CHINESE, _MMDD, _DOTTED):
        for match in pattern.finditer(text):
            month, day_of_month = int(match.group(1)), int(match.group(2))
            if _valid(2024, month, day_of_month):  # a leap year: 2月29日 is a date
                return None, (month, day_of_month), match.group(0)
    return None, None, ""


class UnitFinder:
    """Roster names and codes looked for inside a path."""

    def __init__(self, units: pd.DataFrame) -> None:
        self.units = units.set_index("id", drop=False)
        needles: dict[str, set[int]] = {}
        for row in units.itertuples():
            for needle in (str(row.short_name), str(row.name), str(row.code).casefold()):
                if len(needle) >= 2:
                    needles.setdefault(needle, set()).add(int(row.id))
        self.needles = sorted(needles.items(), key=lambda item: len(item[0]), reverse=True)
        self.towns = sorted({t for t in units["town"] if t}, key=len, reverse=True)

    def find(self, text: str, town: str | None) -> list[int]:
        compact = "".join(text.split())
        folded = compact.casefold()
        found: list[tuple[str, set[int]]] = []
        for needle, group in self.needles:
            if needle in compact or needle in folded:
                if not any(needle in longer for longer, _ in found):  # 塘村 inside 油草塘村
                    found.append((needle, group))
        ids: list[int] = sorted({i for _, group in found for i in group})
        # A township written in the path says more than the one the upload is for.
        named = next((t for t in self.towns if t in compact or town_key(t) in compact), None) or town
        if named and len(ids) > 1:
            local = [i for i in ids if town_key(str(self.units.at[i, "town"])) == town_key(named)]
            ids = local or ids
        if len(ids) > 1:  # the center or an institute named beside a station: the station is meant
            stations = [i for i in ids if self.units.at[i, "type"] == "station"]
            ids = stations if len(stations) == 1 else ids
        return ids


def hints(name: str, finder: UnitFinder, *, town: str | None = None) -> Hints:
    text = clean(_SUFFIX.sub("", name))
    day, month_day, date_text = _dates(text)
    year = _YEAR.search(text)
    unit_ids = finder.find(text.replace(date_text, " ") if date_text else text, town)
    words = text.replace(date_text, " ") if date_text else text
    for unit_id in unit_ids:
        for needle in (str(finder.units.at[unit_id, "name"]), str(finder.units.at[unit_id, "short_name"])):
            words = words.replace(needle, " ")
        words = re.sub(re.escape(str(finder.units.at[unit_id, "code"])), " ", words, flags=re.IGNORECASE)
    for known in finder.towns:
        words = words.replace(known, " ")
    return Hints(
        unit_ids=unit_ids,
        day=day,
        month_day=month_day,
        year=int(year.group(1)) if year else None,
        words=title_key(_NOISE.sub(" ", words)),
        date_text=date_text,
    )


@dataclass
class Match:
    status: str  # matched | ambiguous | unmatched
    activity_id: int | None = None
    candidates: list[int] = field(default_factory=list)
    unit_id: int | None = None
    message: str = ""


def _by_words(rows: pd.DataFrame, words: str) -> pd.DataFrame:
    if len(words) < 2:
        return rows.iloc[0:0]
    keys = rows["title_key"].astype(str)
    return rows[keys.map(lambda key: words in key or (len(key) >= 2 and key in words))]


def match(h: Hints, activities: pd.DataFrame, finder: UnitFinder) -> Match:
    """The activity these hints point at, among `activities` (id, unit_id, date, title, title_key)."""
    if not h.unit_ids:
        return Match("unmatched", message="文件夹或文件名中没有找到单位名称")
    if len(h.unit_ids) > 1:
        labels = "、".join(f"{finder.units.at[i, 'town']}{finder.units.at[i, 'short_name']}" for i in h.unit_ids[:5])
        return Match("ambiguous", message=f"可能是多个单位：{labels}")
    unit_id = h.unit_ids[0]
    mine = activities[activities["unit_id"] == unit_id]
    if h.day is None and h.month_day is None:
        return Match("unmatched", unit_id=unit_id, message="文件夹或文件名中没有活动日期")
    if h.day is not None:
        same = mine[mine["date"] == h.day]
        when = f"{h.day:%Y-%m-%d}"
    else:
        month, day_of_month = h.month_day  # type: ignore[misc]
        dates = pd.to_datetime(mine["date"])
        same = mine[(dates.dt.month == month) & (dates.dt.day == day_of_month)]
        if h.year is not None:
            same = same[pd.to_datetime(same["date"]).dt.year == h.year]
        elif len(same):  # the latest year that has such an activity
            latest = pd.to_datetime(same["date"]).dt.year.max()
            same = same[pd.to_datetime(same["date"]).dt.year == latest]
        when = f"{month}月{day_of_month}日"
    if same.empty:
        return Match("unmatched", unit_id=unit_id, message=f"该单位 {when} 没有已上报的活动")
    if len(same) == 1:
        return Match("matched", activity_id=int(same["id"].iloc[0]), unit_id=unit_id)
    picked = _by_words(same, h.words)
    if len(picked) == 1:
        return Match("matched", activity_id=int(picked["id"].iloc[0]), unit_id=unit_id)
    return Match(
        "ambiguous",
        candidates=[int(i) for i in same["id"]],
        unit_id=unit_id,
        message=f"该单位 {when} 有 {len(same)} 项活动，请选择",
    )
