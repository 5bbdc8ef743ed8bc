"""活动登记 on a phone, in the browser: the 泥江口镇 clerk (390 px wide) registers an activity with two
photos, sees 本月进度's 还差 go down by one, corrects the title in 我的登记, and the reviewer then sees
the activity with both photos on 活动认定. The screenshots go to the user guide.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from tests.e2e.conftest import CHROMIUM, save_screenshot, settle, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]

TOWN = "泥江口镇"
UNIT = "油草塘村新时代文明实践站"  # NJK-YCT of the demo roster
TITLE = "垃圾分类入户宣传"
CORRECTED = "垃圾分类入户宣传第二组"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the server's today
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _photo(n: int, path: Path) -> Path:
    """A 640×480 JPEG of its own colours, taken today by its EXIF time."""
    image = Image.new("RGB", (640, 480), (40 + 70 * n, 120, 200 - 60 * n))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60 * n, 80, 60 * n + 300, 380), fill=(240, 200 - 50 * n, 40))
    draw.ellipse((380, 40 + 40 * n, 600, 260 + 40 * n), fill=(30, 60 * n, 220))
    exif = Image.Exif()
    exif[0x8769] = {0x9003: f"{TODAY:%Y:%m:%d} 10:{10 * n:02d}:00"}  # DateTimeOriginal
    image.save(path, "JPEG", quality=85, exif=exif.tobytes())
    return path


def _owed(page) -> int:  # type: ignore[no-untyped-def]
    """本月还差 N 场 of 本月进度's summary line."""
    line = page.get_by_text(re.compile(r"本月还差 \d+ 场")).first
    line.wait_for(timeout=20_000)
    return int(re.search(r"本月还差 (\d+) 场", line.inner_text()).group(1))  # type: ignore[union-attr]


def _fill(page, label: str, value: str, nth: int = 0) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_label(label, exact=True).nth(nth)
    box.fill(value)
    box.press("Enter" if label != "备注" else "Tab")
    settle(page)


def _pick(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(
        has=page.locator("label", has_text=re.compile(f"^{label}$"))
    ).first.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    settle(page)


def _goto(page, server: str, path: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/{path}")
    settle(page)
    page.get_by_role("heading", name=heading).wait_for(timeout=20_000)
    settle(page)


def test_a_clerk_registers_from_the_phone_and_the_reviewer_sees_it(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clerk = browser.new_context(**PHONE, locale="zh-CN")
    page = sign_in(clerk, server, "njk", "demo-njk-2025")
    page.get_by_role("heading", name="本月进度").wait_for(timeout=20_000)
    before = _owed(page)

    page.get_by_role("link", name="登记活动").click()
    settle(page)
    page.get_by_role("heading", name="活动登记").wait_for(timeout=20_000)
    _pick(page, "单位", UNIT)
    _fill(page, "活动名称", TITLE)
    _pick(page, "活动类型", "移风易俗")
    _fill(page, "参与人数", "42")
    _fill(page, "活动地点", "村部广场")
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="活动照片")
    uploader.locator("input[type='file']").set_input_files([str(_photo(n, tmp_path / f"IMG_{n}.jpg")) for n in (1, 2)])
    main = page.locator("[data-testid='stMain']")
    main.locator("[data-testid='stImage'] img").nth(1).wait_for(timeout=30_000)
    settle(page)
    assert main.locator("[data-testid='stImage'] img").count() == 2
    assert page.locator("[data-testid='stException']").count() == 0
    save_screenshot(page, "register-phone.png")  # the fields
    page.get_by_role("button", name="保存").scroll_into_view_if_needed()
    save_screenshot(page, "register-photos.png")  # the thumbnails before saving

    page.get_by_role("button", name="保存").click()
    saved = page.locator("[data-testid='stExpander']").filter(has_text=TITLE).first
    refused = page.locator("[data-testid='stAlert']").filter(has_text="未能保存")
    saved.or_(refused).first.wait_for(timeout=30_000)
    settle(page)
    assert refused.count() == 0, refused.first.inner_text()
    assert "待认定" in saved.inner_text()
    assert page.get_by_label("活动名称", exact=True).first.input_value() == ""  # the next activity starts afresh

    _goto(page, server, "progress", "本月进度")
    assert _owed(page) == before - 1

    _goto(page, server, "register", "活动登记")
    mine = page.locator("[data-testid='stExpander']").filter(has_text=TITLE).first
    mine.locator("summary").click()
    settle(page)
    mine.locator("[data-testid='stImage'] img").nth(1).wait_for(timeout=20_000)
    title = mine.get_by_label("活动名称", exact=True)
    title.fill(CORRECTED)
    title.press("Enter")
    settle(page)
    mine.get_by_role("button", name="保存修改").click()
    corrected = page.locator("[data-testid='stExpander']").filter(has_text=CORRECTED).first
    corrected.or_(refused).first.wait_for(timeout=30_000)
    settle(page)
    assert refused.count() == 0, refused.first.inner_text()
    page.locator("[data-testid='stExpander']").filter(has_text=CORRECTED).first.locator("summary").click()
    settle(page)
    page.get_by_role("heading", name="我的登记").scroll_into_view_if_needed()
    save_screenshot(page, "register-mine.png")
    clerk.close()

    month = f"{TODAY:%Y-%m}"
    reviewer = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = sign_in(reviewer, f"{server}/?town={quote(TOWN)}", "reviewer", "demo-reviewer-2025")
    _goto(page, server, f"review?town={quote(TOWN)}", "活动认定")
    _pick(page, "月份", f"{month}（本月，进行中）")
    _pick(page, "单位", UNIT.removesuffix("新时代文明实践站"))
    heading = page.locator("h4").filter(has_text=f"{TODAY:%Y-%m-%d} {CORRECTED}")
    heading.wait_for(timeout=20_000)
    card = page.locator("[data-testid='stVerticalBlock']", has=heading).last
    card.locator("[data-testid='stImage'] img").nth(1).wait_for(timeout=20_000)
    assert card.locator("[data-testid='stImage'] img").count() == 2
    assert page.locator("[data-testid='stException']").count() == 0
    save_screenshot(page, "register-review.png")
    reviewer.close()
