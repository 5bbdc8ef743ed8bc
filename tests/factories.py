"""Builders of the files town offices upload: roster and activity CSVs, and a small roster loaded into a database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import pandas as pd
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
