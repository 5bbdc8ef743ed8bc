"""认定 in the browser: a reviewer decides on 活动认定 with the keyboard, the township finds the 不予认定 on
活动反馈 and adds two photos from a zip on 数据上传; screenshots of the gallery and of 疑点核查.

The demo district's December 2025 carries photos and planted problems; its accounts `reviewer` and
`njk` (泥江口镇) are the people here.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.e2e.conftest import CHROMIUM, open_page, save_screenshot, settle, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]
REASON = "照片不是本次活动现场（浏览器测试）"
PERIOD = "/?start=2025-12&end=2025-12&town=%E6%B3%A5%E6%B1%9F%E5%8F%A3%E9%95%87"  # 泥江口镇


def _count(page, words: str) -> int:  # type: ignore[no-untyped-def]
    """A count the review page's summary line gives, e.g. 不予认定 3 项."""
    line = page.get_by_text(re.compile(r"^2025-12 · 泥江口镇：")).first.inner_text()
    return int(re.search(rf"{words} (\d+) 项", line).group(1))  # type: ignore[union-attr]


def _card_head(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("[data-testid='stMarkdownContainer']", has=page.locator("h4")).first.inner_text()


def _markdown(page, text: str):  # type: ignore[no-untyped-def]
    """Text on the page itself (a table's cells are also in a hidden grid that is never visible)."""
    return page.locator("[data-testid='stMarkdownContainer']").filter(has_text=text).first


def _position(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_text(re.compile(r"^第 \d+ / \d+ 项")).first.inner_text()


def _zip_of_two(unit: str, day: str, title: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in (1, 2):
            image = Image.new("RGB", (320, 240), (40 + 90 * n, 120, 200 - 60 * n))
            ImageDraw.Draw(image).rectangle((20 * n, 30, 200, 160 + 20 * n), fill=(250, 230 - 50 * n, 40))
            picture = io.BytesIO()
            image.save(picture, "JPEG", quality=85)
            archive.writestr(f"{unit}/{day} {title}/{n}.jpg", picture.getvalue())
    return out.getvalue()


def test_a_review_reaches_the_township_which_answers_with_a_zip_of_photos(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reviewer = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = sign_in(reviewer, f"{server}{PERIOD}", "reviewer", "demo-reviewer-2025")
    open_page(page, "活动认定")
    page.get_by_role("heading", name="活动认定").wait_for(timeout=20_000)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0
    settle(page)
    save_screenshot(page, "review.png")

    rejected, recognised = _count(page, "不予认定"), _count(page, "已认定")
    head = _card_head(page)
    day, title = re.match(r"(2025-12-\d\d) (.+)", head.splitlines()[0]).groups()  # type: ignore[union-attr]
    unit = re.search(r"· (\S+?)（", head).group(1)  # type: ignore[union-attr]

    reason = page.get_by_label("理由（不予认定必填）")
    reason.fill(REASON)
    reason.press("Enter")  # the reason box submits 不予认定
    page.get_by_text(re.compile(rf"不予认定 {rejected + 1} 项")).first.wait_for(timeout=20_000)
    settle(page)
    assert _card_head(page) != head, "the next activity waiting comes up"

    page.get_by_role("heading", name="活动认定").click()  # the keys act when no text box has the focus
    for _ in range(12):  # → until an activity still 待认定 is up (after a unit's last, → opens the next unit)
        before = _position(page)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(before) => ![...document.querySelectorAll('p')].some(p => p.innerText === before)", arg=before
        )
        settle(page)
        if "待认定" in _position(page):
            break
    assert "待认定" in _position(page)
    page.keyboard.press("y")
    page.get_by_text(re.compile(rf"已认定 {recognised + 1} 项")).first.wait_for(timeout=20_000)
    reviewer.close()

    town = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = sign_in(town, f"{server}{PERIOD}", "njk", "demo-njk-2025")
    open_page(page, "活动反馈")
    _markdown(page, REASON).wait_for(timeout=20_000)
    assert f"{day} {title}" in _card_head(page)
    shown = page.get_by_role("button", name="查看原图").count()

    open_page(page, "数据上传")
    page.get_by_role("tab", name="活动照片").click()
    settle(page)
    archive = tmp_path / "补充照片.zip"
    archive.write_bytes(_zip_of_two(unit, day, title))
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="上传活动照片")
    uploader.locator("input[type='file']").set_input_files(str(archive))
    page.get_by_text("照片预览").wait_for(timeout=30_000)
    settle(page)
    page.get_by_role("button", name="确认上传照片").click()
    page.get_by_text("照片已保存：新增 2 张").wait_for(timeout=30_000)

    open_page(page, "活动反馈")
    _markdown(page, REASON).wait_for(timeout=20_000)
    assert f"{day} {title}" in _card_head(page)
    page.get_by_role("button", name="查看原图").nth(shown + 1).wait_for(timeout=20_000)
    assert page.get_by_role("button", name="查看原图").count() == shown + 2
    page.get_by_role("button", name="查看原图").first.click()  # the full picture, from the stored original
    page.get_by_role("dialog").locator("img").wait_for(timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0
    town.close()


def test_signals_screenshot(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/?start=2025-12&end=2025-12")
    settle(page)
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill("demo-reviewer-2025")
    page.get_by_role("button", name="登录").click()
    settle(page)
    open_page(page, "疑点核查")
    page.get_by_text(re.compile(r"疑点 \d+ 条")).first.wait_for(timeout=30_000)
    assert (
        int(re.search(r"疑点 (\d+) 条", page.get_by_text(re.compile(r"疑点 \d+ 条")).first.inner_text()).group(1)) > 0
    )  # type: ignore[union-attr]
    page.get_by_role("button", name="下载疑点清单（Excel）").wait_for(timeout=20_000)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0
    settle(page)
    save_screenshot(page, "signals.png")
    context.close()
