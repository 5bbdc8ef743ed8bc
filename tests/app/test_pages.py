"""Every page shows its content, filters move the figures to the values counted from the tables, and the data
flows work.

A page test asserts what the reader sees (a KPI value, a table's rows, a caption), never only that
nothing raised: a page that stops after its title raises nothing. `shows` holds, for each page,
what must be on it; the meta-tests below prove it fails on a page that stopped after its title.
The figures a page must show are known by hand (the demo district, a small roster) or counted here
from the tables with plain SQL and SPEC §4's rules, never asked of the code that draws the page.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
import streamlit as st
from sqlalchemy import delete, insert, text
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from monitor.core.config import Settings
from monitor.core.models import Activity, ImportBatch, Unit, User
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.counts import unitmonths
from monitor.reports.ledger import ledger_xlsx
from monitor.store.db import bump_version, get_engine
from tests.factories import (
    SMALL_ROSTER,
    Counted,
    count_by_hand,
    due_by_hand,
    first_month_by_hand,
    load_roster,
    totals_by_hand,
)

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "progress",
    "register",
    "overview",
    "units",
    "interviews",
    "review",
    "signals",
    "feedback",
    "upload",
    "roster",
    "imports",
    "export",
    "bulletin",
    "months",
    "audit",
    "users",
]
TITLES = {
    "progress": "本月进度",
    "register": "活动登记",
    "overview": "总览",
    "units": "单位明细",
    "interviews": "约谈名单",
    "review": "活动认定",
    "signals": "疑点核查",
    "feedback": "活动反馈",
    "upload": "数据上传",
    "roster": "名册与任务",
    "imports": "导入记录",
    "export": "导出台账",
    "bulletin": "通报",
    "months": "月份锁定",
    "audit": "操作记录",
    "users": "用户管理",
}
# The demo district, known by hand (monitor/demo/district.py; tests/test_demo_evidence.py writes out its
# plants): 1 center, 18 institutes, 241 stations, each active all year; monthly quotas 8, 3 and 2, so
# 544 a month. Jan–Jun 2025 holds exactly the reported 3617 activities. In December 2025 three
# activities are 不予认定 (LX-012's, QJH-001's and OJC-009's), the plants give 36 signals and no month
# before has any: both ends of the three reused photos (6), 2 activities without a photo, 3 photo
# dates off (QJH-001's two, LX-012's), 20 copied titles, 2 bunched months, 1 outlier, 1 repeated
# title, 1 resubmitted photo. At December 2025 these ten units are due for interview.
DEMO_UNITS = 260
DEMO_REQUIRED_2025 = 12 * (8 + 18 * 3 + 241 * 2)
DEMO_REJECTED_2025 = 3
DEMO_SIGNALS_2025 = 6 + 2 + 3 + 20 + 2 + 1 + 1 + 1
DEMO_DUE_2025_12 = frozenset(
    {"BZS-001", "CSP-007", "LGQ-003", "LGQ-012", "LX-009", "LX-011", "LX-S", "XSD-010", "YXS-010", "ZJQ-001"}
)
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
START, END = MONTHS[0], MONTHS[-1]
TYPES = ("center", "institute", "station")  # in the order the screens list them
TYPE_WORDS = {"center": "中心", "institute": "所", "station": "站"}
ADMIN = Actor(name="t_admin_", role="admin")  # the account app_for signs in with


@dataclass(frozen=True)
class Expected:
    """What a database holds for START..END, as the pages should show it to an admin."""

    units: int
    required: int
    held: int
    completion_rate: float | None
    compliance_rate: float | None
    due: frozenset[str]  # codes of the units due for interview at END
    users: frozenset[str]
    batches: int
    progress: str  # 本月进度's summary line for the district, today
    progress_units: tuple[tuple[str, str, int], ...]  # its rows: township, unit, still owed
    queue: tuple[int, int, int]  # END's review queue for the district: units, activities, 待认定
    rejected: int  # activities 不予认定 in START..END
    signals: int  # signals in START..END


def expected(
    settings: Settings, *, units: int, required: int, due: frozenset[str], rejected: int, signals: int
) -> Expected:
    """The hand-known figures as given, each checked against a plain recount of the tables; held, the
    rates, this month's progress and the review queue counted here (count_by_hand and plain SQL)."""
    today = datetime.now(settings.timezone).date()
    with Session(get_engine(settings.database_url)) as s:
        year = count_by_hand(s, MONTHS)
        first = first_month_by_hand(s, earliest_year=settings.earliest_year)
        now = [r for r in count_by_hand(s, [today.strftime("%Y-%m")]) if r.quota > 0]
        users = s.exec(select(User.name)).all()
        batches = s.exec(select(func.count()).select_from(ImportBatch)).one()
        sql = s.connection().execute
        queue = sql(  # units with activities in END, their activities, those without a decision (待认定)
            text(
                "SELECT count(DISTINCT a.unit_id), count(*), count(*) - count(r.activity_id) "
                "FROM activity a LEFT JOIN review r ON r.activity_id = a.id WHERE a.month = :month"
            ),
            {"month": END},
        ).one()
        refused = sql(
            text(
                "SELECT count(*) FROM review r JOIN activity a ON a.id = r.activity_id "
                "WHERE r.decision = 'rejected' AND a.month BETWEEN :start AND :end"
            ),
            {"start": START, "end": END},
        ).scalar_one()
    totals = totals_by_hand(year)
    assert totals["required"] == required, "the hand-known quota total and the recount disagree"
    assert due_by_hand(year, MONTHS[-settings.interview_min_streak :], first=first) == due, "the hand-known list"
    assert refused == rejected, "the hand-known 不予认定 count and the review table disagree"
    progress, progress_units = _progress_by_hand(now, today, settings.deadline_day)
    return Expected(
        units=units,
        required=required,
        held=int(totals["held"]),  # type: ignore[call-overload]
        completion_rate=totals["completion_rate"],  # type: ignore[arg-type]
        compliance_rate=totals["compliance_rate"],  # type: ignore[arg-type]
        due=due,
        users=frozenset(users),
        batches=int(batches),
        progress=progress,
        progress_units=progress_units,
        queue=(int(queue[0]), int(queue[1]), int(queue[2])),
        rejected=rejected,
        signals=signals,
    )


def _progress_by_hand(
    now: list[Counted], today: date, deadline_day: int
) -> tuple[str, tuple[tuple[str, str, int], ...]]:
    """本月进度 on a day when no active unit has held anything this month: each owes its whole quota.

    The line says what is owed, which units have not started (by type), and the days left until the
    month's deadline (day `deadline_day` of the next month); the rows go most owed first, then by
    type, township and code."""
    assert not [r for r in now if r.held], "counted by hand only for a month nobody has started"
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    tail = f"距上报截止还有 {(following.replace(day=deadline_day) - today).days} 天"
    if not now:
        return f"本月没有需要开展活动的单位；{tail}", ()
    kinds = Counter(r.type for r in now)
    idle = "、".join(f"{kinds[t]} 个{TYPE_WORDS[t]}" for t in TYPES if kinds[t])
    summary = f"本月还差 {sum(r.quota for r in now)} 场：{idle}未开展；{tail}"
    rows = sorted(now, key=lambda r: (-r.quota, TYPES.index(r.type), r.town, r.code))
    return summary, tuple((r.town, r.name, r.quota) for r in rows)


def demo_expected(settings: Settings) -> Expected:
    return expected(
        settings,
        units=DEMO_UNITS,
        required=DEMO_REQUIRED_2025,
        due=DEMO_DUE_2025_12,
        rejected=DEMO_REJECTED_2025,
        signals=DEMO_SIGNALS_2025,
    )


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def _table(at: AppTest, column: str):  # type: ignore[no-untyped-def]
    """The first table on the page that has `column`; AssertionError when there is none."""
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert tables, f"no table with a {column} column"
    return tables[0]


def _progress(at: AppTest, e: Expected) -> None:
    assert [m.value for m in (*at.warning, *at.info) if m.value == f"**{e.progress}**"], e.progress
    if e.progress_units:
        shown = _table(at, "还差")[["所属乡镇", "单位名称", "还差"]]
        assert tuple(shown.itertuples(index=False, name=None)) == e.progress_units


def _register(at: AppTest, e: Expected) -> None:
    """The form for the first township's units, its institute among them, and 我的登记."""
    boxes = {box.label: box for box in at.main.selectbox}
    assert {"乡镇（街道）", "单位"} <= set(boxes), list(boxes)
    town, units = boxes["乡镇（街道）"].value, boxes["单位"].options
    assert any(name.startswith(town) and name.endswith("所") for name in units), (town, units)
    assert [b.label for b in at.button if b.label == "保存"] == ["保存"]
    assert [h.value for h in at.subheader] == ["我的登记"]
    assert any("还没有登记过活动" in c.value for c in at.caption)


def _overview(at: AppTest, e: Expected) -> None:
    shown = {m.label: m.value for m in at.metric}
    assert shown.get("开展活动（场次）") == f"{e.held:,}"
    assert shown.get("任务数（场次）") == f"{e.required:,}"
    assert shown.get("完成率") == _pct(e.completion_rate)
    assert shown.get("达标率") == _pct(e.compliance_rate)
    assert any(c.startswith(f"统计期间：{START} 至 {END}") for c in _captions(at))


def _units(at: AppTest, e: Expected) -> None:
    assert len(_table(at, "单位编码")) == e.units
    assert any(c.startswith(f"共 {e.units} 个单位") for c in _captions(at))


def _interviews(at: AppTest, e: Expected) -> None:
    assert any(f"截至 {END}，" in c and f"共 {len(e.due)} 个" in c for c in _captions(at)), _captions(at)
    if e.due:
        assert set(_table(at, "单位编码")["单位编码"]) == e.due
    else:
        assert any("没有连续" in s.value for s in at.success)


def _review(at: AppTest, e: Expected) -> None:
    units, activities, pending = e.queue
    if not units:
        assert any("没有活动，无需认定" in i.value for i in at.info)
        return
    assert any(
        c.startswith(f"{END} · 全区：{units} 个单位共 {activities} 项活动；待认定 {pending} 项") for c in _captions(at)
    )
    assert [m.value for m in at.markdown if m.value.startswith("#### ")], "the current activity's card"
    assert {"认定", "不予认定", "上一项", "下一项"} <= {b.label for b in at.button}
    assert len(_table(at, "待认定")) == units


def _signals(at: AppTest, e: Expected) -> None:
    assert any(c.startswith(f"{START} 至 {END} · 全区：疑点 {e.signals} 条") for c in _captions(at)), _captions(at)
    if e.signals:
        assert len(_table(at, "说明")) == e.signals
        assert "下载疑点清单（Excel）" in [b.label for b in at.get("download_button")]
    else:
        assert any("没有疑点" in s.value for s in at.success)


def _feedback(at: AppTest, e: Expected) -> None:
    if e.rejected:
        assert any(f"不予认定 {e.rejected} 项" in c for c in _captions(at)), _captions(at)
        assert len(_table(at, "不予认定理由")) == e.rejected
    else:
        assert any("没有不予认定的活动" in s.value for s in at.success)


def _upload(at: AppTest, e: Expected) -> None:
    assert [u.label for u in at.get("file_uploader")] == [
        "上传活动台账（Excel、WPS 表格、CSV、Unicode 文本、ODS 或 Word 文档）"
    ]
    labels = {b.label for b in at.get("download_button")}
    assert {"下载活动台账模板（Excel）", "下载活动台账模板（CSV）"} <= labels


def _roster(at: AppTest, e: Expected) -> None:
    assert len(_table(at, "单位编码")) == e.units
    assert any(c.startswith(f"共 {e.units} 个单位") for c in _captions(at))


def _imports(at: AppTest, e: Expected) -> None:
    assert e.batches > 0, "the database holds no import to list"
    assert len(_table(at, "文件名")) == e.batches


def _export(at: AppTest, e: Expected) -> None:
    assert "下载台账（Excel）" in [b.label for b in at.get("download_button")]


def _bulletin(at: AppTest, e: Expected) -> None:
    text = " ".join(m.value for m in at.markdown)
    assert "下载通报（Word）" in [b.label for b in at.get("download_button")]
    if e.held == 0 and e.rejected == 0:  # no activity at all in the period: it says so and lists nobody
        assert "该时段（2025年1-12月）没有任何活动记录" in text, text  # START..END
        return
    assert f"开展活动{e.held}场次" in text and f"完成率达到{e.completion_rate * 100:.2f}%" in text  # type: ignore[operator]
    ranked = _table(at, "乡镇（街道）")
    assert len(ranked) and list(ranked["排名"]) == list(range(1, len(ranked) + 1))


def _months(at: AppTest, e: Expected) -> None:
    [lock] = [s for s in at.selectbox if s.label == "锁定月份"] or [None]
    assert lock is not None, "no lock form"
    assert lock.options and lock.value in lock.options


def _audit(at: AppTest, e: Expected) -> None:
    assert any(re.match(r"共 \d+ 条。", c) for c in _captions(at)), _captions(at)


def _users(at: AppTest, e: Expected) -> None:
    assert set(_table(at, "用户名")["用户名"]) == e.users


CONTENT: dict[str, Callable[[AppTest, Expected], None]] = {
    "progress": _progress,
    "register": _register,
    "overview": _overview,
    "units": _units,
    "interviews": _interviews,
    "review": _review,
    "signals": _signals,
    "feedback": _feedback,
    "upload": _upload,
    "roster": _roster,
    "imports": _imports,
    "export": _export,
    "bulletin": _bulletin,
    "months": _months,
    "audit": _audit,
    "users": _users,
}


def shows(at: AppTest, page: str, e: Expected) -> None:
    """The page ran to its content: its title, no error or exception, and what CONTENT asks of it."""
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    assert [t.value for t in at.title][:1] == [TITLES[page]]
    assert not at.error, [x.value for x in at.error]
    CONTENT[page](at, e)


def open_page(at: AppTest, page: str) -> AppTest:
    at.session_state["f_start"], at.session_state["f_end"] = START, END
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()  # the page, whichever page the last run was on
    return at


def _metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def _by_hand(settings, months, **kwargs) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """held, required and the rates of `months` (of a township and unit type), counted by hand."""
    with Session(get_engine(settings.database_url)) as s:
        return totals_by_hand(count_by_hand(s, months, **kwargs))


# What each page says on a database with no unit, no activity and one account: (element, text in it).
EMPTY = {
    "progress": ("info", "本月没有需要开展活动的单位"),
    "register": ("info", "没有可以登记活动的单位"),
    "overview": ("info", "数据库还是空的"),
    "units": ("info", "当前筛选下没有单位"),
    "interviews": ("caption", "单位共 0 个"),
    "review": ("info", "没有活动，无需认定"),
    "signals": ("caption", "疑点 0 条"),
    "feedback": ("success", "没有不予认定的活动"),
    "upload": ("download_button", "下载活动台账模板（CSV）"),
    "roster": ("caption", "共 0 个单位"),
    "imports": ("info", "还没有导入记录"),
    "export": ("download_button", "下载台账（Excel）"),
    "bulletin": ("markdown", "所选范围内没有乡镇（街道）数据"),
    "months": ("selectbox", "锁定月份"),
    "audit": ("caption", "共 1 条。"),  # the account the test signs in with, added
    "users": ("dataframe", "t_admin_"),
}


def _texts(at: AppTest, kind: str) -> list[str]:
    if kind == "dataframe":
        return [" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe]
    if kind in ("download_button", "selectbox"):
        return [e.label for e in at.get(kind)]
    return [e.value for e in at.get(kind)]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_database(app_for, settings, page):
    at = app_for(settings).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == [TITLES[page]]
    kind, words = EMPTY[page]
    assert any(words in found for found in _texts(at, kind)), _texts(at, kind)


def test_town_staff_on_an_empty_database_see_the_overview(app_for, settings):
    """The empty-database hints link only to pages the role may open."""
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings, [u for u in SMALL_ROSTER if u["code"] == "NJK-S"])  # a township to sign in to
    at = app_for(settings, role="town", town="泥江口镇")
    with Session(get_engine(settings.database_url)) as s:
        s.exec(delete(Unit))  # then no unit left: the database is empty again for the pages
        s.commit()
    at.run()
    at.switch_page("app_pages/overview.py").run()  # town staff open on 本月进度
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    assert [t.value for t in at.title] == ["总览"]
    assert any("数据库还是空的" in i.value for i in at.info)


def test_empty_database_offers_the_demo_and_loads_it(app_for, settings):
    at = app_for(settings).run()
    assert any("数据库还是空的" in i.value for i in at.info)
    [button] = [b for b in at.button if b.label == "载入示例数据"]
    button.click().run()
    assert not at.exception
    assert any("示例数据" in w.value for w in at.warning)
    # The period moves to the data just loaded (2025), not the empty months chosen before it.
    assert (at.session_state["f_start"], at.session_state["f_end"]) == ("2025-01", "2025-12")
    assert _metrics(at)["开展活动（场次）"] == f"{_by_hand(settings, MONTHS)['held']:,}"
    # The demo's published passwords are not added beside the accounts the database already has.
    with Session(get_engine(settings.database_url)) as s:
        names = set(s.exec(select(User.name)).all())
    assert not names & {"admin", "reviewer", "njk", "lx"}
    assert any("示例账号未创建" in m.value for m in at.success)


def test_every_page_is_in_the_content_table():
    assert set(CONTENT) == set(TITLES) == set(PAGES) == {p.stem for p in (ROOT / "app_pages").glob("*.py")}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_its_content_on_the_demo(app_for, demo_settings, page):
    at = app_for(demo_settings)  # signs in its admin first, so the users table holds it
    shows(open_page(at, page), page, demo_expected(demo_settings))


@pytest.mark.parametrize("page", PAGES)
def test_the_content_check_fails_on_a_page_that_stops_after_its_title(demo_settings, monkeypatch, page):
    """The page run on its own, without a signed-in person, draws its title and stops, raising nothing."""
    monkeypatch.setenv("MONITOR_DATABASE_URL", demo_settings.database_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == [TITLES[page]]
    with pytest.raises(AssertionError):
        shows(at, page, demo_expected(demo_settings))


def test_the_content_check_fails_on_figures_other_than_the_databases(app_for, demo_settings):
    """The overview check reads the values: the first half-year's figures do not pass for the whole year."""
    at = app_for(demo_settings)
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-06"
    at.run()
    with pytest.raises(AssertionError):
        shows(at, "overview", demo_expected(demo_settings))


def _insert_activity(settings: Settings, code: str, month: str, day: date) -> None:
    """A row as a broken import or a hand edit might have left it, written past the importer's checks."""
    with Session(get_engine(settings.database_url)) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.code == code)).one()
        s.exec(
            insert(Activity.__table__).values(  # type: ignore[attr-defined]
                unit_id=unit_id,
                date=day,
                month=month,
                title=f"活动{month}",
                title_key=f"活动{month}",
                category="",
                location="",
                notes="",
                stored_at=datetime(2025, 6, 4, tzinfo=UTC),
            )
        )
        unitmonths.rebuild(s, day=5)  # as the upgrade that met such a row counted it
        bump_version(s)
        s.commit()


BAD_ROWS = {
    "0202": [("NJK-S", "202-06", date(202, 6, 3))],  # a year typed 0202, stored as month 202-06
    "1900": [("NJK-HP", "1900-01", date(1900, 1, 15))],
    "both": [("NJK-S", "202-06", date(202, 6, 3)), ("NJK-HP", "1900-01", date(1900, 1, 15))],
}


@pytest.mark.parametrize("rows", list(BAD_ROWS))
def test_a_mistyped_year_in_the_data_leaves_every_page_working(app_for, settings, rows):
    """One absurd date in the activity table must not take the sidebar, and so every page, down."""
    st.cache_data.clear()  # fresh PostgreSQL databases share one URL; start from no cached figures
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
    for code, month, day in BAD_ROWS[rows]:
        _insert_activity(settings, code, month, day)
    at = app_for(settings)  # signs in its admin first, so the users table holds it
    failures: dict[str, str] = {}
    # Quotas 8, 3, 2: a center, two institutes and three stations all year, one station Mar–Jun.
    # No activity is dated in a month from 2000 (the earliest year) on: the district has not started
    # reporting, so no month is held against anyone and nobody is due for interview, though nothing
    # is held.
    e = expected(
        settings,
        units=len(SMALL_ROSTER),
        required=12 * (8 + 2 * 3 + 3 * 2) + 4 * 2,
        due=frozenset(),
        rejected=0,
        signals=0,
    )
    for page in PAGES:
        try:
            shows(open_page(at, page), page, e)
        except AssertionError as exc:
            failures[page] = str(exc).splitlines()[0]
    assert not failures, failures


def test_overview_shows_the_reported_first_half_of_2025(app_for, demo_settings):
    at = app_for(demo_settings)
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-06"
    at.run()
    shown = _metrics(at)
    assert shown["完成率"] == "110.81%"
    assert shown["开展活动（场次）"] == "3,617"
    assert shown["任务数（场次）"] == "3,264"


@pytest.mark.parametrize(
    ("town", "kind", "type_code"),
    [("泥江口镇", "全部类型", None), ("全部乡镇", "站", "station"), ("兰溪镇", "所", "institute")],
)
def test_filters_change_the_figures_to_those_counted_by_hand(app_for, demo_settings, town, kind, type_code):
    at = app_for(demo_settings)
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-12"
    at.session_state["f_town"], at.session_state["f_type"] = town, kind
    at.run()
    expected = _by_hand(demo_settings, MONTHS, town=None if town == "全部乡镇" else town, unit_type=type_code)
    shown = _metrics(at)
    assert shown["开展活动（场次）"] == f"{expected['held']:,}"
    assert shown["完成率"] == f"{expected['completion_rate'] * 100:.2f}%"
    assert shown["达标率"] == f"{expected['compliance_rate'] * 100:.2f}%"


def test_ledger_summary_holds_the_first_half_of_2025(demo_settings):
    with Session(get_engine(demo_settings.database_url)) as s:
        data = ledger_xlsx(session=s, query=Query(actor=ADMIN, settings=demo_settings, start="2025-01", end="2025-06"))
    counted = _by_hand(demo_settings, MONTHS[:6])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["汇总", "乡镇", "单位月度", "未达标", "约谈", "明细"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["开展活动（场次）"] == counted["held"] == 3617
    assert summary["任务数（场次）"] == counted["required"] == 3264
    assert summary["完成率"] == pytest.approx(3617 / 3264)
    assert summary["封顶完成率"] == pytest.approx(counted["capped_rate"])
    assert summary["达标率"] == pytest.approx(counted["compliance_rate"])
    assert book["明细"].max_row - 1 == 3617
    assert book["汇总"].freeze_panes == "A2"
