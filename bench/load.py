"""Page times when many people use one running dashboard at once.

Each person is a websocket client speaking Streamlit's own protocol (bench/load_client.py), with
no browser.

Run from the project root:

    python bench/load.py --scenario district            # demo district, SQLite, 1 server process
    python bench/load.py --scenario province            # 30,000 units, PostgreSQL, 2 server processes
    python bench/load.py --scenario district --quick    # 1 and 5 people, 10 s each

For each number of people the script starts the server processes itself (`streamlit run app.py`,
headless, each on its own port), opens the four pages once per process as a separate account to
load the modules, then lets the people in, their arrivals spread over the first seconds. Each
person signs in by the session cookie of an account of their own, then opens 本月进度, 总览,
单位明细 and 约谈名单 in turn with a think time between pages, until the level's time is up. A
page time runs from sending the request to the message that says the script finished. Then the
servers are stopped, so every level starts from a server with empty caches. Before the levels, a
clerk and a reviewer each open every page alone on a server of their own, three times over:
each page's time with no one else about, first computed and then from the cache.

The province (bench/bench.py's case: 30,000 units in 2,000 townships, 1,000,000 activities over
2025) is built once into the PostgreSQL database monitor_load_province and reused while it holds
the case (--rebuild builds it again); MONITOR_TEST_DATABASE_URL names the server.

A Markdown table is printed and written to bench/out/load-<scenario>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit  # noqa: E402
import websockets  # noqa: E402
from load_client import PAGES, Person, Visit, run_people, tour  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from monitor.admin.accounts import UserError, actor_for, add_user  # noqa: E402
from monitor.admin.sessions import start_session  # noqa: E402
from monitor.core.calendar import today_in  # noqa: E402
from monitor.core.config import Settings  # noqa: E402
from monitor.core.models import Activity, Unit  # noqa: E402
from monitor.core.permissions import Actor  # noqa: E402
from monitor.demo.district import load_demo  # noqa: E402
from monitor.evidence.photo_store import open_store  # noqa: E402
from monitor.figures import views  # noqa: E402
from monitor.roster.units import towns  # noqa: E402
from monitor.store.db import get_engine, init_db  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_ENV = "MONITOR_TEST_DATABASE_URL"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROVINCE_DB = "monitor_load_province"
PROVINCE = {"n_units": 30_000, "n_rows": 1_000_000, "n_towns": 2000}
OPERATOR = Actor(name="load-bench", role="admin")
PASSWORD = "load-bench-2025"
TARGETS = {"district": (30, 1000.0), "province": (30, 2000.0)}  # (people, p95 ms) to meet
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- databases


def district_database(home: Path) -> str:
    """The demo district in a fresh SQLite file under `home`; its URL."""
    url = f"sqlite:///{home / 'monitor.db'}"
    engine = get_engine(url)
    init_db(engine, backups_dir=home / "backups")
    with Session(engine) as session:
        load_demo(session=session, actor=OPERATOR, store=open_store(Settings(database_url=url, data_dir=home)))
    engine.dispose()
    return url


def _holds_province(url: str) -> bool:
    try:
        engine = get_engine(url)
        with Session(engine) as session:
            units = session.exec(select(func.count()).select_from(Unit)).one()
            activities = session.exec(select(func.count()).select_from(Activity)).one()
        engine.dispose()
    except Exception:  # no such database yet, or no tables
        return False
    return units == PROVINCE["n_units"] and activities > 0


def province_database(pg_url: str, rebuild: bool) -> str:
    """The province case in PostgreSQL, built once (a minute or more) and then reused; its URL."""
    import bench as case  # bench/bench.py, beside this script

    base, _, _ = pg_url.rpartition("/")
    url = f"{base}/{PROVINCE_DB}"
    if not rebuild and _holds_province(url):
        print(f"province: reusing {PROVINCE_DB}", flush=True)
        init_db(get_engine(url), backups_dir=Path(tempfile.mkdtemp(prefix="monitor-load-backups-")))  # a newer schema
        return url
    started = time.perf_counter()
    print(f"province: building {PROVINCE_DB} ({PROVINCE})", flush=True)
    case.fresh_pg_database(pg_url, PROVINCE_DB)
    with tempfile.TemporaryDirectory(prefix="monitor-load-case-") as tmp:
        work = Path(tmp)
        roster_path, csv_path, _ = case.build_case(work, **PROVINCE)
        case.load_roster(url, work, roster_path, "PostgreSQL")
        outcome = case.monitor_import(url, work / "data", csv_path, "")
        if outcome["file_error"]:
            raise SystemExit(f"the province's activities were refused: {outcome}")
    case.settle(url)
    print(f"province: built in {time.perf_counter() - started:.0f} s ({outcome['imported']:,} activities)", flush=True)
    return url


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    town: str


def mix(n: int, all_towns: list[str], seed: int) -> list[Account]:
    """n accounts: two of every three are town clerks (townships spread by a seeded draw, repeated
    only once every township has one), the third a reviewer who sees the whole area."""
    order = random.Random(seed).sample(all_towns, len(all_towns))
    accounts, clerks, reviewers = [], 0, 0
    for i in range(n):
        if i % 3 == 2:
            reviewers += 1
            accounts.append(Account(f"load-review-{reviewers:03d}", "reviewer", ""))
        else:
            accounts.append(Account(f"load-town-{clerks + 1:03d}", "town", order[clerks % len(order)]))
            clerks += 1
    return accounts


def sign_in(url: str, wanted: list[Account]) -> list[tuple[Account, str]]:
    """Each account (made when missing, as it is in the database when present) with a new sign-in token."""
    engine = get_engine(url)
    settings = Settings(database_url=url)
    signed = []
    with Session(engine) as session:
        for account in wanted:
            try:
                actor = actor_for(session=session, name=account.name)
            except UserError:
                add_user(
                    session=session,
                    actor=OPERATOR,
                    name=account.name,
                    role=account.role,
                    password=PASSWORD,
                    town=account.town,
                )
                actor = actor_for(session=session, name=account.name)
            token = start_session(session=session, actor=actor, settings=settings, source="load bench")
            signed.append((Account(actor.name, actor.role, actor.town), token))
    engine.dispose()
    return signed


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    mark: int = 0  # where in the log the measured part begins

    def set_mark(self) -> None:
        self.mark = self.log.stat().st_size


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(server: Server, lines: int = 60) -> str:
    text = server.log.read_text("utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


@contextmanager
def serving(count: int, env: dict[str, str], logs: Path) -> Iterator[list[Server]]:
    """`count` server processes of app.py on free ports, stopped (killed if need be) on the way out."""
    servers: list[Server] = []
    try:
        for i in range(count):
            port = _free_port()
            log = logs / f"server-{i + 1}.log"
            with open(log, "wb") as handle:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "streamlit",
                        "run",
                        "app.py",
                        "--server.port",
                        str(port),
                        "--server.address",
                        "127.0.0.1",
                        "--server.headless",
                        "true",
                        "--server.fileWatcherType",
                        "none",
                        "--browser.gatherUsageStats",
                        "false",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stopped by this script, not by the terminal's Ctrl-C
                )
            servers.append(Server(port, process, log))
        for server in servers:
            _wait_ready(server)
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def _wait_ready(server: Server, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the server on port {server.port} exited:\n{_log_tail(server)}")
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{server.port}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server on port {server.port} did not answer within {seconds:.0f} s:\n{_log_tail(server)}")


def warm_up(servers: list[Server], token: str, timeout: float) -> None:
    """One separate account opens each page once per process, so module imports are not measured."""

    async def everywhere() -> list[list[Visit]]:
        people = [Person("load-warmup", "admin", "", token, server.port) for server in servers]
        return await asyncio.gather(*(tour(person, timeout=timeout, rounds=1) for person in people))

    for server, visits in zip(servers, asyncio.run(everywhere()), strict=True):
        if visits[0].error:  # not signed in, or no server: nothing that follows would mean anything
            raise SystemExit(f"warm-up failed on port {server.port}: {visits[0].error}\n{_log_tail(server)}")
        failed = [f"{v.page} ({v.error})" for v in visits if v.error]
        if failed:
            print(f"  warm-up on port {server.port}: failed {', '.join(failed)}", flush=True)
        server.set_mark()


EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)): (.*)$")


def server_exceptions(servers: list[Server]) -> Counter[str]:
    """The exceptions the servers logged since their mark (the last line of each traceback), counted."""
    found: Counter[str] = Counter()
    for server in servers:
        with open(server.log, "rb") as handle:
            handle.seek(server.mark)
            text = handle.read().decode("utf-8", errors="replace")
        for line in text.splitlines():
            match = EXCEPTION_LINE.match(line)
            if match:
                found[f"{match.group(1)}: {match.group(2)[:110]}"] += 1
    return found


# --------------------------------------------------------------------------- CPU


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 on (the name, which may hold spaces, cut off)."""
    with open(f"/proc/{pid}/stat") as handle:
        text = handle.read()
    return text[text.rfind(")") + 2 :].split()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `database` (named in its process title)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            if f" {database} ".encode() not in (entry / "cmdline").read_bytes():
                continue
            found[int(entry.name)] = process_cpu(int(entry.name))
        except OSError:
            continue
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


@dataclass
class Meter:
    """CPU used over a stretch of wall time by the servers, PostgreSQL, this script and the machine."""

    pids: list[int]
    database: str  # a PostgreSQL database whose backends are measured too; "" for none
    wall: float = 0.0
    servers: float = 0.0
    postgres: float = 0.0
    own: float = 0.0
    busy: float = 0.0
    total: float = 0.0
    _backends: dict[int, float] = field(default_factory=dict)

    def __enter__(self) -> Meter:
        self.wall, self.own = time.perf_counter(), time.process_time()
        self.servers = sum(process_cpu(pid) for pid in self.pids)
        self._backends = backends_cpu(self.database) if self.database else {}
        self.busy, self.total = machine_cpu()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.own = time.process_time() - self.own
        self.servers = sum(process_cpu(pid) for pid in self.pids) - self.servers
        if self.database:  # a backend gone before the end loses its last share; the pool keeps them open
            ended = backends_cpu(self.database)
            self.postgres = sum(cpu - self._backends.get(pid, 0.0) for pid, cpu in ended.items())
        busy, total = machine_cpu()
        self.busy, self.total = busy - self.busy, total - self.total

    def core_pct(self, seconds: float) -> str:
        """CPU seconds as a share of one core over the wall time."""
        return f"{seconds / self.wall * 100:.0f} %" if self.wall else "—"

    @property
    def machine_pct(self) -> str:
        return f"{self.busy / self.total * 100:.0f} %" if self.total else "—"


# --------------------------------------------------------------------------- figures


def pct(values: list[float], share: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def ms(value: float) -> str:
    return "—" if value != value else f"{value:,.0f}"


@dataclass
class Level:
    people: int
    visits: list[Visit]
    meter: Meter
    seconds: float
    exceptions: Counter[str]  # as the servers logged them

    @property
    def measured(self) -> list[Visit]:
        """Visits counted in the page times: not a connection's first run, and without error."""
        return [v for v in self.visits if not v.first and not v.error]

    @property
    def errors(self) -> list[Visit]:
        return [v for v in self.visits if v.error]

    def times(self, page: str | None = None, role: str | None = None) -> list[float]:
        return [v.ms for v in self.measured if (page is None or v.page == page) and (role is None or v.role == role)]


def render_alone(visits: list[Visit]) -> list[str]:
    """One person alone: each page's first open and the median of the opens after it."""
    table = [
        "| Page | Role | first open ms | again ms (median) | Errors |",
        "|---|---|---|---|---|",
    ]
    for role in ("town", "reviewer"):
        for page in PAGES:
            chosen = [v for v in visits if v.role == role and v.page == page]
            if not chosen:
                continue
            first, later = chosen[0], [v.ms for v in chosen[1:] if not v.error]
            opened = f"error after {ms(first.ms)}" if first.error else ms(first.ms)
            again = ms(statistics.median(later)) if later else "—"
            table.append(f"| {page} | {role} | {opened} | {again} | {sum(1 for v in chosen if v.error)} |")
    return table


def render(levels: list[Level], single: list[Visit], *, scenario: str, facts: list[str], settings: list[str]) -> str:
    """The Markdown report: the table by number of people, the pages by role, errors, notes."""
    postgres = scenario == "province"
    head = ["People", "Pages", "Pages/s", "KB/page", "p50 ms", "p95 ms", "max ms", "Errors"]
    head += [f"{page} p95" for page in PAGES]
    head += ["Server CPU", *(["PostgreSQL CPU"] if postgres else []), "Load client CPU", "Machine busy"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for level in levels:
        times, m = level.times(), level.meter
        cells = [
            str(level.people),
            str(len(times)),
            f"{len(times) / level.seconds:.1f}",
            ms(statistics.fmean(v.received for v in level.measured) / 1024 if times else float("nan")),
            ms(pct(times, 0.5)),
            ms(pct(times, 0.95)),
            ms(max(times, default=float("nan"))),
            f"{len(level.errors)} of {len(level.visits)}",
        ]
        cells += [ms(pct(level.times(page), 0.95)) for page in PAGES]
        cells += [m.core_pct(m.servers), *([m.core_pct(m.postgres)] if postgres else []), m.core_pct(m.own)]
        cells.append(m.machine_pct)
        rows.append("| " + " | ".join(cells) + " |")

    people, limit = TARGETS[scenario]
    at = [level for level in levels if level.people == people]
    if at:
        p95 = pct(at[0].times(), 0.95)
        met = "met" if p95 < limit and not at[0].errors else "not met"
        target = f"Target: p95 < {limit:,.0f} ms at {people} people, without errors: **{met}** (p95 {ms(p95)} ms)."
    else:
        target = f"Target: p95 < {limit:,.0f} ms at {people} people: not measured in this run."

    detail = [
        "| People | Page | Role | Opened | p50 ms | p95 ms | max ms | Errors | ms to the error (median) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        groups = [(page, role, False) for page in PAGES for role in ("town", "reviewer")] + [("", "", True)]
        for page, role, first in groups:
            chosen = [v for v in level.visits if v.first == first and (first or (v.page == page and v.role == role))]
            good, bad = [v.ms for v in chosen if not v.error], [v.ms for v in chosen if v.error]
            if chosen:
                label = "first visit (left out above)" if first else page
                detail.append(
                    f"| {level.people} | {label} | {role or 'all'} | {len(good)} | {ms(pct(good, 0.5))} "
                    f"| {ms(pct(good, 0.95))} | {ms(max(good, default=float('nan')))} | {len(bad)} "
                    f"| {ms(pct(bad, 0.5))} |"
                )

    errors = []
    for level in levels:
        for message, count in Counter(f"{v.page}: {v.error}" for v in level.errors).most_common(8):
            errors.append(f"- {level.people} people: {count} × {message}")
        for line, count in level.exceptions.most_common(4):
            errors.append(f"- {level.people} people, server log: {count} × {line}")

    parts = [f"# Load: {scenario}", "", "\n".join(rows), "", target, "", "## By page and role", "", "\n".join(detail)]
    if single:
        parts += [
            "",
            "## One person alone",
            "",
            "One process, no one else on it; the page's first open computes its figures, the later opens (two "
            "more rounds of the four pages) find them in the cache. The home page's first open is the "
            "connection's first run.",
            "",
            "\n".join(render_alone(single)),
        ]
    if errors:
        parts += ["", "## Errors", "", "\n".join(errors)]
    parts += ["", "## Settings and machine", "", "\n".join(f"- {line}" for line in settings + facts), ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------- main


@dataclass(frozen=True)
class Plan:
    """What a run does: the command line, read once."""

    scenario: str
    levels: list[int]
    seconds: float
    processes: int
    think: tuple[float, float]
    ramp: float
    timeout: float
    seed: int


def run_level(plan: Plan, n: int, signed: list[tuple[Account, str]], warm_token: str, env: dict[str, str]) -> Level:
    """Fresh servers, the warm-up, then n people for the level's time; the servers stopped after."""
    logs = Path(env["MONITOR_DATA_DIR"]) / f"logs-{n}"
    logs.mkdir()
    with serving(plan.processes, env, logs) as servers:
        warm_up(servers, warm_token, plan.timeout)
        people = [
            Person(account.name, account.role, account.town, token, servers[i % plan.processes].port)
            for i, (account, token) in enumerate(signed[:n])
        ]
        who = "1 person" if n == 1 else f"{n} people"
        print(f"{who} on {plan.processes} server process(es) for {plan.seconds:.0f} s ...", flush=True)
        database = PROVINCE_DB if plan.scenario == "province" else ""
        with Meter([s.process.pid for s in servers], database) as meter:
            visits = asyncio.run(
                run_people(
                    people, seconds=plan.seconds, ramp=plan.ramp, think=plan.think, timeout=plan.timeout, seed=plan.seed
                )
            )
        level = Level(n, visits, meter, plan.seconds, server_exceptions(servers))
        times = level.times()
        print(
            f"  {len(times)} pages, p50 {ms(pct(times, 0.5))} ms, p95 {ms(pct(times, 0.95))} ms, "
            f"max {ms(max(times, default=float('nan')))} ms, {len(level.errors)} errors",
            flush=True,
        )
        for line, count in level.exceptions.most_common():
            print(f"  server log: {count} × {line}", flush=True)
        for server in servers:
            if server.process.poll() is not None:
                print(f"--- the server on port {server.port} exited; its log:\n{_log_tail(server)}", flush=True)
    return level


def alone(plan: Plan, solo: list[tuple[Account, str]], warm_token: str, env: dict[str, str]) -> list[Visit]:
    """Each page opened by one person with no one else on a server: a clerk, then a reviewer, each
    going round the four pages three times (the first open of a page computes it, the later ones
    find it in the cache)."""
    logs = Path(env["MONITOR_DATA_DIR"]) / "logs-alone"
    logs.mkdir()
    visits: list[Visit] = []
    with serving(1, env, logs) as servers:
        warm_up(servers, warm_token, plan.timeout)
        print("one person alone: each page three times, a clerk then a reviewer ...", flush=True)
        for account, token in solo:
            person = Person(account.name, account.role, account.town, token, servers[0].port)
            visits += asyncio.run(tour(person, timeout=plan.timeout, rounds=3))
    return visits


def describe(plan: Plan, *, data: str, signed: list[tuple[Account, str]], n_towns: int, period: str) -> list[str]:
    """The settings of the run, in words, for the report."""
    most = max(plan.levels)
    clerks = [account for account, _ in signed[:most] if account.role == "town"]
    low, high = plan.think
    lines = [
        f"Data: {data}. {period}",
        f"Servers: {plan.processes} `streamlit run app.py` process{'es' if plan.processes > 1 else ''}, headless, "
        "file watcher off, usage stats off, "
        "started afresh for each level (empty caches); before the people arrive one more admin account opens the "
        "four pages once per process (module imports), not counted.",
        f"People: of the {most} at most, {len(clerks)} town clerks (乡镇经办人, {len({a.town for a in clerks})} "
        f"different townships of {n_towns}) and {most - len(clerks)} reviewer{'s' if most - len(clerks) != 1 else ''} "
        "(审核人员, the whole area); every "
        "third person is a reviewer, so each level has the same mix. Each has an account of their own and signs in "
        "by a session token in the `monitor_session` cookie, sent on the websocket handshake.",
        f"Each level lasts {plan.seconds:.0f} s; arrivals spread evenly over the first {plan.ramp:.0f} s; think "
        f"time uniform {low:g}-{high:g} s between pages (seed {plan.seed}); pages in turn 本月进度 → 总览 → 单位明细 → "
        "约谈名单, from the one after the home page; a page still running when the time is up is counted.",
        "Page time: from sending the rerun request (BackMsg.rerun_script naming the page, as a click on the "
        "navigation link sends it) to the ForwardMsg script_finished. Warm-up: each connection's first run "
        "(sign-in by cookie and the home page, on a session just made) is left out of the page times and shown "
        "on its own line in the table by page. The figures are cached per process and shared by the accounts "
        "of one role and township (ui.common.cached): the first person to open a page on a process computes "
        "them, the others find them in the cache. KB/page: ForwardMsg bytes received per page.",
        f"Errors: an exception element in the run, a finish other than success, no page title in the run (the "
        f"sign-in screen), no answer within {plan.timeout:.0f} s, or a closed connection (the person then "
        "reconnects). Page times count only pages without error; the error count covers every run.",
        "CPU: % of one core over the level (/proc/PID/stat; PostgreSQL: its backends serving the database); "
        "machine busy: share of all CPUs (/proc/stat), other work on the machine included.",
    ]
    if plan.processes > 1:
        lines.insert(
            2,
            f"Person i is sent to process i % {plan.processes}, as a proxy with sticky sessions would; all "
            "processes share the database.",
        )
    return lines


def machine(database: str, argv: list[str]) -> list[str]:
    return [
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
        f"Streamlit {streamlit.__version__}, websockets {websockets.__version__}, {database}; load average at "
        f"the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        f"Run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: `python bench/load.py {' '.join(argv)}`.",
    ]


def _interrupt(*_: object) -> None:
    """SIGTERM ends the run as Ctrl-C does: the servers are stopped on the way out."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("district", "province"), default="district")
    parser.add_argument("--people", default="1,10,30,60", help="numbers of people, one level each (1,10,30,60)")
    parser.add_argument("--seconds", type=float, default=60, help="length of each level (60)")
    parser.add_argument("--processes", type=int, default=None, help="server processes (district 1, province 2)")
    parser.add_argument("--think", default="2,5", help="think time between pages, uniform in MIN,MAX s (2,5)")
    parser.add_argument("--ramp", type=float, default=5, help="arrivals spread over this many seconds (5)")
    parser.add_argument("--timeout", type=float, default=30, help="a page taking longer is an error (30 s)")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--quick", action="store_true", help="a short sanity run: 1 and 5 people, 10 s each")
    parser.add_argument("--rebuild", action="store_true", help="build the province database again")
    args = parser.parse_args(argv)
    low, high = (float(x) for x in args.think.split(","))
    plan = Plan(
        scenario=args.scenario,
        levels=[1, 5] if args.quick else [int(n) for n in args.people.split(",")],
        seconds=10.0 if args.quick else args.seconds,
        processes=args.processes or (2 if args.scenario == "province" else 1),
        think=(low, high),
        ramp=args.ramp,
        timeout=args.timeout,
        seed=args.seed,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    OUT.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix=f"monitor-load-{plan.scenario}-") as tmp:
        home = Path(tmp)
        if plan.scenario == "district":
            url = district_database(home)
            data = "the demo district (monitor.demo.district.load_demo) in a fresh SQLite file"
        else:
            url = province_database(os.environ.get(PG_ENV) or PG_DEFAULT, args.rebuild)
            data = (
                f"the province case of bench/bench.py ({PROVINCE['n_units']:,} units in {PROVINCE['n_towns']:,} "
                f"townships, {PROVINCE['n_rows']:,} activity rows over 2025) in PostgreSQL database {PROVINCE_DB}"
            )
        settings = Settings(database_url=url, data_dir=home)
        engine = get_engine(url)
        with Session(engine) as session:
            all_towns = towns(session=session)
            today = today_in(settings)
            start, end = views.default_period(session=session, settings=settings, today=today)
        version = ".".join(str(part) for part in engine.dialect.server_version_info or ())
        engine.dispose()
        database = f"SQLite {sqlite3.sqlite_version}" if url.startswith("sqlite") else f"PostgreSQL {version}"
        period = (
            f"Today on the server's clock {today}: the sidebar's default period {start} to {end}; 本月进度 shows "
            f"{today:%Y-%m}, whatever the period."
        )
        people = mix(max(plan.levels), all_towns, plan.seed)
        extra = [
            Account("load-alone-town", "town", people[0].town),
            Account("load-alone-review", "reviewer", ""),
            Account("load-warmup", "admin", ""),
        ]
        signed = sign_in(url, people + extra)
        solo, warm_token = signed[-3:-1], signed[-1][1]
        signed = signed[:-3]
        env = {**os.environ, "MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(home)}
        levels: list[Level] = []
        single: list[Visit] = []
        interrupted = False
        try:
            single = alone(plan, solo, warm_token, env)
            for n in plan.levels:
                levels.append(run_level(plan, n, signed, warm_token, env))
        except KeyboardInterrupt:
            print("interrupted: the servers are stopped; the levels finished so far follow", flush=True)
            interrupted = True
        settings_text = describe(plan, data=data, signed=signed, n_towns=len(all_towns), period=period)
        text = render(
            levels,
            single,
            scenario=plan.scenario,
            facts=machine(database, argv if argv is not None else sys.argv[1:])
            + (["Interrupted: only the levels finished before the interruption are shown."] if interrupted else []),
            settings=settings_text,
        )
    print()
    print(text)
    target = OUT / f"load-{plan.scenario}.md"
    target.write_text(text, encoding="utf-8")
    print(f"written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
