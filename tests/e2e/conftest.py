"""The dashboard on a real server and Debian's Chromium, shared by the browser tests.

Each module gets a server of its own (`streamlit run app.py` headless on a free port) against a
demo database; `server_env` is that server's environment, for commands run beside it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MONITOR_DATABASE_URL": f"sqlite:///{home / 'monitor.db'}", "MONITOR_DATA_DIR": str(home)}


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo district (database and photos), loaded once per test process by the command line."""
    home = tmp_path_factory.mktemp("e2e_demo")
    subprocess.run([sys.executable, "-m", "monitor", "demo"], cwd=ROOT, env=_env(home), check=True, capture_output=True)
    return home


@pytest.fixture(scope="module")
def server_env(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A copy of the demo district of the module's own: what one module's server writes, the next never sees."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    shutil.copytree(demo_home, home)
    return _env(home)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(env: dict[str, str]) -> Iterator[str]:
    """`streamlit run app.py` on a free port with the given environment, answering at the URL yielded."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[str]:
    with serve(server_env) as url:
        yield url


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def page(browser) -> object:  # type: ignore[no-untyped-def]
    return browser.new_page(viewport={"width": 1400, "height": 2000}, locale="zh-CN")


def settle(page, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_timeout(800)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def open_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a sidebar link: a click keeps the signed-in session, a new URL would start another."""
    page.locator("[data-testid='stSidebarNav']").get_by_text(name, exact=True).click()
    settle(page)


SCREENSHOTS = ROOT / "docs" / "screenshots"


def sign_in(context, url: str, name: str, password: str):  # type: ignore[no-untyped-def]
    """A new page of the context, signed in at url as name."""
    page = context.new_page()
    page.goto(url)
    settle(page)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    settle(page)
    page.get_by_role("button", name="退出登录").wait_for(timeout=20_000)
    return page


def save_screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The whole page, kept with the test's artifacts and as the README's screenshot."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / name, SCREENSHOTS / name)
