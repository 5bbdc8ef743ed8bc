"""名册与任务: the quota shown is the one in force this month, the one the figures use."""

from __future__ import annotations

from sqlmodel import Session, func, select

from monitor.core import calendar
from monitor.core.calendar import today_in
from monitor.core.models import AuditEvent
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.ingest.quotas import set_type_quotas
from monitor.store.db import get_engine
from tests.factories import OPERATOR, load_roster


def _events(settings) -> int:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return int(s.exec(select(func.count()).select_from(AuditEvent)).one())


def test_the_page_shows_this_months_quota_and_the_change_to_come(app_for, settings):  # type: ignore[no-untyped-def]
    today = today_in(settings)
    this = today.strftime("%Y-%m")
    following = calendar.shift_month(this, 1)
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
        set_type_quotas(
            session=s, actor=OPERATOR, settings=settings, quotas={"station": 3}, today=today, from_month=following
        )
        grid = metrics.unit_months(session=s, query=Query(actor=OPERATOR, settings=settings, start=this, end=this))
        figures = int(grid.loc[grid["code"] == "NJK-HP", "quota_month"].iloc[0])
    assert figures == 2

    at = app_for(settings).run()
    at.switch_page("app_pages/roster.py").run()
    assert not at.exception
    shown = at.dataframe[0].value.set_index("单位编码")
    assert (shown.at["NJK-HP", "月度任务"], shown.at["NJK-HP", "任务起始月份"]) == (figures, "初始")
    assert any(f"{this} 执行的任务" in c.value for c in at.caption)
    [station] = [n for n in at.number_input if n.label == "站（场/月）"]
    assert station.value == 2
    assert any(f"自 {following} 起 3 场" in c.value for c in at.caption)

    # Asking again for what is already set from next month stores nothing and says so.
    before = _events(settings)
    station.set_value(3)
    at.selectbox(key="quota_from").set_value(following)
    [save] = [b for b in at.button if b.label == "保存月度任务"]
    save.click().run()
    assert not at.exception and not at.error
    assert any("没有改动" in i.value for i in at.info)
    assert _events(settings) == before
