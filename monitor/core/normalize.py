"""Cell-level normalization: full-width forms, dates in every office's spelling, counts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

UNIT_SUFFIXES = (
    "新时代文明实践服务中心",
    "新时代文明实践中心",
    "新时代文明实践所",
    "新时代文明实践站",
    "文明实践所",
    "文明实践站",
)
TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")

_SPACES = re.compile(r"\s+")
# C0 controls but tab, line feed and carriage return, and DEL: PostgreSQL refuses NUL in text,
# and none of them is anything a clerk typed.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}[:：]\d{2}(?:[:：]\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[ T]?\d{2}:?\d{2}(?::?\d{2})?)?$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def clean(value: object) -> str:
    """NFKC (full-width digits, letters and spaces to half-width), control characters dropped, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return CONTROL_CHARS.sub("", unicodedata.normalize("NFKC", str(value))).strip()


def title_key(title: str) -> str:
    """The form of a title that decides whether two activities are the same one."""
    return _SPACES.sub("", title).casefold()


def short_unit_name(name: str) -> str:
    """油草塘村新时代文明实践站 -> 油草塘村; names without a suffix are returned as they are."""
    compact = _SPACES.sub("", name)
    for suffix in UNIT_SUFFIXES:
        if compact.endswith(suffix) and len(compact) > len(suffix):
            return compact[: -len(suffix)]
    return compact


@lru_cache(maxsize=4096)
def town_key(town: str) -> str:
    """泥江口镇 and 泥江口 name the same township. (Remembered: a file names a few hundred
    townships on tens of thousands of rows.)"""
    compact = _SPACES.sub("", town)
    for suffix in TOWN_SUFFIXES:
        if compact.endswith(suffix) and len(compact) > len(suffix):
            return compact[: -len(suffix)]
    return compact


def parse_date(text: str) -> date | None:
    """Every spelling of SPEC §3; Excel serial numbers too. None when it is not a date."""
    text = text.strip()
    match = _YMD.match(text) or _COMPACT.match(text)
    try:
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if _SERIAL.match(text):
            serial = float(text)
            if 20000 <= serial <= 80000:
                return _EXCEL_EPOCH + timedelta(days=int(serial))
    except ValueError:
        return None
    return None


_MONTH_DAY = re.compile(r"^(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|[./-]\s*(\d{1,2}))$")
_TENS_CUT = re.compile(r"^\d{1,2}\.[1-3]$")  # 6.3 typed in a number cell may have been 6.30


def parse_month_day(text: str) -> tuple[int, int, bool] | None:
    """A date written without its year (6月11日, 6/11, 6.24): (month, day, unsure).

    unsure: 6.1, 6.2 or 6.3, which a number cell shows for 6.10, 6.20 or 6.30 too.
    """
    match = _MONTH_DAY.match(text.strip())
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2) or match.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return month, day, bool(_TENS_CUT.match(text.strip()))


def parse_month(text: str) -> str | None:
    """'2025-03', '2025/3', '2025年3月', or a date (its month). None when not a month."""
    text = clean(text)
    match = _MONTH.match(text)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
    day = parse_date(text)
    return day.strftime("%Y-%m") if day else None


def parse_count(text: str) -> int | None:
    """A non-negative integer ('12', '12.0', '1,234'); raises ValueError otherwise."""
    compact = text.replace(",", "").replace(" ", "")
    if compact.endswith("人") or compact.endswith("张"):
        compact = compact[:-1]
    number = float(compact)
    if not number.is_integer() or number < 0:
        raise ValueError(text)
    return int(number)


def map_unique(series: pd.Series, func: Callable[[str], T]) -> np.ndarray:
    """Apply func once per distinct value: a million rows hold few distinct dates or units."""
    codes, (results,) = map_unique_parts(series, lambda value: (func(value),), 1)
    return results[codes]


def map_unique_parts(
    series: pd.Series, func: Callable[[str], tuple[object, ...]], width: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Apply func, which returns `width` values, once per distinct value: the position of each row's
    value among the distinct ones, and an object array per part, by distinct value (`part[codes]`
    spreads a part to the rows, with no tuple taken apart per row)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    parts = [np.empty(len(uniques), dtype=object) for _ in range(width)]
    # tolist() gives the same scalars as iterating the Index, several times faster on Arrow strings.
    for i, value in enumerate(uniques.tolist()):
        for part, result in zip(parts, func(value), strict=True):
            part[i] = result
    return codes, parts


def map_unique_text(series: pd.Series, func: Callable[[Any], str]) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """map_unique for a func that returns text, as a string array built from the distinct values by
    position rather than from a million Python strings. Empty: an empty object array, as map_unique."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    if not len(uniques):
        return np.empty(0, dtype=object)
    values = uniques.tolist()
    mapped = [func(value) for value in values]
    if mapped == values and series.dtype == "str":  # already as func makes it: no column to build
        return series.array
    return pd.array(mapped, dtype="str").take(codes)
