"""Finding the unit a row names: by code, by township and name, or by a name unique in the roster,
with names as offices write them (村委会, brackets, traditional characters) and suggestions from the
file's own township first."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from monitor.core.issues import Code
from monitor.core.normalize import short_unit_name, town_key
from monitor.files.cells import suggest, unit_key

# A name that is only a township's place word: "镇新时代文明实践所" in the township's own ledger.
TOWN_WORDS = frozenset({"镇", "乡", "街道", "街道办事处", "办事处", "新时代文明实践所", "文明实践所", "实践所", "所"})

Found = tuple[int | None, Code | None, str]


@dataclass
class _Names:
    """Units by (township key, name key) and by name key, under one way of writing a name."""

    by_town_name: dict[tuple[str, str], int] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class UnitIndex:
    """Finds a unit by code, by town + name, or by a name unique in the district."""

    units: pd.DataFrame
    by_code: dict[str, int] = field(default_factory=dict)
    by_town_name: dict[tuple[str, str], int] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    towns: list[str] = field(default_factory=list)
    town_set: frozenset[str] = frozenset()
    town_lengths: list[int] = field(default_factory=list)  # longest first
    institutes: dict[str, int] = field(default_factory=dict)  # township key -> its institute
    _keyed: _Names | None = None  # names as written (unit_key), made on the first name not found as is
    _labels: dict[str, list[str]] | None = None  # township key -> labels of its units, for suggestions

    @classmethod
    def build(cls, units: pd.DataFrame) -> UnitIndex:
        index = cls(units=units.set_index("id", drop=False))
        # Plain lists: a province roster is 30,000 rows, and stepping through Arrow-backed columns
        # a value at a time costs more than the whole loop.
        for unit_id, code, town, short, kind in zip(
            units["id"].tolist(),
            units["code"].tolist(),
            units["town"].tolist(),
            units["short_name"].tolist(),
            units["type"].tolist(),
            strict=True,
        ):
            index.by_code[str(code).casefold()] = unit_id
            index.by_town_name[(town_key(town), short)] = unit_id
            index.by_name.setdefault(short, []).append(unit_id)
            if kind == "institute" and town:
                index.institutes.setdefault(town_key(town), unit_id)
        index.towns = sorted({t for t in units["town"] if t}, key=len, reverse=True)
        index.town_set = frozenset(index.towns)
        index.town_lengths = sorted({len(t) for t in index.towns}, reverse=True)
        return index

    def find_town(self, text: str) -> str | None:
        """The township a title or a name mentions (泥江口镇2026年6月…台账), the longest name first."""
        compact = "".join((text or "").split())
        for town in self.towns:
            if town in compact or (len(town_key(town)) >= 2 and town_key(town) in compact):
                return str(town)
        return None

    def label(self, unit_id: int) -> str:
        unit = self.units.loc[unit_id]
        return (
            f"{unit['town']}{unit['name']}"
            if unit["town"] and not str(unit["name"]).startswith(unit["town"])
            else unit["name"]
        )

    def resolve(self, code: str, town: str, name: str, home_town: str | None = None) -> Found:
        """(unit id, problem, detail) for one distinct (code, town, name).

        A township's clerk (home_town) reporting a bare name means the unit of that name in their
        own township, even where other townships have a unit of the same name. A name not found as
        written is looked for again as offices write names (村委会, brackets, traditional characters);
        "镇新时代文明实践所" alone is the institute of the township.
        """
        if code:
            unit_id = self.by_code.get(code.casefold())
            if unit_id is None:
                return None, Code.UNKNOWN_UNIT, "请核对单位编码，或删去编码只填单位名称。"
            return unit_id, None, ""
        if not name:
            return None, Code.MISSING_VALUE, ""
        names = _Names(self.by_town_name, self.by_name)
        found = self._find(names, short_unit_name, town, name, home_town)
        if found[1] is not Code.UNKNOWN_UNIT:
            return found
        keyed = self._find(self._keyed_names(), unit_key, town, name, home_town)
        if keyed[1] is not Code.UNKNOWN_UNIT:
            return keyed
        place = town or home_town
        if unit_key(name) in TOWN_WORDS and place and town_key(place) in self.institutes:
            return self.institutes[town_key(place)], None, ""
        return None, Code.UNKNOWN_UNIT, self._suggest(name, place or self._town_in(name))

    def _find(self, names: _Names, key, town: str, name: str, home_town: str | None) -> Found:  # type: ignore[no-untyped-def]
        short = key(name)
        if not town:
            # A township's name written before the unit's; the longest township name wins.
            for length in self.town_lengths:
                if len(short) > length and short[:length] in self.town_set:
                    town, short = short[:length], key(short[length:])
                    break
        if town:
            unit_id = names.by_town_name.get((town_key(town), short))
            if unit_id is None:
                unit_id = names.by_town_name.get((town_key(town), key(town + short)))
            return (unit_id, None, "") if unit_id is not None else (None, Code.UNKNOWN_UNIT, "")
        if home_town is not None:
            unit_id = names.by_town_name.get((town_key(home_town), short))
            if unit_id is not None:
                return unit_id, None, ""
        candidates = names.by_name.get(short, [])
        if len(candidates) == 1 or (candidates and home_town is not None):
            return candidates[0], None, ""  # for a clerk, outside their township: refused as forbidden_unit
        if len(candidates) > 1:
            towns = "、".join(sorted(self.units.loc[c, "town"] for c in candidates))
            return None, Code.AMBIGUOUS_UNIT, towns
        return None, Code.UNKNOWN_UNIT, ""

    def _keyed_names(self) -> _Names:
        if self._keyed is None:
            keyed = _Names()
            for unit_id, town, short in zip(
                self.units["id"].tolist(), self.units["town"].tolist(), self.units["short_name"].tolist(), strict=True
            ):
                keyed.by_town_name[(town_key(town), unit_key(short))] = unit_id
                keyed.by_name.setdefault(unit_key(short), []).append(unit_id)
            self._keyed = keyed
        return self._keyed

    def _town_in(self, name: str) -> str:
        compact = unit_key(name)
        return next((t for t in self.towns if compact.startswith(t)), "")

    def _suggest(self, name: str, town: str) -> str:
        """The closest names, from the township the file is for first, each named once."""
        if self._labels is None:
            self._labels = {}
            for town_name, unit_name in zip(self.units["town"].tolist(), self.units["name"].tolist(), strict=True):
                self._labels.setdefault(town_key(town_name or ""), []).append(_label(town_name or "", unit_name))
        own = self._labels.get(town_key(town), []) if town else []
        close = suggest(name, own)
        if len(close) < 3:
            everyone = [label for labels in self._labels.values() for label in labels]
            close += [c for c in suggest(name, everyone) if c not in close][: 3 - len(close)]
        if close:
            return "是否为：" + "、".join(close) + "？"
        return "请核对单位名称，或填写单位编码。"


def _label(town: str, name: str) -> str:
    """泥江口镇油草塘村: the township written once, also for 赫山街道新时代文明实践所."""
    short = short_unit_name(name)
    return short if not town or short.startswith(town) else f"{town}{short}"
