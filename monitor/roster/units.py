"""The roster: unit lookup frames, the quotas in force in a month, and listing.

Quotas are read from the dated rules (monitor.roster.grids), the figures' one source: a page or a list
shows the quota of the month it is about, never a value stored beside the rules.
"""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, select

from monitor.core.config import TYPE_LABELS, TYPE_NAMES, UNIT_TYPES
from monitor.core.errors import Refusal
from monitor.core.models import Unit
from monitor.roster.grids import Rule, in_force, quota_grid, quota_rules, type_rule
from monitor.store.db import fetch_tuples

UNIT_FIELDS = ["code", "name", "type", "town", "head", "phone", "quota", "active_from", "active_to"]
STORED_FIELDS = [f for f in UNIT_FIELDS if f != "quota"]  # a unit's own quota is a dated rule

_TYPE_WORDS = {
    "center": "center",
    "中心": "center",
    "服务中心": "center",
    TYPE_NAMES["center"]: "center",
    "新时代文明实践中心": "center",
    "institute": "institute",
    "所": "institute",
    "实践所": "institute",
    TYPE_NAMES["institute"]: "institute",
    "station": "station",
    "站": "station",
    "实践站": "station",
    TYPE_NAMES["station"]: "station",
}


class UnknownType(Refusal, ValueError):
    """Not a unit type."""

    code = "bad_argument"


def parse_type(text: str) -> str:
    """'站', '新时代文明实践站' or 'station' -> 'station'."""
    key = text.strip()
    found = _TYPE_WORDS.get(key) or _TYPE_WORDS.get(key.casefold())
    if found is None:
        raise UnknownType(text)
    return found


def type_quotas(*, session: Session, month: str) -> dict[str, int]:
    """Each type's quota in force in `month`."""
    rules = quota_rules(session)
    return {t: int(type_rule(rules, t, month).quota or 0) for t in UNIT_TYPES}


def type_schedule(*, session: Session, month: str) -> dict[str, list[Rule]]:
    """Each type's rule in force in `month`, then the rules set to start after it."""
    rules = quota_rules(session)
    return {t: [type_rule(rules, t, month), *(r for r in rules.get(t, []) if r.from_month > month)] for t in UNIT_TYPES}


def units_frame(
    *, session: Session, town: str | None = None, unit_type: str | None = None, month: str | None = None
) -> pd.DataFrame:
    """Every unit (of a township and/or type); with `month`, the quotas in force in that month.

    The quota columns, given a month: `quota` the unit's own (None: its type's), `type_quota` its
    type's, `monthly_quota` the one the figures use, `quota_from` the month that quota holds from
    ("" since the beginning).
    """
    columns = ["id", "short_name", *STORED_FIELDS]
    statement = select(*[getattr(Unit, c) for c in columns])
    if town:
        statement = statement.where(Unit.town == town)
    if unit_type:
        statement = statement.where(Unit.type == unit_type)
    frame = pd.DataFrame.from_records(fetch_tuples(session, statement), columns=columns)
    frame["type_label"] = frame["type"].map(TYPE_LABELS)
    order = {t: i for i, t in enumerate(UNIT_TYPES)}
    frame = frame.sort_values(["type", "town", "code"], key=lambda s: s.map(order) if s.name == "type" else s)
    frame = frame.reset_index(drop=True)
    return frame if month is None else _with_quotas(session, frame, month)


def _with_quotas(session: Session, frame: pd.DataFrame, month: str) -> pd.DataFrame:
    rules = quota_rules(session)
    kinds = {t: type_rule(rules, t, month) for t in UNIT_TYPES}
    own: list[int | None] = []
    starts: list[str] = []
    for unit_id, kind in zip(frame["id"], frame["type"], strict=True):
        rule = in_force(rules.get(int(unit_id), []), month)
        by_type = kinds.get(kind, Rule(0, ""))
        own.append(None if rule is None else rule.quota)
        if rule is not None and rule.quota is not None:
            starts.append(rule.from_month)
        else:  # on its type's quota: since that rule, or since the unit went back to it
            starts.append(max(by_type.from_month, rule.from_month if rule is not None else ""))
    frame["quota"] = pd.Series(own, dtype=object, index=frame.index)
    frame["type_quota"] = frame["type"].map({t: int(r.quota or 0) for t, r in kinds.items()}).fillna(0).astype("int64")
    frame["monthly_quota"] = quota_grid(session=session, units=frame, months=[month])[:, 0]
    frame["quota_from"] = pd.Series(starts, dtype=object, index=frame.index)
    return frame


ROSTER_HEADINGS = {
    "code": "单位编码",
    "name": "单位名称",
    "type_label": "类型",
    "town": "所属乡镇",
    "head": "负责人",
    "phone": "联系电话",
    "monthly_quota": "月度任务",
    "quota_from": "任务起始月份",
    "active_from": "启用月份",
    "active_to": "停用月份",
}
SINCE_THE_BEGINNING = "初始"  # a quota_from of "": the quota set when the unit or the database was created


def search_units(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Units whose name, code, township or head contains the text (case-insensitive); all when blank."""
    text = text.strip()
    if not text:
        return frame
    fields = frame[["name", "code", "town", "head"]].fillna("").astype(str)
    hit = fields.apply(lambda column: column.str.contains(text, case=False, regex=False)).any(axis=1)
    return frame[hit]


def roster_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A units_frame of a month under the roster's Chinese headings, as shown and downloaded."""
    table = frame[list(ROSTER_HEADINGS)].rename(columns=ROSTER_HEADINGS)
    text = ["负责人", "联系电话", "启用月份", "停用月份"]
    table = table.assign(**{c: table[c].fillna("") for c in text})
    return table.assign(任务起始月份=table["任务起始月份"].replace("", SINCE_THE_BEGINNING))


def list_units(
    *, session: Session, month: str, town: str | None = None, unit_type: str | None = None
) -> list[dict[str, object]]:
    """The roster as SPEC §5 `units list` gives it; `quota` is the unit's own quota in force in `month`."""
    frame = units_frame(session=session, town=town, unit_type=unit_type, month=month)
    out = []
    for record in frame[UNIT_FIELDS].to_dict("records"):
        record["quota"] = None if pd.isna(record["quota"]) else int(record["quota"])
        for key in ("active_from", "active_to"):
            record[key] = record[key] if isinstance(record[key], str) and record[key] else None
        out.append(record)
    return out


def towns(*, session: Session) -> list[str]:
    """The named townships of the roster, in order: read from the index on (town, type, id)."""
    return sorted(t for t in session.exec(select(Unit.town).distinct()).all() if t)
