"""A clerk's day in the browser: the password sign-in survives a reload and a link opened in a new
tab, signing out ends it, disabling the account ends it elsewhere; 本月进度 at phone size."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import ARTIFACTS, CHROMIUM, ROOT, settle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]


def _sign_in(page, server: str, name: str, password: str, path: str = "/") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}{path}")
    settle(page)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    settle(page)


def _cookie_set(page) -> None:  # type: ignore[no-untyped-def]
    """The browser holds the sign-in cookie (the page writes it just after drawing): a reload may follow."""
    for _ in range(100):
        if any(c["name"] == "monitor_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the sign-in cookie was never written")


def _signed_in(page) -> bool:  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name="退出登录").count() > 0 and page.get_by_label("密码").count() == 0


def _settles_signed_in(page, name: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the page ends up signed in once its runs are over (a loaded machine may still be
    clearing one run's elements when the next draws); the screen is kept when it does not."""
    for _ in range(25):
        settle(page)
        if _signed_in(page):
            return True
        page.wait_for_timeout(200)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"not-signed-in-{name}.png"), full_page=True)
    return False


def test_a_sign_in_survives_a_reload_and_a_link_in_a_new_tab_and_ends_on_sign_out(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, server, "reviewer", "demo-reviewer-2025")
    page.get_by_role("button", name="退出登录").wait_for(timeout=20_000)
    assert _signed_in(page)
    _cookie_set(page)

    page.reload()
    settle(page)
    page.get_by_role("button", name="退出登录").wait_for(timeout=20_000)
    assert _settles_signed_in(page, "reload"), "a reload must keep the sign-in"

    tab = context.new_page()
    tab.goto(f"{server}/?start=2025-01&end=2025-06")
    settle(tab)
    tab.get_by_text("统计期间：2025-01 至 2025-06").first.wait_for(timeout=20_000)
    assert _settles_signed_in(tab, "new-tab"), "a link opened in a new tab must find the session"
    assert "start=2025-01" in tab.url and "end=2025-06" in tab.url  # the address still says what is shown

    deep = context.new_page()  # any page, by its own address, with the filters in the query string
    deep.goto(f"{server}/units?start=2025-03&end=2025-04&town=%E6%B3%A5%E6%B1%9F%E5%8F%A3%E9%95%87&type=station")
    settle(deep)
    deep.get_by_role("heading", name="单位明细").wait_for(timeout=20_000)
    boxes = deep.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")

    def chosen(label: str) -> str:
        box = boxes.filter(has_text=label).first
        field = box.locator("input")
        return field.input_value() if field.count() and field.input_value() else box.inner_text()

    def shows(label: str, value: str) -> bool:
        """Whether the sidebar box shows `value`, given the page a few seconds to apply the link's filters."""
        for _ in range(50):
            if value in chosen(label):
                return True
            deep.wait_for_timeout(200)
        return False

    assert shows("乡镇（街道）", "泥江口镇") and shows("起始月份", "2025-03") and shows("单位类型", "站")
    assert deep.locator("[data-testid='stException']").count() == 0
    deep.close()

    tab.get_by_role("button", name="退出登录").click()
    settle(tab)
    tab.get_by_label("密码").wait_for(timeout=20_000)
    tab.reload()
    settle(tab)
    tab.get_by_label("密码").wait_for(timeout=20_000)
    assert tab.get_by_label("密码").count() == 1, "after signing out a reload shows the sign-in form"
    page.reload()  # the other tab shared the session: it ended too
    settle(page)
    page.get_by_label("密码").wait_for(timeout=20_000)
    assert page.get_by_label("密码").count() == 1
    context.close()


def test_disabling_an_account_elsewhere_signs_it_out_on_the_next_reload(server: str, server_env, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, server, "lx", "demo-lx-2025")
    page.get_by_role("button", name="退出登录").wait_for(timeout=20_000)
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "users", "disable", "lx"], cwd=ROOT, env=server_env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    page.reload()
    settle(page)
    page.get_by_label("密码").wait_for(timeout=20_000)
    assert not _signed_in(page)
    context.close()


def test_a_clerk_on_a_phone_opens_on_this_months_progress(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    _sign_in(page, server, "njk", "demo-njk-2025")
    page.get_by_role("heading", name="本月进度").wait_for(timeout=20_000)
    settle(page)
    assert page.get_by_text("距上报截止还有").first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "progress-phone.png"), full_page=True)
    page.reload()
    settle(page)
    page.get_by_role("heading", name="本月进度").wait_for(timeout=20_000)
    context.close()
