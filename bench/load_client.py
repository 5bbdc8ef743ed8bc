"""One person at the dashboard without a browser: a websocket client speaking Streamlit's protocol.

A browser tab connects to /_stcore/stream (sending the sign-in cookie on the handshake), asks
for a first run of the script (BackMsg.rerun_script with no page: the address's page, here the
home page) and then, for each click on a navigation link, asks for a rerun naming the page by
its hash. The hashes come from the `navigation` ForwardMsg that st.navigation sends on every run.
The server answers a run with ForwardMsgs (new_session, deltas, ...) and ends it with
`script_finished`. Like the browser, the client keeps the hashes of the large elements it was
sent in the last two runs and lists them in its next request, so the server sends a reference
instead of sending them again (which, going round four pages, happens only on a rerun of the
same page).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin, Subprotocol

COOKIE = "monitor_session"  # monitor.admin.sessions.COOKIE, spelled here to keep the client apart
PAGES = ("本月进度", "总览", "单位明细", "约谈名单")
MAX_CACHED_AGE = 2  # Streamlit's global.maxCachedMessageAge: runs a cached element is kept unreferenced
FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
EARLY_FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN


@dataclass(frozen=True)
class Person:
    """A signed-in account: its sign-in token, its role and the server process it is sent to."""

    name: str
    role: str
    town: str
    token: str
    port: int

    @property
    def home(self) -> str:
        """The page app.py opens first: 本月进度 for town staff, 总览 for the others."""
        return "本月进度" if self.role == "town" else "总览"


@dataclass(frozen=True)
class Visit:
    """One page opened: how long it took and what went wrong."""

    person: str
    role: str
    page: str
    ms: float
    error: str = ""
    first: bool = False  # the connection's first run: sign-in by cookie and the home page
    received: int = 0  # bytes of ForwardMsgs received


class PageFailed(Exception):
    """The run ended, but not with the page asked for."""


class Tab:
    """One websocket session, as one browser tab holds it."""

    def __init__(self, person: Person, timeout: float) -> None:
        self.person = person
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.pages: dict[str, str] = {}  # page title -> page_script_hash, from the navigation message
        self.current = ""  # hash of the page last run
        self.query = ""  # the address bar's query string, as the app last set it
        self.cached: dict[str, int] = {}  # hash of a cached element -> run in which it was last seen
        self.runs = 0

    async def open_first(self) -> Visit:
        """Connect and run the script as a browser does on loading the address: the home page."""
        url = f"ws://127.0.0.1:{self.person.port}/_stcore/stream"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                self.ws = await connect(
                    url,
                    origin=Origin(f"http://127.0.0.1:{self.person.port}"),
                    subprotocols=[Subprotocol("streamlit")],
                    additional_headers={"Cookie": f"{COOKIE}={self.person.token}"},
                    max_size=None,
                    ping_interval=None,  # a browser sends no pings; it answers the server's
                )
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            return self._visit(self.person.home, started, f"connect: {type(exc).__name__}", 0, first=True)
        return await self._run(self.person.home, started, page_hash="", first=True)

    async def open(self, page: str) -> Visit:
        """Click the page's link in the sidebar navigation."""
        return await self._run(page, time.perf_counter(), page_hash=self.pages.get(page, ""), first=False)

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (TimeoutError, ConnectionClosed, OSError):
                pass
            self.ws = None

    def _request(self, page_hash: str) -> bytes:
        """The rerun a browser sends: a new page drops the query string, as the frontend does."""
        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = page_hash
        state.query_string = self.query if page_hash in ("", self.current) else ""
        state.cached_message_hashes.extend(self.cached)
        state.context_info.timezone = "Asia/Shanghai"
        state.context_info.timezone_offset = -480
        state.context_info.locale = "zh-CN"
        state.context_info.url = f"http://127.0.0.1:{self.person.port}/"
        state.widget_states.SetInParent()  # the sidebar's filters keep their values in session state
        return msg.SerializeToString()

    async def _run(self, page: str, started: float, *, page_hash: str, first: bool) -> Visit:
        if self.ws is None:
            return self._visit(page, started, "not connected", 0, first=first)
        if not first and not page_hash:
            return self._visit(page, started, "page not in the navigation", 0, first=first)
        received = 0
        try:
            async with asyncio.timeout(self.timeout):
                await self.ws.send(self._request(page_hash))
                received = await self._until_finished(page)
        except TimeoutError:
            return self._visit(page, started, "timeout", received, first=first)
        except ConnectionClosed as exc:
            return self._visit(page, started, f"connection closed ({exc.rcvd.code if exc.rcvd else '-'})", 0, first)
        except PageFailed as exc:
            return self._visit(page, started, str(exc), received, first=first)
        return self._visit(page, started, "", received, first=first)

    async def _until_finished(self, page: str) -> int:
        """Read the run's messages up to its successful end; the bytes read. Raises PageFailed."""
        assert self.ws is not None
        received, titled, error = 0, False, ""
        while True:
            frame = await self.ws.recv()
            assert isinstance(frame, bytes)
            received += len(frame)
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            kind = msg.WhichOneof("type")
            if msg.metadata.cacheable:
                self.cached[msg.hash] = self.runs
            if kind == "ref_hash":
                self.cached[msg.ref_hash] = self.runs
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
                self.current = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                error = error or "page not found"
            elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
                error = error or f"compile error: {msg.session_event.script_compilation_exception.message}"
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                shown = element.WhichOneof("type")
                if shown == "exception":
                    # By default the type is blank and the message a notice: the server's log has the traceback.
                    found = element.exception
                    said = f"{found.type}: {found.message[:100]}" if found.type else "details in the server log"
                    error = error or f"exception ({said})"
                elif shown == "heading" and element.heading.body == page:
                    titled = True
            elif kind == "script_finished":
                if msg.script_finished == EARLY_FOR_RERUN:
                    continue  # st.rerun() in the script: the page goes on in the next run
                self._age_cache()
                if msg.script_finished != FINISHED:
                    raise PageFailed(f"finished with status {msg.script_finished}")
                if error:
                    raise PageFailed(error)
                if not titled:
                    raise PageFailed("no page title (not signed in?)")
                return received

    def _age_cache(self) -> None:
        """Forget elements not seen for more runs than Streamlit keeps them, as the browser does."""
        self.runs += 1
        self.cached = {h: run for h, run in self.cached.items() if self.runs - run <= MAX_CACHED_AGE}

    def _visit(self, page: str, started: float, error: str, received: int, first: bool) -> Visit:
        return Visit(
            person=self.person.name,
            role=self.person.role,
            page=page,
            ms=(time.perf_counter() - started) * 1000,
            error=error,
            first=first,
            received=received,
        )


async def browse(
    person: Person,
    *,
    delay: float,
    until: float,
    think: Callable[[], float],
    timeout: float,
    visits: list[Visit],
) -> None:
    """Connect after `delay` s, then open the four pages in turn with a think time between them
    until perf_counter reaches `until`. A dropped or stuck connection is counted and replaced."""
    await asyncio.sleep(delay)
    start = PAGES.index(person.home) + 1
    order = itertools.islice(itertools.cycle(PAGES), start, None)
    tab: Tab | None = None
    try:
        while time.perf_counter() < until:
            if tab is None:
                tab = Tab(person, timeout)
                visit = await tab.open_first()
            else:
                visit = await tab.open(next(order))
            visits.append(visit)
            if visit.error and (visit.first or visit.error == "timeout" or visit.error.startswith("connection")):
                await tab.close()  # as a person would reload the page: a new session
                tab = None
            await asyncio.sleep(max(0.0, min(think(), until - time.perf_counter())))
    finally:
        if tab is not None:
            await tab.close()


async def tour(person: Person, *, timeout: float, rounds: int) -> list[Visit]:
    """Connect, then open the four pages `rounds` times over, one after the other without pause."""
    tab = Tab(person, timeout)
    try:
        visits = [await tab.open_first()]
        for _ in range(rounds if not visits[0].error else 0):
            visits += [await tab.open(page) for page in PAGES]
        return visits
    finally:
        await tab.close()


async def run_people(
    people: list[Person], *, seconds: float, ramp: float, think: tuple[float, float], timeout: float, seed: int
) -> list[Visit]:
    """All the people at once for `seconds`, their arrivals spread over the first `ramp` seconds."""
    visits: list[Visit] = []
    until = time.perf_counter() + seconds
    tasks = []
    for i, person in enumerate(people):
        tasks.append(
            browse(
                person,
                delay=ramp * i / max(1, len(people)),
                until=until,
                think=functools.partial(random.Random(seed * 1000 + i).uniform, *think),
                timeout=timeout,
                visits=visits,
            )
        )
    await asyncio.gather(*tasks)
    return visits
