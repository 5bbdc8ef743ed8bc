"""User text is text, in Chromium (SPEC §6): the district of tests/user_text.py, whose people typed Markdown
images and links, HTML, icons, maths, colours, plain addresses and a right-to-left override into
every field, opened page by page as the department's reviewer and as the township's clerk.

The addresses typed point at a listener on this machine: no page may make the browser ask it for
anything. What was typed must be on the page as typed: no link, no image, no icon, no formula, no
colour, no reversed text. Screenshots: user-text-signals.png and user-text-bulletin.png.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.core.config import Settings
from monitor.store.db import get_engine, init_db
from tests.e2e.conftest import CHROMIUM, open_page, save_screenshot, settle, sign_in
from tests.user_text import END, PASSWORD, START, Typed, plant, texts

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]
PERIOD = f"/?start={START}&end={END}"
JOINER = "\u2060"  # the invisible word joiner that keeps typed text from being read as a pattern
CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# What would show that the typed text was read as markup: rendered formulas, a typed colour, a typed icon.
RENDERED = (
    ".katex",
    ".stMarkdownColoredText",
    "[data-testid='stMarkdownContainer'] [aria-label='warning icon']",
    "[data-testid='stCaptionContainer'] [aria-label='warning icon']",
    "[data-testid='stToast'] [aria-label='warning icon']",
)


class Listener:
    """Every request the browser makes to the addresses typed into the district."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                seen.append(f"{self.path} (Referer: {self.headers.get('Referer')})")
                self.send_response(404)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    heard = Listener()
    yield heard
    heard.server.shutdown()
    heard.server.server_close()


@pytest.fixture(scope="module")
def typed(listener: Listener) -> Typed:
    return texts(listener.url)


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory, typed: Typed) -> dict[str, str]:
    """The conftest's server runs on this district instead of the demo."""
    tmp: Path = tmp_path_factory.mktemp("typed")
    settings = Settings(database_url=f"sqlite:///{tmp / 'monitor.db'}", data_dir=tmp)
    init_db(get_engine(settings.database_url))
    plant(settings, typed)
    return {**os.environ, "MONITOR_DATABASE_URL": settings.database_url, "MONITOR_DATA_DIR": str(tmp)}


def _seen(text: str) -> str:
    return text.replace(JOINER, "")


def _nothing_live(page, typed: Typed, where: str) -> None:  # type: ignore[no-untyped-def]
    """No link or picture to the typed addresses, nothing typed rendered as markup, no directional control."""
    assert page.locator("[data-testid='stException']").count() == 0, where
    hrefs = "els => els.map(e => e.getAttribute('href') || e.getAttribute('xlink:href'))"
    links = page.eval_on_selector_all("a", hrefs)
    assert not [h for h in links if h and (typed.leak in h or h.endswith("/phish"))], (where, links)
    sources = page.eval_on_selector_all("img, image, iframe, video, audio, source", "els => els.map(e => e.src || '')")
    assert not [s for s in sources if typed.leak in s or "leak.png" in s], (where, sources)
    for selector in RENDERED:
        assert page.locator(selector).count() == 0, (where, selector)
    body = page.locator("body").inner_text()
    assert not set(body) & set(CONTROLS), where


# The sidebar's pages, as each role has them.
REVIEWER_PAGES = [
    "本月进度",
    "总览",
    "单位明细",
    "约谈名单",
    "活动认定",
    "疑点核查",
    "活动反馈",
    "数据上传",
    "名册与任务",
    "导入记录",
    "导出台账",
    "通报",
    "月份锁定",
    "操作记录",
]
CLERK_PAGES = ["本月进度", "总览", "单位明细", "约谈名单", "活动反馈", "数据上传", "导入记录", "导出台账"]


def _every_page(page, typed: Typed, who: str, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    for name in names:
        open_page(page, name)
        page.get_by_role("heading", name=name, exact=True).wait_for(timeout=20_000)
        _nothing_live(page, typed, f"{who} on {name}")


def _choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).click()
    page.get_by_role("option").filter(has_text=option).first.click()
    settle(page)


def _markdown(page) -> str:  # type: ignore[no-untyped-def]
    """The text of the page's Markdown, as seen."""
    return _seen("\n".join(page.locator("[data-testid='stMarkdownContainer']").all_inner_texts()))


# The clerk first: the reviewer's last step recognises the activity the clerk answered.
def test_the_clerk_sees_every_typed_text_as_typed_and_the_browser_fetches_nothing(
    server: str, browser, typed: Typed, listener: Listener
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = sign_in(context, f"{server}{PERIOD}", typed.clerk, PASSWORD)
    assert typed.clerk in _seen(page.locator("[data-testid='stSidebar']").inner_text())
    _every_page(page, typed, "the clerk", CLERK_PAGES)

    open_page(page, "活动反馈")
    thread = _seen(page.locator("[data-testid='stExpander']").filter(has_text="反馈记录").inner_text())
    assert f"理由：{typed.reason_shown}" in _markdown(page)
    assert typed.answer in thread and typed.clerk in thread
    assert f" {typed.leak}/plain" in thread and "\\" not in thread, "an address as typed, no backslash in it"
    page.get_by_role("button", name="查看原图").first.click()  # the picture's caption names its file
    caption = page.get_by_role("dialog").locator("[data-testid='stImageCaption']")
    caption.wait_for(timeout=20_000)
    assert _seen(caption.inner_text()).endswith(f" · {typed.file_name}")
    _nothing_live(page, typed, "活动反馈 with the picture open")
    context.close()
    assert listener.requests == []


def test_the_reviewer_sees_every_typed_text_as_typed_and_the_browser_fetches_nothing(
    server: str, browser, typed: Typed, listener: Listener
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    page = sign_in(context, f"{server}{PERIOD}", typed.reviewer, PASSWORD)
    assert typed.reviewer in _seen(page.locator("[data-testid='stSidebar']").inner_text())
    _every_page(page, typed, "the reviewer", REVIEWER_PAGES)

    open_page(page, "疑点核查")
    _choose(page, "打开活动", "2025-06-10")  # the June activity: its title used three months running
    warning = page.locator("[data-testid='stAlert']").filter(has_text="已连续")
    said = warning.locator("[data-testid='stMarkdownContainer']").inner_text()
    assert _seen(said).strip() == f"标题“{typed.title}”已连续 3 个月使用"
    card = page.locator("[data-testid='stMarkdownContainer']", has=page.locator("h4")).first
    assert [line for line in _seen(card.inner_text()).splitlines() if line] == [
        f"2025-06-10 {typed.title}",
        f"泥江口镇 · {typed.unit}（NJK-X） · {typed.category} · 12 人参加 · {typed.location}",
    ]
    assert f"理由：{typed.reason_shown}" in _markdown(page)
    _nothing_live(page, typed, "疑点核查 with the June activity open")
    settle(page)
    save_screenshot(page, "user-text-signals.png")

    open_page(page, "通报")
    preview = _markdown(page)
    assert f"泥江口镇{typed.unit}（连续3个月未完成，负责人：{typed.head}）" in preview
    assert f"{typed.town}兰溪镇新时代文明实践所（2025-04、2025-05、2025-06）" in preview
    _nothing_live(page, typed, "通报")
    save_screenshot(page, "user-text-bulletin.png")

    open_page(page, "总览")  # the townships' chart names them as typed, without the link typed into one
    chart = page.locator(".js-plotly-plot").nth(1)
    chart.wait_for(timeout=20_000)
    assert typed.town in (chart.text_content() or "")
    _nothing_live(page, typed, "总览's chart")

    open_page(page, "疑点核查")  # a decision's toast names the activity
    _choose(page, "打开活动", "2025-06-10")
    form = page.locator("[data-testid='stForm']")
    form.get_by_role("button").filter(has_text="认定").filter(has_not_text="不予").click()
    toast = page.locator("[data-testid='stToast']").first
    toast.or_(page.locator("[data-testid='stAlert']").filter(has_text="已被他人处理")).first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stToast']").count() == 1, _markdown(page)
    said = toast.locator("[data-testid='stMarkdownContainer']").first.inner_text()
    assert _seen(said).strip() == f"已认定：{typed.unit} 06-10 {typed.title}"
    _nothing_live(page, typed, "the decision's toast")
    context.close()
    assert listener.requests == []
