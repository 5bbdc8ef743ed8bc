"""The dashboard as two server processes on one PostgreSQL database and one photo folder, as behind a
proxy: a sign-in made on one process holds on the other and ends on both; a write through one is
seen by the other at its next rerun, and the counts stay right when both write at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import Engine, bindparam, create_engine, text

from tests.e2e.conftest import CHROMIUM, ROOT, chromium, open_page, save_screenshot, serve, settle, sign_in
from tests.e2e.test_register import TODAY, TOWN, UNIT, _fill, _goto, _owed, _pick

PG_URL = os.environ.get("MONITOR_TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
    pytest.mark.skipif(not PG_URL, reason="needs MONITOR_TEST_DATABASE_URL"),
]

DESK = {"viewport": {"width": 1400, "height": 1600}, "locale": "zh-CN"}
COOKIE = "monitor_session"


@dataclass
class Procs:
    a: str  # server A's URL
    b: str  # server B's URL
    env: dict[str, str]  # the environment both run with
    db: Engine  # the shared schema, for plain SQL


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Procs]:
    """A PostgreSQL schema of the module's own with the demo district, and two servers on it sharing
    one data folder (the photo store); the schema is dropped at the end."""
    schema = f"e2e_procs_{os.getpid()}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    home = tmp_path_factory.mktemp("e2e_procs")
    env = {**os.environ, "MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(home)}
    db = create_engine(url)
    try:
        done = subprocess.run([sys.executable, "-m", "monitor", "demo"], cwd=ROOT, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        with ExitStack() as stack:
            a, b = stack.enter_context(serve(env)), stack.enter_context(serve(env))
            yield Procs(a=a, b=b, env=env, db=db)
    finally:
        db.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def browser(procs: Procs) -> Iterator[object]:
    with chromium() as launched:
        yield launched


def _token(context) -> str:  # type: ignore[no-untyped-def]
    """The sign-in cookie's token, once the page has written it."""
    page = context.pages[0]
    for _ in range(100):
        found = [c["value"] for c in context.cookies() if c["name"] == COOKIE and c["value"]]
        if found:
            return found[0]
        page.wait_for_timeout(200)
    raise AssertionError("the sign-in cookie was never written")


def _session_row(db: Engine, token: str) -> tuple[str, object, str] | None:
    """(account, ended_at, ended_reason) of the sign-in session the token names."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    with db.connect() as connection:
        row = connection.execute(
            text(
                'SELECT u.name, s.ended_at, s.ended_reason FROM signinsession s JOIN "user" u ON u.id = s.user_id '
                "WHERE s.token_hash = :digest"
            ),
            {"digest": digest},
        ).first()
    return None if row is None else (row[0], row[1], row[2])


def _sessions_of(db: Engine, name: str) -> int:
    with db.connect() as connection:
        return int(
            connection.execute(
                text('SELECT count(*) FROM signinsession s JOIN "user" u ON u.id = s.user_id WHERE u.name = :name'),
                {"name": name},
            ).scalar_one()
        )


def _caption(page) -> str:  # type: ignore[no-untyped-def]
    """The sidebar's line naming the signed-in account."""
    line = page.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']").filter(has_text=" · ")
    line.last.wait_for(timeout=20_000)
    return line.last.inner_text()


def _asks_password(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("密码").wait_for(timeout=20_000)
    assert page.get_by_role("button", name="退出登录").count() == 0


def test_a_sign_in_holds_across_processes_and_ends_on_both(procs: Procs, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(**DESK)
    on_a = sign_in(context, procs.a, "njk", "demo-njk-2025")
    token = _token(context)
    opened = _sessions_of(procs.db, "njk")

    # The same browser (cookies are per host, not per port) reaches B, as a proxy's failover would.
    on_b = context.new_page()
    on_b.goto(procs.b)
    settle(on_b)
    on_b.get_by_role("button", name="退出登录").wait_for(timeout=20_000)
    assert on_b.get_by_label("密码").count() == 0, "B must honour the sign-in made on A"
    caption = _caption(on_b)
    assert "njk" in caption and TOWN in caption
    on_b.get_by_role("heading", name="本月进度").wait_for(timeout=20_000)  # a clerk's home page
    assert _sessions_of(procs.db, "njk") == opened, "B signs in by A's session, not a new one"

    on_b.get_by_role("button", name="退出登录").click()
    settle(on_b)
    _asks_password(on_b)
    row = _session_row(procs.db, token)
    assert row is not None and row[0] == "njk" and row[1] is not None and row[2] == "signed_out"

    # A is asked for the password again, even by a browser that still sends the old token
    # (put back once B has cleared it).
    for _ in range(100):
        if not any(c["name"] == COOKIE and c["value"] for c in context.cookies()):
            break
        on_b.wait_for_timeout(200)
    context.add_cookies([{"name": COOKIE, "value": token, "url": procs.a}])
    on_a.reload()
    settle(on_a)
    _asks_password(on_a)
    context.close()


def _register(page, title: str, unit: str | None = None, photo: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    """Fill 活动登记's form (the unit given, or the first offered), ready for 保存."""
    if unit:
        _pick(page, "单位", unit)
    _fill(page, "活动名称", title)
    if photo:
        uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="活动照片")
        uploader.locator("input[type='file']").set_input_files(str(photo))
        page.locator("[data-testid='stMain'] [data-testid='stImage'] img").first.wait_for(timeout=30_000)
        settle(page)


def _saved(page, title: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for 我的登记 to list the activity just saved (or for the refusal, and fail with it)."""
    saved = page.locator("[data-testid='stExpander']").filter(has_text=title).first
    refused = page.locator("[data-testid='stAlert']").filter(has_text="未能保存")
    saved.or_(refused).first.wait_for(timeout=30_000)
    settle(page)
    assert refused.count() == 0, refused.first.inner_text()


def _registered(db: Engine, titles: list[str]) -> list[tuple[str, str, str]]:
    """(township, unit, title) of the registered activities of these titles, by plain SQL."""
    with db.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT u.town, u.name, a.title FROM activity a JOIN unit u ON u.id = a.unit_id "
                "JOIN importbatch b ON b.id = a.batch_id WHERE b.kind = 'register' AND a.title IN :titles"
            ).bindparams(bindparam("titles", expanding=True)),
            {"titles": titles},
        ).all()
    return sorted((r[0], r[1], r[2]) for r in rows)


def _activities(db: Engine) -> int:
    with db.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM activity")).scalar_one())


def test_a_write_through_one_process_shows_on_the_other_at_its_next_rerun(procs: Procs, browser) -> None:  # type: ignore[no-untyped-def]
    stored = _activities(procs.db)

    reviewer = browser.new_context(**DESK)
    on_b = sign_in(reviewer, f"{procs.b}/?town={quote(TOWN)}", "reviewer", "demo-reviewer-2025")
    _goto(on_b, procs.b, f"progress?town={quote(TOWN)}", "本月进度")
    on_b.get_by_text(f"{TOWN} · {TODAY:%Y-%m}").first.wait_for(timeout=20_000)
    before = _owed(on_b)

    clerk = browser.new_context(**DESK)
    on_a = sign_in(clerk, procs.a, "njk", "demo-njk-2025")
    _goto(on_a, procs.a, "register", "活动登记")
    first = "进程甲登记的理论宣讲"
    _register(on_a, first, UNIT)
    on_a.get_by_role("button", name="保存").click()
    _saved(on_a, first)

    # B's next run, in the same session, reads the new data version and counts the activity.
    open_page(on_b, "总览")
    open_page(on_b, "本月进度")
    on_b.get_by_text(f"{TOWN} · {TODAY:%Y-%m}").first.wait_for(timeout=20_000)
    assert _owed(on_b) == before - 1
    save_screenshot(on_b, "two-processes.png")
    reviewer.close()

    # Two clerks save at once, one through each process.
    second, third = "进程甲登记的志愿服务", "进程乙登记的文体活动"
    _register(on_a, second, UNIT)
    lx = browser.new_context(**DESK)
    on_b = sign_in(lx, procs.b, "lx", "demo-lx-2025")
    _goto(on_b, procs.b, "register", "活动登记")
    _register(on_b, third)
    on_a.get_by_role("button", name="保存").click()
    on_b.get_by_role("button", name="保存").click()
    _saved(on_a, second)
    _saved(on_b, third)
    clerk.close()
    lx.close()

    assert _activities(procs.db) == stored + 3
    found = _registered(procs.db, [first, second, third])
    assert [(town, title) for town, _, title in found] == sorted([(TOWN, first), (TOWN, second), ("兰溪镇", third)])
    assert [name for _, name, title in found if title != third] == [UNIT, UNIT]

    done = subprocess.run(
        [sys.executable, "-m", "monitor", "check", "--json"], cwd=ROOT, env=procs.env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["differences"] == [] and report["sum_differences"] == [] and report["rows"] > 0


def _photo(path: Path) -> Path:
    image = Image.new("RGB", (320, 240), (30, 110, 190))
    ImageDraw.Draw(image).ellipse((80, 40, 240, 200), fill=(240, 190, 40))
    image.save(path, "JPEG", quality=85)
    return path


def test_a_photo_registered_on_one_process_shows_on_the_others_review(procs: Procs, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    title = "进程甲登记的带照片活动"
    clerk = browser.new_context(**DESK)
    on_a = sign_in(clerk, procs.a, "njk", "demo-njk-2025")
    _goto(on_a, procs.a, "register", "活动登记")
    _register(on_a, title, UNIT, _photo(tmp_path / "IMG_1.jpg"))
    on_a.get_by_role("button", name="保存").click()
    _saved(on_a, title)
    clerk.close()

    reviewer = browser.new_context(**DESK)
    on_b = sign_in(reviewer, f"{procs.b}/?town={quote(TOWN)}", "reviewer", "demo-reviewer-2025")
    _goto(on_b, procs.b, f"review?town={quote(TOWN)}", "活动认定")
    _pick(on_b, "月份", f"{TODAY:%Y-%m}（本月，进行中）")
    _pick(on_b, "单位", UNIT.removesuffix("新时代文明实践站"))
    # The unit's activities as tiles, each with its first photo; 打开 shows one as the card above.
    tile = on_b.locator("[data-testid='stVerticalBlock']").filter(has_text=title).filter(has=on_b.get_by_role("button"))
    tile.last.locator("[data-testid='stImage'] img").wait_for(timeout=20_000)
    heading = on_b.locator("h4").filter(has_text=f"{TODAY:%Y-%m-%d} {title}")
    if not heading.count():
        tile.last.get_by_role("button", name="打开").click()
        settle(on_b)
    heading.wait_for(timeout=20_000)
    card = on_b.locator("[data-testid='stVerticalBlock']", has=heading).last
    card.locator("[data-testid='stImage'] img").first.wait_for(timeout=20_000)
    assert card.locator("[data-testid='stImage'] img").count() == 1
    assert on_b.locator("[data-testid='stException']").count() == 0
    reviewer.close()
