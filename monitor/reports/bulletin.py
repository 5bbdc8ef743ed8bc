"""通报: the department's write-up of a period, built from the figures, as a Word document.

`bulletin()` gathers the text and tables (the page previews them); `bulletin_docx()` sets them in
the way such documents are set: A4, 黑体 headings and 仿宋 text, page numbers, numbers as the
department writes them (3617场次, 110.81%), table rows that do not split across pages.
Months still open for reporting are not judged (monitor.figures.periods), and a period without any activity
recorded says so instead of listing every unit as behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import pandas as pd
from sqlmodel import Session

from monitor.core.calendar import deadline_words
from monitor.core.config import TYPE_NAMES, Settings
from monitor.core.export import safe_text
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.figures.periods import Judged, day_words, has_activities, judged, period_words

DEFAULT_REQUIREMENTS = (
    "各乡镇（街道）要对照本通报，逐一核实未完成月度任务和未开展活动的所、站，督促其负责人"
    "制定整改措施，按月开展活动并及时上传活动台账和图片；对连续2个月以上未完成任务的所（站），"
    "区委宣传部将按规定约谈相关负责人，并将整改情况纳入年度考核。"
)
NO_DATA = "该时段没有任何活动记录，暂不评价各单位任务完成情况。"
NUMBERS = "一二三四五六七八九十"


@dataclass
class Bulletin:
    """The content of one 通报, as the page previews it and the document sets it."""

    title: str
    issuer: str
    issued_on: str  # 2026年11月27日
    overall: list[str]  # 一、总体情况: the paragraphs
    towns: pd.DataFrame  # 二、各乡镇情况: the ranked table (already in words and per cents)
    below: list[str]  # 三、存在问题: units below quota, with their months
    none: list[str]  # units with no activity in the whole period
    due: list[str]  # units due for interview at the period's end
    requirements: str  # 四、下步要求
    rejected: list[str] = field(default_factory=list)  # units with activities 不予认定 in the period
    figures: dict[str, object] = field(default_factory=dict)  # the report it was built from (report --json)
    by_month: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_town: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: str = ""  # 2025年6月30日 when months of the period are still open for reporting
    open_months: list[str] = field(default_factory=list)  # those months, not judged
    open_note: str = ""  # the sentence of 一、总体情况 that names them
    no_data: bool = False  # no activity at all is recorded in the judged months

    def problems(self) -> list[str]:
        """三、存在问题, one line each: （一）未完成月度任务的单位（N个）：…。"""
        if self.no_data:
            return [NO_DATA]
        groups = [
            ("未完成月度任务的单位", self.below),
            ("全期未开展活动的单位", self.none),
            ("应约谈的单位", self.due),
            ("有活动经审核不予认定的单位", self.rejected),
        ]
        return [
            f"（{NUMBERS[i]}）{heading}（{len(names)}个）：" + ("、".join(names) + "。" if names else "无。")
            for i, (heading, names) in enumerate(groups)
        ]


def rate(value: object) -> str:
    return "—" if value is None else f"{float(value) * 100:.2f}%"  # type: ignore[arg-type]


def _units_phrase(by_type: dict[str, dict[str, object]], town: str | None) -> str:
    """区新时代文明实践服务中心、18个新时代文明实践所和241个新时代文明实践站."""
    parts = []
    for unit_type in ("center", "institute", "station"):
        count = int(by_type.get(unit_type, {}).get("units", 0) or 0)  # type: ignore[call-overload]
        if not count:
            continue
        if unit_type == "center":
            parts.append("区" + TYPE_NAMES["center"])
        elif unit_type == "institute" and count == 1 and town:
            parts.append(town + TYPE_NAMES["institute"])
        else:
            parts.append(f"{count}个{TYPE_NAMES[unit_type]}")
    if len(parts) > 1:
        return "、".join(parts[:-1]) + "和" + parts[-1]
    return parts[0] if parts else "各单位"


def _label(row: pd.Series) -> str:
    town, name = str(row["town"] or ""), str(row["name"])
    return name if not town or name.startswith(town) else f"{town}{name}"


def bulletin(*, session: Session, query: Query, today: date) -> Bulletin:
    """The 通报 of the query's months as of `today`: only months whose reporting is over are judged (the
    text says 截至 which day, and which months are still open); a period all open is refused
    (OpenPeriod); a period without any activity recorded says so instead of listing every unit as behind."""
    query = query.allowed("bulletin")
    settings, town = query.settings, query.town
    period = judged(start=query.start, end=query.end, settings=settings, today=today)
    report = metrics.report(session=session, query=query.over(period.start, period.end))
    doc = {**report.to_json(), **period.to_json()}
    words = period_words(doc["start"], doc["end"])  # type: ignore[arg-type]
    where = town or "全区"
    asked = period_words(period.start, (period.open_months or [period.end])[-1])
    as_of = day_words(period.as_of) if period.open_months else ""
    open_note = _open_note(period, session, query)
    still_open = [open_note] if open_note else []
    issued: dict[str, Any] = {
        "title": f"关于{asked}{where}新时代文明实践活动开展情况的通报",
        "issuer": settings.bulletin_issuer,
        "issued_on": day_words(today),
        "requirements": settings.bulletin_requirements or DEFAULT_REQUIREMENTS,
        "figures": doc,
        "as_of": as_of,
        "open_months": period.open_months,
        "open_note": open_note,
    }
    if not has_activities(session=session, months=period.months):
        return _without_activities(words, still_open, issued)
    overall = _overall(doc, _Context(words=words, as_of=as_of, still_open=still_open, town=town, settings=settings))
    grid = report.grid
    counted = grid[grid["quota_month"] > 0]
    return Bulletin(
        overall=overall,
        towns=_town_table(counted, doc["by_town"]),  # type: ignore[arg-type]
        below=_below(counted),
        none=_none(counted),
        due=_due(session, query.over(str(doc["end"])), min_streak=settings.interview_min_streak),
        rejected=_rejected(counted),
        **issued,
        by_month=pd.DataFrame(doc["by_month"], columns=["month", "held", "required", "completion_rate"]),
        by_town=pd.DataFrame(doc["by_town"], columns=["town", "held", "required", "completion_rate"]),
    )


class _Context(NamedTuple):
    """What the paragraphs of 一、总体情况 say besides the figures: the period in words, the day the
    figures reach (when months are still open), the sentence naming those months, and for whom."""

    words: str
    as_of: str
    still_open: list[str]
    town: str | None
    settings: Settings


def _without_activities(words: str, still_open: list[str], issued: dict[str, Any]) -> Bulletin:
    """The 通报 of a period without any activity recorded: it says so instead of listing every unit as behind."""
    return Bulletin(
        overall=[
            f"该时段（{words}）没有任何活动记录，无法统计开展场次和完成率；请核实活动台账是否已上报、导入。",
            *still_open,
        ],
        towns=pd.DataFrame(),
        below=[],
        none=[],
        due=[],
        no_data=True,
        **issued,
    )


def _open_note(period: Judged, session: Session, query: Query) -> str:
    """The sentence naming the months still open for reporting and what they hold so far; "" when none."""
    if not period.open_months:
        return ""
    so_far = metrics.report(session=session, query=query.over(period.open_months[0], period.open_months[-1]))
    return f"{period.open_note()}，暂不纳入本通报统计；目前已上报{so_far.to_json()['held']}场次。"


def _overall(doc: dict[str, Any], context: _Context) -> list[str]:
    """一、总体情况: the paragraphs of a period with activities."""
    as_of = context.as_of
    held, required = int(doc["held"]), int(doc["required"])
    overall = [
        f"据统计，{f'截至{as_of}，' if as_of else ''}{_units_phrase(doc['by_type'], context.town)}"
        f"{context.words}开展活动{held}场次，完成率达到{rate(doc['completion_rate'])}。",
        *context.still_open,
        f"按每个单位每月最多计满月度任务的口径，封顶完成率为{rate(doc['capped_rate'])}；"
        f"达到月度任务的单位月份占{rate(doc['compliance_rate'])}（达标率）；"
        f"在{deadline_words(context.settings)}前按时上报并完成任务的单位月份占{rate(doc.get('on_time_rate'))}。"
        f"任务数共{required}场次。",
    ]
    not_recognised = int(doc["not_recognised"])
    if not_recognised:
        overall.append(f"经审核，另有{not_recognised}场次活动不予认定，未计入开展活动数。")
    return overall


def _town_table(counted: pd.DataFrame, by_town: list[dict[str, object]]) -> pd.DataFrame:
    """二、各乡镇情况: townships ranked by completion rate, in words and per cents."""
    towns = counted[counted["town"] != ""]
    met = towns.assign(met=towns["held"] >= towns["quota_month"]).groupby("town")["met"].mean()
    table = pd.DataFrame(by_town)
    if table.empty:
        return table
    table = table.assign(compliance_rate=table["town"].map(met)).sort_values(
        ["completion_rate", "town"], ascending=[False, True]
    )
    return pd.DataFrame(
        {
            "排名": range(1, len(table) + 1),
            "乡镇（街道）": table["town"].map(safe_text),
            "开展（场次）": table["held"].astype(int),
            "任务（场次）": table["required"].astype(int),
            "完成率": table["completion_rate"].map(rate),
            "达标率": table["compliance_rate"].map(rate),
            "按时上报率": table["on_time_rate"].map(rate),
        }
    )


def _below(counted: pd.DataFrame) -> list[str]:
    """Units below quota in some counted month, with those months."""
    below_rows = counted[counted["below"]]
    return [
        f"{_label(rows.iloc[0])}（{'、'.join(sorted(rows['month']))}）"
        for _, rows in below_rows.groupby("id", sort=False)
    ]


def _none(counted: pd.DataFrame) -> list[str]:
    """Units with no activity held in the whole period, by township and name."""
    totals = counted.groupby("id").agg(held=("held", "sum"), town=("town", "first"), name=("name", "first"))
    return [_label(row) for _, row in totals[totals["held"] == 0].sort_values(["town", "name"]).iterrows()]


def _due(session: Session, query: Query, *, min_streak: int) -> list[str]:
    """Units due for interview at the query's month, with their run of months below quota and their head."""
    due_frame = metrics.interviews(session=session, query=query, min_streak=min_streak)
    return [
        f"{_label(row)}（连续{int(row['streak'])}个月未完成，负责人：{row['head'] or '未登记'}）"
        for _, row in due_frame.iterrows()
    ]


def _rejected(counted: pd.DataFrame) -> list[str]:
    """Units with activities 不予认定 in the period, with how many."""
    refused = counted[counted["not_recognised"] > 0]
    return [
        f"{_label(rows.iloc[0])}（{int(rows['not_recognised'].sum())}场次）"
        for _, rows in refused.sort_values(["town", "code"]).groupby("id", sort=False)
    ]
