"""Every page renders, filters move the figures to the engine's values, and the data flows work."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlmodel import Session, select

from monitor import metrics
from monitor.db import get_engine
from monitor.ledger import ledger_xlsx
from monitor.models import User
from monitor.views import Filters

PAGES = ["overview", "units", "interviews", "upload", "roster", "imports", "export", "months", "audit", "users"]


def _metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def _report(settings, **kwargs) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return metrics.report(session=s, **kwargs).to_json()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_database(app_for, settings, page):
    at = app_for(settings).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception


def test_empty_database_offers_the_demo_and_loads_it(app_for, settings):
    at = app_for(settings).run()
    assert any("数据库还是空的" in i.value for i in at.info)
    [button] = [b for b in at.button if b.label == "载入示例数据"]
    button.click().run()
    assert not at.exception
    assert any("示例数据" in w.value for w in at.warning)
    # The period moves to the data just loaded (2025), not the empty months chosen before it.
    assert (at.session_state["f_start"], at.session_state["f_end"]) == ("2025-01", "2025-12")
    assert _metrics(at)["开展活动（场次）"] == f"{_report(settings, start='2025-01', end='2025-12')['held']:,}"
    # The demo's published passwords are not added beside the accounts the database already has.
    with Session(get_engine(settings.database_url)) as s:
        names = set(s.exec(select(User.name)).all())
    assert not names & {"admin", "reviewer", "njk", "lx"}
    assert any("示例账号未创建" in m.value for m in at.success)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo(app_for, demo_settings, page):
    at = app_for(demo_settings).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception


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
def test_filters_change_the_figures_to_the_engines(app_for, demo_settings, town, kind, type_code):
    at = app_for(demo_settings)
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-12"
    at.session_state["f_town"], at.session_state["f_type"] = town, kind
    at.run()
    expected = _report(
        demo_settings, start="2025-01", end="2025-12", town=None if town == "全部乡镇" else town, unit_type=type_code
    )
    shown = _metrics(at)
    assert shown["开展活动（场次）"] == f"{expected['held']:,}"
    assert shown["完成率"] == f"{expected['completion_rate'] * 100:.2f}%"
    assert shown["达标率"] == f"{expected['compliance_rate'] * 100:.2f}%"


def test_ledger_summary_equals_the_report(demo_settings):
    with Session(get_engine(demo_settings.database_url)) as s:
        data = ledger_xlsx(session=s, filters=Filters(start="2025-01", end="2025-06"))
        doc = metrics.report(session=s, start="2025-01", end="2025-06").to_json()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["汇总", "乡镇", "单位月度", "未达标", "约谈", "明细"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["开展活动（场次）"] == doc["held"] == 3617
    assert summary["任务数（场次）"] == doc["required"] == 3264
    assert summary["完成率"] == pytest.approx(doc["completion_rate"])
    assert summary["封顶完成率"] == pytest.approx(doc["capped_rate"])
    assert summary["达标率"] == pytest.approx(doc["compliance_rate"])
    assert book["明细"].max_row - 1 == 3617
    assert book["汇总"].freeze_panes == "A2"
