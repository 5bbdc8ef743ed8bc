"""The rows' units: found by code, else by township and name (the sheet's hint settling a name found in
several townships); a row whose unit is unknown, ambiguous, of another township or inactive in the
row's month is refused."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from monitor.core.issues import Code, Issue, issue
from monitor.core.normalize import map_unique_parts, town_key
from monitor.ingest.row_check import RowCheck
from monitor.ingest.sheet_context import RowSheets
from monitor.roster.unit_index import UnitIndex


class _Units(NamedTuple):
    """Each row's unit as resolved: its id, else the problem and what the problem says."""

    ids: pd.Series  # Int64, <NA> where none was found
    problems: pd.Series  # a Code, or None
    details: pd.Series  # the townships of an ambiguous name, or the hint for an unknown one


def _resolve_units(frame: pd.DataFrame, index: UnitIndex, sheets: RowSheets, allowed_town: str | None) -> _Units:
    """A code settles the unit alone; a row without one, its township, name and the sheet's hint.
    Each distinct code or (township, name, hint) is resolved once."""
    coded_rows = (frame["code"] != "").to_numpy(dtype=bool)
    named_rows = frame.index[~coded_rows]
    keys = frame["town"][named_rows] + "\x1f" + sheets.names[named_rows] + "\x1f" + sheets.hints[named_rows]

    def resolve(key: str) -> tuple[int | None, Code | None, str]:
        row_town, name, hint = key.split("\x1f")
        found = index.resolve("", row_town, name, home_town=allowed_town)
        if hint and not row_town and found[1] in (Code.AMBIGUOUS_UNIT, Code.UNKNOWN_UNIT):
            # The township of the title or of the upload settles a name found in several townships.
            settled = index.resolve("", hint, name, home_town=allowed_town)
            if settled[0] is not None or found[1] is Code.UNKNOWN_UNIT:
                return settled  # or the suggestions from the township the file is for
        return found

    by_code, by_code_parts = map_unique_parts(
        frame["code"][coded_rows], lambda code: index.resolve(code, "", "", home_town=allowed_town), 3
    )
    by_name, by_name_parts = map_unique_parts(keys, resolve, 3)
    codes = np.empty(len(frame), dtype="int64")
    codes[coded_rows] = by_code
    codes[~coded_rows] = by_name + len(by_code_parts[0])
    found_ids, found_problems, found_details = (
        np.concatenate([a, b]) for a, b in zip(by_code_parts, by_name_parts, strict=True)
    )
    return _Units(
        ids=pd.Series(pd.array(found_ids.tolist(), dtype="Int64").take(codes), index=frame.index),
        problems=pd.Series(found_problems[codes], index=frame.index, dtype=object),
        details=pd.Series(found_details[codes], index=frame.index, dtype=object),
    )


def check_units(check: RowCheck, index: UnitIndex, allowed_town: str | None) -> pd.Series:
    """Each row's unit id (<NA> where none); the rows whose unit is not found, contradicts its
    township or lies outside the account's township are refused."""
    units = _resolve_units(check.frame, index, check.sheets, allowed_town)
    check.report(units.problems.notna(), lambda row, cells: _unit_issue(check, units, row, cells))
    _check_town(check, index, units.ids)
    if allowed_town is not None:
        _check_forbidden(check, index, units.ids, allowed_town)
    return units.ids


def _unit_issue(check: RowCheck, units: _Units, row: int, cells: dict[str, str]) -> Issue:
    head, sheets = check.head, check.sheets
    code = units.problems[row]
    column = head["code"] if cells["code"] else head["name"]
    value = cells["code"] or sheets.names[row]
    if code is Code.MISSING_VALUE:
        return Issue(
            code=Code.MISSING_VALUE.value,
            row=row,
            column=head["name"],
            value="",
            message=f"“{head['name']}”不能为空：如与上一行是同一单位，请把单位名称写在每一行，"
            "或把这几行的单位名称设为合并单元格。",
        )
    if not cells["name"] and not cells["code"] and sheets.from_sheet[int(sheets.number[row])]:
        return issue(
            Code.UNKNOWN_UNIT,
            row,
            "工作表名",
            value,
            hint="本表没有单位列，按工作表名识别单位：请把工作表改名为单位名称，或加一列“单位名称”。",
        )
    if code is Code.AMBIGUOUS_UNIT:
        return issue(code, row, column, value, towns=units.details[row])
    return issue(Code.UNKNOWN_UNIT, row, column, value, hint=units.details[row])


def _check_town(check: RowCheck, index: UnitIndex, unit_ids: pd.Series) -> None:
    """A code's township settles the unit; a different 所属乡镇 on the same row is a contradiction."""
    frame, head = check.frame, check.head
    coded = (frame["code"] != "") & (frame["town"] != "") & unit_ids.notna()
    if not coded.any():
        return
    unit_towns = unit_ids[coded].astype("int64").map(index.units["town"])
    differs = pd.Series(
        [town_key(a) != town_key(b) for a, b in zip(frame.loc[coded, "town"], unit_towns, strict=True)],
        index=unit_towns.index,
        dtype=bool,
    ).reindex(frame.index, fill_value=False)
    check.report(
        differs & ~check.bad,
        lambda row, cells: issue(
            Code.TOWN_MISMATCH,
            row,
            head["town"],
            cells["town"],
            unit_code=cells["code"],
            town=index.units.at[int(unit_ids[row]), "town"] or "区级",
        ),
    )


def _check_forbidden(check: RowCheck, index: UnitIndex, unit_ids: pd.Series, allowed_town: str) -> None:
    """A township's account reports its own township's units only."""
    head = check.head
    towns = unit_ids.map(lambda i: index.units.at[int(i), "town"] if pd.notna(i) else allowed_town)
    outside = (towns != allowed_town).astype(bool)
    check.report(
        outside,
        lambda row, cells: issue(
            Code.FORBIDDEN_UNIT,
            row,
            head["code"] if cells["code"] else head["name"],
            cells["code"] or cells["name"],
            unit=index.label(int(unit_ids[row])),
            town=towns[row] or "区级",
            own=allowed_town,
        ),
    )


def check_active(
    check: RowCheck, index: UnitIndex, unit_ids: pd.Series, *, dates: pd.Series, months: pd.Series, known: pd.Series
) -> None:
    """Of the `known` rows (a unit found, a date not in the future), those dated outside their unit's
    active months are refused."""
    if not known.any():
        return
    units = index.units
    outside = _outside_active(units, unit_ids[known], months).reindex(check.frame.index, fill_value=False)
    check.report(
        outside.astype(bool),
        lambda row, cells: issue(
            Code.INACTIVE_UNIT,
            row,
            check.head["date"],
            str(dates[row]),
            unit=index.label(int(unit_ids[row])),
            month=months[row],
            active=_active_text(units.at[int(unit_ids[row]), "active_from"], units.at[int(unit_ids[row]), "active_to"]),
        ),
    )


def _outside_active(units: pd.DataFrame, known_ids: pd.Series, months: pd.Series) -> pd.Series:
    """Of the rows of `known_ids`, those whose month is outside their unit's active range."""
    # Only the rows of units with an active range are compared: most units have none, and
    # comparing a million month texts costs more than the rest of the check.
    bounds = units[["active_from", "active_to"]].fillna("").astype(object)
    bounds = bounds[(bounds["active_from"] != "") | (bounds["active_to"] != "")]
    # int64 ids: mapping Int64 ids onto an all-empty month column would give Int64, which cannot hold ""
    known_ids = known_ids.astype("int64")
    known_ids = known_ids[known_ids.isin(bounds.index)]
    if not len(known_ids):
        return pd.Series(False, index=known_ids.index)
    active_from = known_ids.map(bounds["active_from"])
    active_to = known_ids.map(bounds["active_to"])
    month = months[known_ids.index]
    return ((active_from != "") & (month < active_from)) | ((active_to != "") & (month > active_to))


def _active_text(active_from: str | None, active_to: str | None) -> str:
    # the units frame holds a missing month as NaN, which is truthy
    active_from = active_from if isinstance(active_from, str) else None
    active_to = active_to if isinstance(active_to, str) else None
    if active_from and active_to:
        return f"启用期 {active_from} 至 {active_to}"
    if active_from:
        return f"{active_from} 起启用"
    return f"启用至 {active_to}" if active_to else "全部月份"
