"""The roster: unit lookup frames, effective quotas, and listing."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, select

from monitor.config import DEFAULT_QUOTAS, TYPE_LABELS, TYPE_NAMES, UNIT_TYPES
from monitor.db import fetch_tuples
from monitor.models import TypeQuota, Unit

UNIT_FIELDS = ["code", "name", "type", "town", "head", "phone", "quota", "active_from", "active_to"]

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


class UnknownType(ValueError):
    """Not a unit type."""


def parse_type(text: str) -> str:
    """'站', '新时代文明实践站' or 'station' -> 'station'."""
    key = text.strip()
    found = _TYPE_WORDS.get(key) or _TYPE_WORDS.get(key.casefold())
    if found is None:
        raise UnknownType(text)
    return found


def type_quotas(*, session: Session) -> dict[str, int]:
    quotas = dict(DEFAULT_QUOTAS)
    quotas.update({q.type: q.quota for q in session.exec(select(TypeQuota)).all()})
    return quotas


def units_frame(*, session: Session, town: str | None = None, unit_type: str | None = None) -> pd.DataFrame:
    """Every unit with its effective monthly quota (own quota, else its type's)."""
    columns = ["id", "short_name", *UNIT_FIELDS]
    statement = select(*[getattr(Unit, c) for c in columns])
    if town:
        statement = statement.where(Unit.town == town)
    if unit_type:
        statement = statement.where(Unit.type == unit_type)
    frame = pd.DataFrame.from_records(fetch_tuples(session, statement), columns=columns)
    quotas = type_quotas(session=session)
    frame["type_quota"] = frame["type"].map(quotas).astype("int64")
    frame["monthly_quota"] = frame["quota"].astype("Float64").fillna(frame["type_quota"]).astype("int64")
    frame["type_label"] = frame["type"].map(TYPE_LABELS)
    order = {t: i for i, t in enumerate(UNIT_TYPES)}
    frame = frame.sort_values(["type", "town", "code"], key=lambda s: s.map(order) if s.name == "type" else s)
    return frame.reset_index(drop=True)


ROSTER_HEADINGS = {
    "code": "单位编码",
    "name": "单位名称",
    "type_label": "类型",
    "town": "所属乡镇",
    "head": "负责人",
    "phone": "联系电话",
    "monthly_quota": "月度任务",
    "active_from": "启用月份",
    "active_to": "停用月份",
}


def search_units(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Units whose name, code, township or head contains the text (case-insensitive); all when blank."""
    text = text.strip()
    if not text:
        return frame
    fields = frame[["name", "code", "town", "head"]].fillna("").astype(str)
    hit = fields.apply(lambda column: column.str.contains(text, case=False, regex=False)).any(axis=1)
    return frame[hit]


def roster_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A units_frame under the roster's Chinese headings, as shown and downloaded."""
    table = frame[list(ROSTER_HEADINGS)].rename(columns=ROSTER_HEADINGS)
    text = ["负责人", "联系电话", "启用月份", "停用月份"]
    return table.assign(**{c: table[c].fillna("") for c in text})


def list_units(*, session: Session, town: str | None = None, unit_type: str | None = None) -> list[dict[str, object]]:
    """The roster as SPEC §5 `units list` gives it."""
    frame = units_frame(session=session, town=town, unit_type=unit_type)
    out = []
    for record in frame[UNIT_FIELDS].to_dict("records"):
        record["quota"] = None if pd.isna(record["quota"]) else int(record["quota"])
        for key in ("active_from", "active_to"):
            record[key] = record[key] if isinstance(record[key], str) and record[key] else None
        out.append(record)
    return out


def towns(*, session: Session) -> list[str]:
    return sorted({t for t in session.exec(select(Unit.town)).all() if t})
