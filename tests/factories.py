"""Builders of the files town offices upload: roster and activity CSVs, and a small roster loaded into a database;
and the unit-months of SPEC §4 counted by hand from the tables, for the tests to compare the figures with."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.core.permissions import Actor
from monitor.ingest.batches import ImportResult
from monitor.ingest.importer import import_activities
from monitor.ingest.roster_file import import_units

ROSTER_HEADERS = {
    "code": "单位编码",
    "name": "单位名称",
    "type": "单位类型",
    "town": "所属乡镇",
    "head": "负责人",
    "phone": "联系电话",
    "quota": "月度任务",
    "active_from": "启用月份",
    "active_to": "停用月份",
}
ACTIVITY_HEADER = ["单位编码", "所属乡镇", "单位名称", "活动日期", "活动名称", "参与人数"]
OPERATOR = Actor(name="测试操作员", role="admin")  # the account tests act as, unless they test the roles
RULES = Settings()  # the figures' settings (deadline day, time zone, earliest year) at their defaults
TODAY = date(2026, 11, 26)

# A small district: a center, two towns with an institute each, a station name found in both towns.
SMALL_ROSTER: list[dict[str, object]] = [
    {"code": "ZX", "name": "区新时代文明实践服务中心", "type": "中心", "head": "张三", "phone": "13800000001"},
    {"code": "NJK-S", "name": "泥江口镇新时代文明实践所", "type": "所", "town": "泥江口镇", "head": "李四"},
    {"code": "NJK-YCT", "name": "油草塘村新时代文明实践站", "type": "站", "town": "泥江口镇", "head": "王五"},
    {"code": "NJK-HP", "name": "和平村新时代文明实践站", "type": "站", "town": "泥江口镇"},
    {"code": "LX-S", "name": "兰溪镇新时代文明实践所", "type": "所", "town": "兰溪镇"},
    {"code": "LX-HP", "name": "和平村", "type": "站", "town": "兰溪镇"},
    {
        "code": "LX-XJ",
        "name": "新建村新时代文明实践站",
        "type": "站",
        "town": "兰溪镇",
        "active_from": "2025-03",
        "active_to": "2025-06",
    },
]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, encoding: str = "utf-8") -> bytes:
    """A CSV file as Excel writes it, with CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue().encode(encoding)


def roster_csv(units: Iterable[Mapping[str, object]], *, headers: Mapping[str, str] = ROSTER_HEADERS) -> bytes:
    """A roster file with one row per unit; keys missing from a unit are blank cells."""
    keys = list(ROSTER_HEADERS)
    return csv_bytes([headers[k] for k in keys], ([u.get(k, "") for k in keys] for u in units))


def load_roster(session: Session, settings: Settings, units: Iterable[Mapping[str, object]] = SMALL_ROSTER) -> None:
    result = import_units(
        session=session, actor=OPERATOR, data=roster_csv(units), file_name="名册.csv", settings=settings, today=TODAY
    )
    assert (result.file_error, result.errors) == (None, [])


def activities_csv(rows: Iterable[Sequence[object]], *, header: Sequence[str] = ACTIVITY_HEADER) -> bytes:
    return csv_bytes(header, rows)


def checked_rows(unit_ids: Sequence[int], dates: Sequence[date], titles: Sequence[str | None]) -> pd.DataFrame:
    """Rows as validation hands them to monitor.ingest.inserts.insert_activities (title_key = title)."""
    return pd.DataFrame(
        {
            "unit_id": list(unit_ids),
            "date": list(dates),
            "month": [d.strftime("%Y-%m") for d in dates],
            "title": list(titles),
            "title_key": list(titles),
            "category": "",
            "participants": None,
            "volunteers": None,
            "location": "",
            "photos": None,
            "notes": "",
        }
    )


def hold(session: Session, settings: Settings, counts: Mapping[tuple[str, str], int], *, today) -> ImportResult:
    """Store `n` activities for each (unit code, YYYY-MM), on days 1..n of the month."""
    rows = [
        (code, "", "", f"{month}-{day:02d}", f"活动{day}", "")
        for (code, month), n in counts.items()
        for day in range(1, n + 1)
    ]
    if not rows:
        return ImportResult()
    result = import_activities(
        session=session, actor=OPERATOR, data=activities_csv(rows), file_name="台账.csv", settings=settings, today=today
    )
    assert (result.errors, result.imported) == ([], len(rows))
    return result


def pick(doc: Mapping[str, object], keys: Iterable[str]) -> dict[str, object]:
    """The SPEC §5 keys of a JSON object (more keys may be added to it), each of which must be there."""
    return {k: doc[k] for k in keys}


BY_TYPE_KEYS = ("units", "held", "required", "completion_rate")
BY_TOWN_KEYS = ("town", "held", "required", "completion_rate")
BY_MONTH_KEYS = ("month", "held", "required", "completion_rate")


# --- the figures counted by hand ----------------------------------------------------------------------
# SPEC §1's default monthly quotas. No unit of the districts the tests count by hand (SMALL_ROSTER, the
# demo) has a quota of its own, and none of those tests changes a quota.
QUOTAS = {"center": 8, "institute": 3, "station": 2}


@dataclass(frozen=True)
class Counted:
    """One unit in one month, as SPEC §4 counts it."""

    code: str
    name: str
    type: str
    town: str
    month: str
    held: int  # activities dated in the month, less those 不予认定; 0 outside the active months
    quota: int  # QUOTAS[type]; 0 outside the active months

    @property
    def below(self) -> bool:
        return self.quota > 0 and self.held < self.quota


def count_by_hand(
    session: Session, months: Sequence[str], *, town: str | None = None, unit_type: str | None = None
) -> list[Counted]:
    """Every unit of the roster (of `town` and `unit_type` when given) in every month given, read from
    the unit, activity and review tables with plain SQL and counted here."""
    connection = session.connection()
    units = connection.execute(text("SELECT id, code, name, type, town, active_from, active_to FROM unit")).all()
    activities = connection.execute(
        text(
            "SELECT a.unit_id, a.month FROM activity a LEFT JOIN review r ON r.activity_id = a.id "
            "WHERE r.decision IS NULL OR r.decision <> 'rejected'"
        )
    ).all()
    held = Counter((unit_id, month) for unit_id, month in activities)
    counted = []
    for unit_id, code, name, kind, township, first, last in units:
        if (town and township != town) or (unit_type and kind != unit_type):
            continue
        for month in months:
            active = (first or "") <= month and (not last or month <= last)
            counted.append(
                Counted(
                    code=code,
                    name=name,
                    type=kind,
                    town=township or "",
                    month=month,
                    held=held[(unit_id, month)] if active else 0,
                    quota=QUOTAS[kind] if active else 0,
                )
            )
    return counted


def totals_by_hand(counted: Iterable[Counted]) -> dict[str, object]:
    """SPEC §4 over the unit-months given: held, required and the three rates (None over nothing)."""
    rows = list(counted)
    held, required = sum(r.held for r in rows), sum(r.quota for r in rows)
    with_quota = [r for r in rows if r.quota > 0]
    return {
        "held": held,
        "required": required,
        "completion_rate": held / required if required else None,
        "capped_rate": sum(min(r.held, r.quota) for r in rows) / required if required else None,
        "compliance_rate": sum(r.held >= r.quota for r in with_quota) / len(with_quota) if with_quota else None,
    }


def first_month_by_hand(session: Session, *, earliest_year: int = 2000) -> str | None:
    """The first well-formed month (YYYY-MM, from the earliest year on) that holds any activity."""
    months = session.connection().execute(text("SELECT DISTINCT month FROM activity")).scalars()
    return min((m for m in months if re.fullmatch(r"\d{4}-\d{2}", m) and m >= f"{earliest_year}-01"), default=None)


def due_by_hand(counted: Iterable[Counted], months: Sequence[str], *, first: str | None) -> set[str]:
    """Codes of the units below quota in every one of `months` (the run that makes a unit due at the last).
    Months before `first`, the district's first month with data, are held against nobody."""
    if first is None:
        return set()
    below = {(r.code, r.month) for r in counted if r.below and r.month >= first}
    codes = {code for code, _ in below}
    return {code for code in codes if all((code, month) in below for month in months)}
