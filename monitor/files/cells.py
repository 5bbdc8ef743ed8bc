"""Readers for cells as people write them: counts in words, dates with their surroundings, unit names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from monitor.core.normalize import clean, parse_date, parse_month_day

MAX_COUNT = 100_000  # SPEC §6: a larger count is not plausible
# Dates are searched for in the head of a cell only: a clerk writes the date first, and a cell may
# hold 32,767 characters.
DATE_HEAD = 100

# --- counts ------------------------------------------------------------------------------------

_COUNT_UNITS = "人次|人|名|张|个|位|户"
# 12人 and 5张 were read as plain counts before words were read at all; 5名, 3个 are read, and said so.
_EXACT_UNITS = "人|张"
_EXACT_COUNT = re.compile(rf"(\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.0+)?(?:{_EXACT_UNITS})?")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.0+)?|\d+(?:\.0+)?|[零〇一二两三四五六七八九十百千]+"
_DASHES = r"(?:-|~|—|–|―|－|～|〜|至|到)+"
_LOOSE_COUNT = re.compile(
    r"(?:约计|大约|约有|约|将近|接近|近|超过|逾|共计|共有|共|总计|合计|计|达)?"
    rf"(?P<low>{_NUMBER})(?:{_DASHES}(?P<high>{_NUMBER}))?"
    r"(?:余|多|来|\+)?"
    rf"(?P<unit>{_COUNT_UNITS})?"
    r"(?:左右|以上|余|多)?"
    r"(?P<tail>.*)",
    re.DOTALL,
)
_OPENERS = frozenset("([【（［〔")
_SEPARATORS = frozenset(",，;；、。:：/")
_WHITESPACE = re.compile(r"\s+")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_ZEROS = frozenset("零〇")
_CN_POWERS = {"十": 10, "百": 100, "千": 1000}


def _chinese_number(text: str) -> int | None:
    """一百二十 -> 120, 十五 -> 15, 三百五 -> 350 (spoken short form), 两千零五 -> 2005; up to 9999."""
    total, digit, last_power, after_zero = 0, None, 10_000, False
    for char in text:
        if char in _CN_ZEROS:
            if digit is not None or after_zero:
                return None
            after_zero = True
        elif char in _CN_DIGITS:
            if digit is not None:
                return None  # 一二三: digits read one by one are a code, not a count
            digit = _CN_DIGITS[char]
        else:
            power = _CN_POWERS[char]
            if power >= last_power:
                return None
            if digit is None:
                if power != 10 or total:
                    return None
                digit = 1  # 十五 is 15
            total, digit, last_power, after_zero = total + digit * power, None, power, False
    if digit is not None:
        # 三百五 is 350, but 三百零五 is 305 and 十五 is 15
        total += digit * (last_power // 10 if last_power >= 100 and not after_zero and total else 1)
    elif after_zero and not total:
        return 0 if text in _CN_ZEROS else None
    elif not total:
        return None
    return total


def _number(text: str) -> int | None:
    if not text[0].isdigit():
        return _chinese_number(text)
    digits = text.replace(",", "").split(".")[0]
    # a cell of thousands of digits is no count, and int() refuses strings that long
    return int(digits) if len(digits) <= 9 else None


def read_count(text: str) -> tuple[int | None, bool]:
    """(value, exact). exact: the cell was a plain non-negative integer ('12', '12.0', '1,234', '12人',
    '5张', '10人次', ' 12 '). A count read as a person would (30余人, 约40人, 40-50人, 100+, 三十人,
    30人（其中党员12人）) is (value, False); one that cannot be read is (None, False); an empty cell is
    (None, True): nothing to warn about."""
    compact = _WHITESPACE.sub("", clean(text))
    if not compact:
        return None, True
    exact = _EXACT_COUNT.fullmatch(compact)
    if exact:
        value = _number(exact.group(1))
        return (value, True) if value is not None and value <= MAX_COUNT else (None, False)
    loose = _LOOSE_COUNT.match(compact)
    if not loose:
        return None, False
    tail = loose.group("tail")
    if tail and tail[0] not in _OPENERS:
        if tail[0] in _SEPARATORS:
            # 1,2 is neither 1 nor 12; 30人,12名党员 is 30
            if len(tail) > 1 and tail[1].isdigit() and not loose.group("unit"):
                return None, False
        elif not loose.group("unit"):
            return None, False  # 2026年6月, 12月: a number followed by another word is no count
    low = _number(loose.group("low"))
    if low is None or low > MAX_COUNT:
        return None, False
    if loose.group("high") is not None:
        high = _number(loose.group("high"))
        if high is None or high < low:
            return None, False  # 2026-06 is a month, not 6 to 2026 people
    return low, False


# --- dates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRead:
    """A date as typed in 活动时间, with what was set aside to read it."""

    year: int | None  # None when the cell has no year
    month: int | None  # None when the cell is a day alone ("26日")
    day: int
    note: str  # "" when the cell was a plain date of SPEC §3; else what was set aside, in Chinese
    unsure: bool = False  # 6.1/6.2/6.3 in a number cell may have been 6.10/6.20/6.30


# Not inside another number or a clock time (the 00-11 of 9:00-11:30), but after a label's colon.
_DATE_CORE = re.compile(
    r"(?<![\d.])(?<!\d:)(?P<y>\d{4})\s*[-/.年]\s*(?P<ym>\d{1,2})\s*[-/.月]\s*(?P<yd>\d{1,2})(?![\d:])\s*[日号]?"
    r"|(?<![\d.])(?<!\d:)(?P<cy>\d{4})(?P<cm>\d{2})(?P<cd>\d{2})(?!\d)"
    r"|(?<![\d.])(?<!\d:)(?P<m>\d{1,2})\s*月\s*(?P<md>\d{1,2})(?![\d:])\s*[日号]?"
    r"|(?<![\d./-])(?<!\d:)(?P<n>\d{1,2})\s*[./-]\s*(?P<nd>\d{1,2})(?![\d.:/])"
    r"|(?<![\d./-])(?<!\d:)(?P<d>\d{1,2})\s*[日号]"
)
# The end of a range written right after its first day: -10.10, 至28日, ~2026/6/28.
_RANGE_END = re.compile(
    rf"\s*{_DASHES}\s*(?:\d{{4}}\s*[-/.年]\s*)?(?:\d{{1,2}}\s*[-/.月]\s*)?\d{{1,2}}(?![\d:：])\s*[日号]?"
)
_TIME_OF_DAY = "上午|下午|晚上|早上|早晨|中午|傍晚|凌晨|全天|夜间|晚"
_CLOCK = r"\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?"
_HOUR = r"\d{1,2}\s*[点时](?:\s*(?:半|一刻|三刻|\d{1,2}\s*分?))?"
_ONE_TIME = rf"(?:{_CLOCK}|{_HOUR})"
_SET_ASIDE = re.compile(
    r"(?P<week>[(（\[【]?\s*(?:星期|礼拜|周)\s*[一二三四五六日天七1-7]\s*[)）\]】]?)"
    rf"|(?P<time>{_ONE_TIME}(?:\s*{_DASHES}\s*(?:{_TIME_OF_DAY})?\s*{_ONE_TIME})?"
    rf"|\d{{1,2}}\s*{_DASHES}\s*\d{{1,2}}\s*[点时])"
    rf"|(?P<tod>{_TIME_OF_DAY})"
)
# A column's label typed into the cell (时间：, 日期:) may stand before any date, even a day alone.
_LABEL = re.compile(r"[^\d:]{1,12}:")
_WORD_SHOWN = 12  # a note names what it set aside, not a whole description
_PUNCTUATION = " \t\r\n,，.。;；:：、()（）[]【】<>《》-~—–―－～\x00"
_DAY_LIMITS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # any year: February has 29 in some


def _plain(text: str) -> DateRead | None:
    found = parse_date(text)
    if found is not None:
        return DateRead(found.year, found.month, found.day, "")
    partial = parse_month_day(text)
    if partial is not None:
        month, day, unsure = partial
        return DateRead(None, month, day, "", unsure) if day <= _DAY_LIMITS[month - 1] else None
    return None


def _valid(year: int | None, month: int | None, day: int) -> bool:
    if month is None:
        return 1 <= day <= 31
    if not (1 <= month <= 12 and 1 <= day <= _DAY_LIMITS[month - 1]):
        return False
    if year is None:
        return True
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _core(match: re.Match[str]) -> tuple[int | None, int | None, int, bool]:
    """(year, month, day, words allowed around it). Only a date that says it is one (a year, or 月)
    may stand among other words: 共3日 or 第1.2期 is no date."""
    parts = match.groupdict()
    if parts["y"]:
        return int(parts["y"]), int(parts["ym"]), int(parts["yd"]), True
    if parts["cy"]:
        return int(parts["cy"]), int(parts["cm"]), int(parts["cd"]), True
    if parts["m"]:
        return None, int(parts["m"]), int(parts["md"]), True
    if parts["n"]:
        return None, int(parts["n"]), int(parts["nd"]), False
    return None, None, int(parts["d"]), False


def read_date(text: str) -> DateRead | None:
    """A date as typed in 活动时间: every form of parse_date and parse_month_day with note ""; time of day,
    clock times, weekdays and words around the date set aside with a note; a range read as its first
    day; a day alone (26日, 26号) with month and year None. None when there is no valid date."""
    head = clean(text.lstrip()[:DATE_HEAD])
    if not head:
        return None
    plain = _plain(head)
    if plain is not None:
        return plain
    label = _LABEL.match(head)
    start = label.end() if label else 0
    for match in _DATE_CORE.finditer(head, start):
        year, month, day, words_allowed = _core(match)
        if _valid(year, month, day):
            break
    else:
        return None
    notes = []
    end = match.end()
    range_end = _RANGE_END.match(head, end)
    if range_end:
        notes.append("日期范围，取第一天")
        end = range_end.end()
    if month is None:
        notes.append("只有日，年月按上下文补全")
    rest = head[start : match.start()] + "\x00" + head[end:]
    weekday, other_words = False, False
    times: list[str] = []
    words: list[str] = []
    if label:
        _collect_words(label.group(), words)
    position = 0
    for piece in _SET_ASIDE.finditer(rest):
        other_words |= _collect_words(rest[position : piece.start()], words)
        position = piece.end()
        if piece.group("week"):
            weekday = True
        elif piece.group("time"):
            times.append(piece.group("time").strip())
        else:
            words.append(piece.group("tod"))
    other_words |= _collect_words(rest[position:], words)
    if other_words and not words_allowed:
        return None
    if weekday:
        notes.append("去掉了星期")
    if times:
        notes.append("去掉了时间 " + "、".join(times))
    if words:
        notes.append("去掉了" + "".join(f"“{word}”" for word in words))
    return DateRead(year, month, day, "；".join(notes))


def _collect_words(between: str, words: list[str]) -> bool:
    """Add the words of a stretch between dates and times; True when there were any."""
    found = False
    for fragment in between.split("\x00"):
        word = fragment.strip(_PUNCTUATION)
        if word:
            words.append(word if len(word) <= _WORD_SHOWN else word[:_WORD_SHOWN] + "…")
            found = True
    return found


# --- unit names --------------------------------------------------------------------------------

# Longest first: 新时代文明实践站 must go whole, not leave 新时代 behind after 文明实践站.
_UNIT_ENDINGS = (
    ("新时代文明实践服务中心", ""),
    ("新时代文明实践中心", ""),
    ("新时代文明实践所", ""),
    ("新时代文明实践站", ""),
    ("社区居民委员会", "社区"),
    ("党群服务中心", ""),
    ("村村民委员会", "村"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("文明实践所", ""),
    ("文明实践站", ""),
    ("村村委会", "村"),
    ("社区居委", "社区"),
    ("实践站", ""),
    ("实践所", ""),
    ("居委会", "社区"),
    ("村委会", "村"),
    ("居委", "社区"),
    ("村委", "村"),
)
# What a bracket at the end may hold and still be only an office's addition: 油草塘村（站）.
_BRACKET_ENDINGS = (*_UNIT_ENDINGS, ("服务中心", ""), ("委员会", ""), ("中心", ""), ("站", ""), ("所", ""))
_BRACKET_ONLY = frozenset(ending for ending, _ in _BRACKET_ENDINGS)
_INVISIBLE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
_LAST_BRACKET = re.compile(r"[(（\[【]([^()（）\[\]【】]*)[)）\]】]$")
_WHOLE_BRACKET = re.compile(r"[(（\[【]([^()（）\[\]【】]*)[)）\]】]")
_BRACKETS = re.compile(r"[()（）\[\]【】]")


@lru_cache(maxsize=1)
def _simplifier() -> Any:
    """OpenCC's converter loads its dictionaries once, on the first name that needs them."""
    import opencc

    return opencc.OpenCC("t2s")


def _strip_endings(name: str, endings: tuple[tuple[str, str], ...]) -> str:
    """Take office endings off, repeatedly; a name that is only an ending keeps it."""
    while True:
        for ending, place in endings:
            if name.endswith(ending):
                shorter = name[: -len(ending)] + place
                if shorter and shorter != name:
                    name = shorter
                    break
                return name
        else:
            return name


@lru_cache(maxsize=65536)
def unit_key(name: str) -> str:
    """The form of a unit name that is compared: 油草塘村新时代文明实践站, 油草塘村委会, 油草塘村（站）,
    油草塘村新時代文明實踐站 -> 油草塘村; 江南居委会 -> 江南社区. A bracket around the whole name or
    around an office's ending goes; other brackets lose their marks and keep their words (新华村（一组）
    -> 新华村一组). A name that is only an ending stays as written (新时代文明实践站), and a township's
    institute keeps its place word (镇新时代文明实践所 -> 镇)."""
    compact = _INVISIBLE.sub("", clean(name))
    if not compact:
        return ""
    if not compact.isascii():
        compact = _simplifier().convert(compact)
    whole = _WHOLE_BRACKET.fullmatch(compact)
    if whole and whole.group(1):
        compact = whole.group(1)
    while True:
        last = _LAST_BRACKET.search(compact)
        if not last or last.start() == 0:
            break
        inside = last.group(1)
        if _strip_endings(inside, _BRACKET_ENDINGS) not in _BRACKET_ONLY:
            break
        compact = compact[: last.start()]
    compact = _BRACKETS.sub("", compact) or compact
    return _strip_endings(compact, _UNIT_ENDINGS)


_TOWN_PREFIX = re.compile(r".+?(?:街道|镇|乡)(?=..)")


def _without_town(key: str) -> str:
    """泥江口镇油草塘村 -> 油草塘村: a label may carry its township, a clerk's name rarely does."""
    prefix = _TOWN_PREFIX.match(key)
    return key[prefix.end() :] if prefix else key


# WRatio finds a name that is part of a label (油草塘村 in 泥江口油草塘村) but, counting a wrong character
# as two edits, would rank a label missing one (油草村) above the homophone an input method typed (塘 for
# 糖). Weighted 0.8 it stays below Levenshtein's score for one wrong character in names of 3 or more.
_PART_WEIGHT = 0.8


def suggest(name: str, labels: list[str], *, limit: int = 3, cutoff: float = 60) -> list[str]:
    """The labels closest to a name no unit matched, best first, each once, at most limit.

    Scores (0-100) on unit_key forms, the best of: Levenshtein similarity of the whole keys, of the keys
    without their township (a label may carry it, a clerk's name rarely does), and 0.8 x WRatio of the
    whole keys. Ties go to the label whose length is nearer the name's, then to the earlier label."""
    query = unit_key(name)
    distinct = list(dict.fromkeys(labels))
    if not query or not distinct or limit <= 0:
        return []
    keys = [unit_key(label) for label in distinct]
    short_query, short_keys = _without_town(query), [_without_town(key) for key in keys]
    best: dict[int, float] = {}

    def keep(found: list[tuple[str, float, int]], scale: float) -> None:
        for _, score, index in found:
            best[index] = max(score * scale, best.get(index, 0.0))

    cutoff = min(max(cutoff, 0.0), 100.0)
    similarity = Levenshtein.normalized_similarity
    keep(process.extract(query, keys, scorer=similarity, limit=None, score_cutoff=cutoff / 100), 100)
    keep(process.extract(short_query, short_keys, scorer=similarity, limit=None, score_cutoff=cutoff / 100), 100)
    if cutoff <= 100 * _PART_WEIGHT:
        found = process.extract(query, keys, scorer=fuzz.WRatio, limit=None, score_cutoff=cutoff / _PART_WEIGHT)
        keep(found, _PART_WEIGHT)
    ranked = sorted(best, key=lambda i: (-best[i], abs(len(short_keys[i]) - len(short_query)), i))
    return [distinct[index] for index in ranked[:limit]]
