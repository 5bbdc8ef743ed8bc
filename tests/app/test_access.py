"""Sign-in on screen and what each role sees: checked on the pages, not only in monitor/."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlmodel import Session, select

from monitor.core.models import User
from monitor.core.query import Query
from monitor.reports.ledger import ledger_xlsx
from monitor.store.db import get_engine
from tests.app.conftest import PASSWORD, ensure_user
from tests.app.test_pages import END, START, demo_expected, shows
from tests.factories import count_by_hand, totals_by_hand

ADMIN_ONLY = {"users"}
REVIEWER = {
    "progress",
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
}
TOWN = {"progress", "overview", "units", "interviews", "feedback", "upload", "imports", "export"}


def test_a_new_database_asks_for_the_first_admin(app_for, settings):
    at = app_for(settings, role=None).run()
    assert any("还没有任何账号" in i.value for i in at.info)
    at.text_input[1].input("first-admin-pass")
    at.text_input[2].input("first-admin-pass")
    at.button[0].click().run()
    assert [t.label for t in at.text_input][:2] == ["用户名", "密码"]
    assert any("管理员 admin 已创建" in i.value for i in at.info)


def test_sign_in_with_a_password_and_out_again(app_for, settings):
    ensure_user(settings, "reviewer1", "reviewer")
    at = app_for(settings, role=None).run()
    at.text_input[0].input("reviewer1")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert any("用户名或密码不正确" in e.value for e in at.error)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["actor"].name == "reviewer1"
    [logout] = [b for b in at.sidebar.button if b.label == "退出登录"]
    logout.click().run()
    assert "actor" not in at.session_state


def test_the_admin_password_from_the_environment_creates_the_first_admin(app_for, settings, monkeypatch):
    at = app_for(settings, role=None)
    monkeypatch.setenv("MONITOR_ADMIN_PASSWORD", "from-env-secret")
    at.run()
    at.text_input[0].input("admin")
    at.text_input[1].input("from-env-secret")
    at.button[0].click().run()
    assert at.session_state["actor"].role == "admin"


@pytest.mark.parametrize(("role", "town", "allowed"), [("reviewer", "", REVIEWER), ("town", "泥江口镇", TOWN)])
@pytest.mark.parametrize("page", sorted(REVIEWER | ADMIN_ONLY))
def test_each_role_reaches_only_its_pages(app_for, demo_settings, role, town, allowed, page):
    at = app_for(demo_settings, role=role, town=town).run()
    if page not in allowed:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}.py")
        return
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    assert not any("无权" in e.value for e in at.error)


def test_town_staff_see_only_their_own_township(app_for, demo_settings):
    at = app_for(demo_settings, role="town", town="泥江口镇")
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-06"
    at.session_state["f_town"] = "兰溪镇"
    at.run()
    assert not at.exception
    assert [s for s in at.sidebar.selectbox if s.label == "乡镇（街道）"][0].options == ["泥江口镇"]
    at.switch_page("app_pages/units.py").run()
    assert set(at.dataframe[0].value["所属乡镇"]) == {"泥江口镇"}
    at.switch_page("app_pages/imports.py").run()
    files = set(at.dataframe[0].value["文件名"])
    assert files and all(name.startswith("泥江口镇") for name in files)


def test_town_staff_figures_interviews_and_ledger_hold_their_township_only(app_for, demo_settings):
    """Asked for the whole district, a clerk still gets only their own township."""
    me = ensure_user(demo_settings, "t_town_泥江口镇", "town", "泥江口镇")
    with Session(get_engine(demo_settings.database_url)) as s:
        year = [f"2025-{m:02d}" for m in range(1, 13)]
        own = totals_by_hand(count_by_hand(s, year, town="泥江口镇"))
        district = totals_by_hand(count_by_hand(s, year))
        sheets = pd.read_excel(
            io.BytesIO(
                ledger_xlsx(
                    session=s,
                    query=Query(actor=me, settings=demo_settings, start="2025-01", end="2025-12"),
                )
            ),
            sheet_name=None,
        )
    assert own["held"] < district["held"]

    at = app_for(demo_settings, role="town", town="泥江口镇")
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-12"
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["本月进度"]  # town staff open on this month's progress
    at.switch_page("app_pages/overview.py").run()
    assert {m.label: m.value for m in at.metric}["开展活动（场次）"] == f"{own['held']:,}"
    at.switch_page("app_pages/interviews.py").run()
    assert not at.exception
    shown = at.dataframe[0].value if at.dataframe else pd.DataFrame({"所属乡镇": []})
    assert set(shown["所属乡镇"]) <= {"泥江口镇"}

    towns = {name: set(frame["所属乡镇"].dropna()) for name, frame in sheets.items() if "所属乡镇" in frame}
    assert {"单位月度", "明细"} <= set(towns)
    assert all(found <= {"泥江口镇"} for found in towns.values()), towns
    assert towns["明细"] == {"泥江口镇"}


OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "monitor"}


def test_with_an_identity_provider_the_sign_in_is_the_providers(app_for, settings):
    at = app_for(settings, role=None)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["使用统一身份认证登录"]
    assert not at.text_input  # no password form beside it


def test_a_provider_identity_takes_role_and_township_from_the_users_table(app_for, settings):
    ensure_user(settings, "clerk@njk.example.gov.cn", "town", "泥江口镇")
    at = app_for(settings, role=None)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "clerk@njk.example.gov.cn", "name": "泥江口镇经办人"}
    at.run()
    assert not at.exception
    assert [s for s in at.sidebar.selectbox if s.label == "乡镇（街道）"][0].options == ["泥江口镇"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/audit.py")


def test_a_provider_identity_without_an_account_is_turned_away(app_for, settings):
    ensure_user(settings, "someone-else", "reviewer")
    at = app_for(settings, role=None)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    at.run()
    assert not at.exception
    assert any("尚未在本系统开通" in e.value for e in at.error)
    assert [b.label for b in at.button] == ["退出登录"]
    assert not at.metric and not at.sidebar.selectbox  # no page, no filters


def test_a_provider_sign_in_opens_the_pages_with_their_content(app_for, demo_settings):
    """The pages find the signed-in person where they look for it: the figures show, not only the title."""
    ensure_user(demo_settings, "reviewer@example.gov.cn", "reviewer")
    at = app_for(demo_settings, role=None)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "reviewer@example.gov.cn", "name": "区委宣传部审核员"}
    at.session_state["f_start"], at.session_state["f_end"] = START, END
    at.run()
    e = demo_expected(demo_settings)
    shows(at, "overview", e)
    assert at.session_state["actor"].name == "reviewer@example.gov.cn"
    assert at.session_state["actor"].role == "reviewer"
    at.switch_page("app_pages/units.py").run()
    shows(at, "units", e)


def test_a_provider_identity_whose_account_is_disabled_is_turned_away_on_the_next_run(app_for, settings):
    ensure_user(settings, "clerk@njk.example.gov.cn", "reviewer")
    at = app_for(settings, role=None)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "clerk@njk.example.gov.cn"}
    at.run()
    assert at.session_state["actor"].name == "clerk@njk.example.gov.cn"
    with Session(get_engine(settings.database_url)) as s:
        user = s.exec(select(User).where(User.name == "clerk@njk.example.gov.cn")).one()
        user.disabled = True
        s.add(user)
        s.commit()
    at.run()
    assert not at.exception
    assert any("尚未在本系统开通或已停用" in e.value for e in at.error)
    assert "actor" not in at.session_state
    assert not at.metric and not at.sidebar.selectbox


def test_a_provider_sign_out_forgets_the_account(app_for, settings):
    ensure_user(settings, "clerk@njk.example.gov.cn", "reviewer")
    at = app_for(settings, role=None)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "clerk@njk.example.gov.cn"}
    at.run()
    assert "actor" in at.session_state
    at.user = {"is_logged_in": False}
    at.run()
    assert "actor" not in at.session_state
    assert [b.label for b in at.button] == ["使用统一身份认证登录"]
