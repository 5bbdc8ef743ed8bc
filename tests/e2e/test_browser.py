"""A real browser on a real server: the overview's 110.81 %, an upload confirmed, a screenshot of each page.

Runs `streamlit run app.py` headless on a free port against a demo database and drives Debian's
Chromium with Playwright. Skipped only where no Chromium is installed; CI installs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM, open_page, save_screenshot, settle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]
PAGES = {
    "units": "单位明细",
    "interviews": "约谈名单",
    "roster": "名册与任务",
    "imports": "导入记录",
    "export": "导出台账",
    "months": "月份锁定",
    "audit": "操作记录",
    "users": "用户管理",
}
UPLOAD = (
    "单位编码,单位名称,活动日期,活动名称,活动类型,参与人数\n"
    "NJK-YCT,,2026-10-08,10月浏览器上传测试宣讲,理论宣讲,40\n"
    ",油草塘村,2026-10-20,10月浏览器上传测试义诊,卫生健康,35\n"
    ",不存在村,2026-10-21,10月无效单位活动,其他,10\n"
)


def test_sign_in_then_the_overview_shows_the_reported_rate(server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/?start=2025-01&end=2025-06")
    settle(page)
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("demo-admin-2025")
    save_screenshot(page, "login.png")
    page.get_by_role("button", name="登录").click()
    settle(page)
    page.get_by_text("110.81%").first.wait_for(timeout=20_000)
    assert page.get_by_text("3,617").first.is_visible()
    page.locator(".js-plotly-plot .main-svg").nth(2).wait_for(timeout=20_000)
    save_screenshot(page, "overview.png")


def test_upload_then_confirm(server: str, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "十月活动台账.csv"
    source.write_text(UPLOAD, encoding="utf-8")
    open_page(page, "数据上传")
    page.set_input_files("input[type='file']", str(source))
    page.get_by_text("导入预览").wait_for(timeout=30_000)
    settle(page)
    assert page.get_by_text("有 1 行存在问题").first.is_visible()
    save_screenshot(page, "upload-preview.png")
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("导入完成").wait_for(timeout=30_000)
    settle(page)
    assert page.get_by_text("新增 2 场").first.is_visible()
    save_screenshot(page, "upload-done.png")


def _township_ledger(path: Path) -> None:
    """A workbook as a township office keeps it: instructions first, a title, a two-row header,
    unit names merged down, dates without a year, a total and the sign-off."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "填表说明"
    book.active.append(["请按月填写本镇各村（社区）开展的新时代文明实践活动。"])
    sheet = book.create_sheet("10月")
    sheet.append(["泥江口镇2026年10月新时代文明实践活动台账"])
    sheet.append(["序号", "村（社区）", "活动\n时间", "活动主题", "参与人数", None, "地点"])
    sheet.append([None, None, None, None, "群众", "志愿者", None])
    for cells in ("A1:G1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2", "G2:G3"):
        sheet.merge_cells(cells)
    sheet.append([1, "梅港村", "10月9日", "理论宣讲进村组", 42, 6, "村部"])
    sheet.append([2, None, "10月16日", "重阳敬老志愿服务", 35, 12, "村部"])
    sheet.merge_cells("B4:B5")
    sheet.append([3, "杨坡村", "10月12日", "移风易俗倡议", 28, 4, "广场"])
    sheet.append(["合计", None, None, None, 105, 22, None])
    sheet.append(["填报人：张三　　审核人：李四　　填报日期：2026年11月2日"])
    book.save(path)


def test_a_township_ledger_is_read_as_a_person_would(server: str, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "泥江口镇10月台账.xlsx"
    _township_ledger(source)
    open_page(page, "数据上传")
    page.set_input_files("input[type='file']", str(source))
    page.get_by_text("识别结果").wait_for(timeout=30_000)
    settle(page)
    assert page.get_by_text("表头在第 2、3 行").first.is_visible()
    assert page.get_by_text("跳过工作表“填表说明”").first.is_visible()
    assert page.get_by_text("2026年10月（标题）").first.is_visible()
    page.get_by_text("列的对应").first.click()
    settle(page)
    save_screenshot(page, "upload-reading.png")
    metrics = page.locator("[data-testid='stMetric']").filter(has_text="将新增")
    assert metrics.first.inner_text().strip().endswith("3")


def test_the_bulletin_is_previewed_and_downloads_as_word(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    open_page(page, "通报")
    page.get_by_text("3617场次").first.wait_for(timeout=30_000)
    settle(page)
    save_screenshot(page, "bulletin.png")
    page.get_by_text("插入图表（生成约需数秒）").click()  # tables only: a quicker download
    settle(page)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="下载通报（Word）").click()
    saved = tmp_path / "通报.docx"
    download.value.save_as(saved)
    texts = [p.text for p in Document(str(saved)).paragraphs]
    assert texts[0] == "关于2025年1-6月全区新时代文明实践活动开展情况的通报"
    assert any("3617场次" in t and "110.81%" in t for t in texts)


def test_the_period_widens_to_the_whole_year(server: str, page) -> None:  # type: ignore[no-untyped-def]
    """The remaining screenshots show 2025 through December, when some units are due for interview."""
    open_page(page, "总览")
    field = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="截止月份")
    field.locator("input").click()
    page.keyboard.type("2025-12")
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_text("2025-01 至 2025-12").first.wait_for(timeout=20_000)


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(server: str, page, path: str) -> None:  # type: ignore[no-untyped-def]
    open_page(page, PAGES[path])
    assert page.locator("[data-testid='stException']").count() == 0
    save_screenshot(page, f"{path}.png")
