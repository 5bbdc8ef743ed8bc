"""Ledger files with their photos, in the browser: the 泥江口镇 clerk uploads a Word 活动记录 (one form
table an activity, a photo in each) and an Excel 台账 with two photos pasted over each row on 数据上传;
识别结果 counts the photos, the import attaches them, and a reviewer sees them on 活动认定.

The activities fall in the last finished month, which the demo district (2024–2025) leaves empty and
no lock covers; the screenshots are the Word preview, the Excel preview and the reviewer's card.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.shared import Cm
from openpyxl import Workbook
from openpyxl.drawing.image import Image as SheetImage
from PIL import Image, ImageDraw

from tests.e2e.conftest import CHROMIUM, open_page, save_screenshot, settle, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]
TOWN = "泥江口镇"
STATION = "油草塘村新时代文明实践站"  # NJK-YCT of the demo roster


def _last_finished_month() -> date:
    """The first day of the month before the dashboard's today (Asia/Shanghai, as the server counts)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


MONTH = _last_finished_month()
PERIOD = f"/?start={MONTH:%Y-%m}&end={MONTH:%Y-%m}&town={quote(TOWN)}"
M = MONTH.month
WORD_ACTIVITIES = [  # (title, day, time of day) in the Word 活动记录
    (f"{M}月移风易俗宣讲进院落", 3, "上午"),
    (f"{M}月敬老爱老志愿服务", 18, "下午"),
]
SHEET_ACTIVITIES = [  # (unit, day, title, participants) in the Excel 台账, two photos over each row
    ("梅港村新时代文明实践站", 6, f"{M}月垃圾分类入户宣传", 42),
    ("杨坡村新时代文明实践站", 12, f"{M}月农技夜校培训", 35),
    ("桐洲村新时代文明实践站", 21, f"{M}月邻里议事会", 28),
]
REVIEWED = SHEET_ACTIVITIES[1]


def _photo(n: int) -> bytes:
    """A 320×240 JPEG, its colours and shapes its own, so no two photos of the test are alike."""
    image = Image.new("RGB", (320, 240), ((37 * n) % 200 + 40, (91 * n) % 180 + 60, (53 * n) % 160 + 80))
    draw = ImageDraw.Draw(image)
    x, y = (47 * n) % 170, (29 * n) % 100
    draw.rectangle((x, y, x + 60 + (13 * n) % 90, y + 50 + (17 * n) % 80), fill=(250, (40 * n) % 200, 30))
    draw.ellipse((300 - x, 230 - y - 70, 300 - x + 70, 230 - y), fill=(20, 40 + 15 * n, 230 - 12 * n))
    for k in range(n):  # as many stripes as the photo's number
        draw.line((0, 8 + 9 * k, 320, 8 + 9 * k + 40), fill=(255, 255, 255), width=3)
    draw.text((16, 210), f"photo {n}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _word_record() -> bytes:
    """A station's 活动记录: its name in the heading, then one form table an activity with its photo."""
    document = Document()
    document.add_paragraph(f"{TOWN}{STATION.removesuffix('新时代文明实践站')}新时代文明实践站活动记录")
    for n, (title, day, when) in enumerate(WORD_ACTIVITIES, start=1):
        table = document.add_table(rows=4, cols=2)
        table.style = "Table Grid"
        rows = [
            ("活动名称", title),
            ("活动时间", f"{MONTH.year}年{M}月{day}日{when}"),
            ("参与人数", "约30人"),
            ("活动照片", ""),
        ]
        for r, (label, value) in enumerate(rows):
            table.cell(r, 0).text = label
            table.cell(r, 1).text = value
        table.cell(3, 1).paragraphs[0].add_run().add_picture(io.BytesIO(_photo(n)), width=Cm(6))
        document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _sheet_ledger() -> bytes:
    """A township's monthly 台账: title row, header row, an activity a row with two photos pasted over it."""
    book = Workbook()
    sheet = book.active
    sheet.title = "活动台账"
    sheet.append([f"{TOWN}{MONTH.year}年{M}月新时代文明实践活动台账"])
    sheet.append(["序号", "单位名称", "活动日期", "活动名称", "参与人数"])
    for n, (unit, day, title, people) in enumerate(SHEET_ACTIVITIES, start=1):
        sheet.append([n, unit, MONTH.replace(day=day), title, people])
        row = sheet.max_row
        sheet.cell(row, 3).number_format = "yyyy-mm-dd"
        sheet.row_dimensions[row].height = 100
        for column, k in (("F", 2 * n + 1), ("G", 2 * n + 2)):
            picture = SheetImage(io.BytesIO(_photo(k)))
            picture.width, picture.height = 160, 120
            sheet.add_image(picture, f"{column}{row}")
    for column, width in (("B", 26), ("C", 12), ("D", 24), ("F", 24), ("G", 24)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _metric(page, label: str) -> str:  # type: ignore[no-untyped-def]
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def _upload(page, path: Path) -> object:  # type: ignore[no-untyped-def]
    """Give the ledger uploader a file; the preview's 识别结果 box once it is shown."""
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="上传活动台账")
    uploader.locator("input[type='file']").set_input_files(str(path))
    page.get_by_role("heading", name="导入预览").wait_for(timeout=60_000)
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    reading = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="识别结果").first
    reading.wait_for(timeout=20_000)
    return page.locator("[data-testid='stVerticalBlock']", has=reading).last


def _confirm(page, rows: int) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="确认导入").click()
    done = page.get_by_text(re.compile(r"^导入完成：")).first
    done.wait_for(timeout=60_000)
    settle(page)
    assert done.inner_text().strip() == f"导入完成：读取 {rows} 行，新增 {rows} 场，重复 0 行，未导入 0 行。"


def test_photos_in_a_word_record_and_an_excel_ledger_reach_the_reviewer(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    town = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = sign_in(town, f"{server}{PERIOD}", "njk", "demo-njk-2025")
    open_page(page, "数据上传")
    page.get_by_role("tab", name="活动台账").click()
    settle(page)

    record = tmp_path / f"{STATION}活动记录.docx"
    record.write_bytes(_word_record())
    box = _upload(page, record)
    assert "文件内照片 2 张，已对应 2 项活动" in box.inner_text()
    assert (_metric(page, "读取行数"), _metric(page, "将新增"), _metric(page, "有问题")) == ("2", "2", "0")
    save_screenshot(page, "upload-word-record.png")
    _confirm(page, 2)

    ledger = tmp_path / f"{TOWN}{MONTH.year}年{M}月活动台账.xlsx"
    ledger.write_bytes(_sheet_ledger())
    box = _upload(page, ledger)
    read = box.inner_text()
    assert "文件内照片 6 张，已对应 3 项活动" in read
    assert f"{MONTH.year}年{M}月" in read and TOWN in read  # the title row gives the month and the township
    assert (_metric(page, "读取行数"), _metric(page, "将新增"), _metric(page, "有问题")) == ("3", "3", "0")
    save_screenshot(page, "upload-xlsx-photos.png")
    _confirm(page, 3)
    town.close()

    reviewer = browser.new_context(viewport={"width": 1400, "height": 1900}, locale="zh-CN")
    page = sign_in(reviewer, f"{server}{PERIOD}", "reviewer", "demo-reviewer-2025")
    open_page(page, "活动认定")
    page.get_by_role("heading", name="活动认定").wait_for(timeout=20_000)
    summary = page.get_by_text(re.compile(rf"^{MONTH:%Y-%m} · {TOWN}：")).first.inner_text()
    assert "4 个单位共 5 项活动" in summary and "无照片 0 项" in summary  # 油草塘村 and the sheet's three
    unit, day, title, _ = REVIEWED

    units = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(
        has=page.locator("label", has_text=re.compile("^单位$"))
    )
    units.click()
    page.get_by_role("option", name=re.compile(unit)).click()
    settle(page)
    tile = page.locator("[data-testid='stVerticalBlock']", has=page.get_by_text(title, exact=False)).filter(
        has=page.get_by_role("button", name=re.compile("打开|当前"))
    )
    opener = tile.last.get_by_role("button", name=re.compile("打开|当前"))
    if opener.is_enabled():
        opener.click()
        settle(page)

    heading = page.locator("h4").filter(has_text=f"{MONTH.replace(day=day):%Y-%m-%d} {title}")
    heading.wait_for(timeout=20_000)
    card = page.locator("[data-testid='stVerticalBlock']", has=heading).last
    card.locator("[data-testid='stImage'] img").nth(1).wait_for(timeout=20_000)
    assert card.locator("[data-testid='stImage'] img").count() == 2
    assert card.get_by_role("button", name="查看原图").count() == 2
    assert page.get_by_text(re.compile(r"^第 \d+ / 1 项 · 待认定 · 照片 2 张$")).count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring on the unit box
    settle(page)
    save_screenshot(page, "review-pasted-photos.png")
    reviewer.close()
