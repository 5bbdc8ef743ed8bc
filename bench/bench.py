"""Benchmark of the activity import and of the figures, at province and at district scale, on SQLite and
on PostgreSQL (when MONITOR_TEST_DATABASE_URL names a server; its databases monitor_bench* are replaced).

Run from the project root:

    python bench/bench.py            # 30,000 units, 1,000,000 activities over 2025 (a few minutes)
    python bench/bench.py --quick    # 3,000 units, 100,000 activities (about a minute)

For each engine, in this order:

1. (once) a province-sized case in a temporary directory: a roster CSV and an activity CSV
   (单位编码,单位名称,活动日期,活动名称,活动类型,参与人数,图片数), deterministic seed;
2. the raw baseline, in a fresh (spawned) interpreter: on SQLite pyarrow.csv.read_csv + sqlite3
   executemany of INSERT ... ON CONFLICT DO NOTHING into a fresh file; on PostgreSQL COPY of the
   file into a temporary table + INSERT ... ON CONFLICT DO NOTHING; both into a table with
   UNIQUE (unit code, date, title), one transaction;
3. monitor: a fresh database, the roster imported with monitor.ingest.roster_file.import_units, then
   monitor.ingest.importer.import_activities on the same file's bytes, timed and memory-measured in a
   fresh interpreter; steps 2 and 3 taken in turn --pairs times (3), the ratio their median;
4. the latency of monitor.figures.metrics.report and monitor.figures.metrics.interviews on the province database
   just filled, and on a second database holding the demo district (monitor.demo.district.load_demo), each
   settled first (PostgreSQL: VACUUM ANALYZE and a checkpoint; SQLite: a WAL checkpoint) and
   measured in a fresh process;
5. a Markdown table printed and written to bench/out/results.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import queue as queue_module
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.core.config import Settings  # noqa: E402
from monitor.core.permissions import Actor  # noqa: E402
from monitor.core.query import Query  # noqa: E402
from monitor.demo import names as demo_names  # noqa: E402
from monitor.demo.district import load_demo  # noqa: E402
from monitor.evidence.photo_store import FolderStore  # noqa: E402
from monitor.figures import metrics  # noqa: E402
from monitor.store.db import freeze_long_lived, get_engine, init_db  # noqa: E402

OPERATOR = Actor(name="bench", role="admin")
RULES = Settings()

OUT = ROOT / "bench" / "out"
SEED = 20250101
YEAR = 2025
ACTIVITY_HEADERS = ["单位编码", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "图片数"]
ROSTER_HEADERS = ["单位编码", "单位名称", "单位类型", "所属乡镇", "负责人", "联系电话"]
QUOTA = {"中心": 8, "所": 3, "站": 2}

LIMIT_MB = 4096  # upload limit for the benchmark: the province-sized file is far above the default
TARGET_RATIO = {"SQLite": 0.8, "PostgreSQL": 0.5}
TARGET_MEMORY_MIB = 1024
TARGET_PROVINCE_S = 0.300
TARGET_DISTRICT_S = {"SQLite": 0.020, "PostgreSQL": 0.030}
PG_ENV = "MONITOR_TEST_DATABASE_URL"

TOWN_FIRST = list("青石桐枫杨柳竹松梅桃兰荷莲禾丰安福寿康宁泰和平新富兴旺隆昌盛永长金银双白黄龙凤云")
TOWN_SECOND = list("山江河湖桥溪岭港洲坪塘冲田口坝湾铺市庙阳")
VILLAGE_FIRST, VILLAGE_SECOND = demo_names.FIRST, demo_names.SECOND
SURNAMES, GIVEN = demo_names.SURNAMES, demo_names.GIVEN
# The demo's titles and three more, in the same order as before, so the case stays the same.
_MORE = {"理论宣讲": ["百姓名嘴讲政策"], "志愿服务": ["助农采摘志愿服务"], "文体活动": ["村晚排练"]}
TITLES = {category: [*titles, *_MORE.get(category, [])] for category, titles in demo_names.TITLES.items()}


# --------------------------------------------------------------------------- case generation


def build_roster(n_units: int, rng: np.random.Generator, n_towns: int = 0) -> pd.DataFrame:
    """1 center, one institute per town, stations spread over the towns; codes unique.
    `n_towns` 0: one town per hundred units (300 for 30,000), the bench's first case."""
    n_towns = n_towns or max(2, min(800, n_units // 100))
    pairs = [a + b for a in TOWN_FIRST for b in TOWN_SECOND]
    if n_towns > len(pairs):
        pairs += [a + b + c for a in TOWN_FIRST for b in TOWN_SECOND for c in "东西南北上下"]
    chosen = rng.choice(len(pairs), size=n_towns, replace=False)
    suffix = rng.choice(["镇", "乡", "街道"], size=n_towns, p=[0.7, 0.2, 0.1])
    towns = [pairs[i] + s for i, s in zip(chosen, suffix, strict=True)]
    n_stations = n_units - 1 - n_towns
    per_town = np.full(n_towns, n_stations // n_towns)
    per_town[: n_stations % n_towns] += 1
    villages = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND]
    if per_town.max() > len(villages) * 2:
        raise SystemExit(f"too many stations per town ({per_town.max()}): use fewer units")

    codes, names, types, unit_towns, shorts = ["SZX"], ["市新时代文明实践服务中心"], ["中心"], [""], [""]
    for t, (town, count) in enumerate(zip(towns, per_town, strict=True), start=1):
        codes.append(f"T{t:04d}-S" if n_towns > 999 else f"T{t:03d}-S")
        names.append(f"{town}新时代文明实践所")
        types.append("所")
        unit_towns.append(town)
        shorts.append(town)
        picks = rng.permutation(len(villages) * 2)[:count]
        for i, pick in enumerate(picks, start=1):
            village = villages[pick % len(villages)] + ("村" if pick < len(villages) else "社区")
            codes.append(f"T{t:04d}-{i:03d}" if n_towns > 999 else f"T{t:03d}-{i:03d}")
            names.append(f"{village}新时代文明实践站")
            types.append("站")
            unit_towns.append(town)
            shorts.append(village)
    n = len(codes)
    heads = np.char.add(rng.choice(SURNAMES, n), rng.choice(GIVEN, n))
    phones = [f"1{p}{x:09d}" for p, x in zip(rng.choice(list("3578"), n), rng.integers(0, 10**9, n), strict=True)]
    return pd.DataFrame(
        {
            "单位编码": codes,
            "单位名称": names,
            "单位类型": types,
            "所属乡镇": unit_towns,
            "负责人": heads,
            "联系电话": phones,
            "short": shorts,
        }
    )


def build_activities(roster: pd.DataFrame, n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Activities over the 12 months of YEAR; mostly by code, a few by town + name, ~1 % re-uploaded rows."""
    n_units = len(roster)
    quota = roster["单位类型"].map(QUOTA).to_numpy(dtype=float)
    factor = rng.gamma(4.0, 0.25, n_units)
    factor[rng.random(n_units) < 0.03] *= 0.2  # a few laggards
    weights = quota * factor
    unit = rng.choice(n_units, size=n_rows, p=weights / weights.sum())

    first_day = date(YEAR, 1, 1)
    n_days = (date(YEAR + 1, 1, 1) - first_day).days
    days = [first_day + timedelta(days=i) for i in range(n_days)]
    spellings = np.array(
        [
            [d.isoformat() for d in days],
            [f"{d.year}/{d.month}/{d.day}" for d in days],
            [f"{d.year}年{d.month}月{d.day}日" for d in days],
        ],
        dtype=object,
    )
    day = rng.integers(0, n_days, n_rows)
    spelling = rng.choice(3, size=n_rows, p=[0.92, 0.05, 0.03])
    months = np.array([d.month for d in days])[day]

    bases = [(category, title) for category, titles in TITLES.items() for title in titles]
    base = rng.integers(0, len(bases), n_rows)
    form = rng.choice(3, size=n_rows, p=[0.55, 0.35, 0.10])
    issue_no = rng.integers(1, 13, n_rows)
    participants = rng.integers(8, 200, n_rows)
    photos = rng.integers(0, 13, n_rows)
    by_name = rng.random(n_rows) < 0.05
    with_suffix = rng.random(n_rows) < 0.5

    # Re-uploaded rows: ~1 % of the rows repeat an earlier row exactly.
    n_dup = n_rows // 100
    if n_dup:
        target = rng.choice(np.arange(1, n_rows), size=n_dup, replace=False)
        source = (rng.random(n_dup) * target).astype(np.int64)
        for column in (unit, day, spelling, months, base, form, issue_no, participants, photos, by_name, with_suffix):
            column[target] = column[source]

    codes = roster["单位编码"].to_numpy(dtype=object)[unit]
    names = roster["单位名称"].to_numpy(dtype=object)[unit]
    towns = roster["所属乡镇"].to_numpy(dtype=object)[unit]
    shorts = roster["short"].to_numpy(dtype=object)[unit]
    is_station = (roster["单位类型"].to_numpy() == "站")[unit]

    base_titles = np.array([t for _, t in bases], dtype=object)
    base_categories = np.array([c for c, _ in bases], dtype=object)
    month_titles = np.array([[f"{m}月{t}" for t in base_titles] for m in range(1, 13)], dtype=object)
    issue_titles = np.array([[f"{t}（第{k}期）" for t in base_titles] for k in range(1, 13)], dtype=object)
    place = np.where(is_station, shorts, towns)
    own_titles = place + np.where(np.isin(base, [0, 1, 2]), "开展", "") + base_titles[base]
    titles = np.where(
        form == 0, month_titles[months - 1, base], np.where(form == 1, own_titles, issue_titles[issue_no - 1, base])
    )

    name_only = by_name & is_station
    unit_codes = np.where(name_only, "", codes)
    unit_names = np.where(name_only, towns + np.where(with_suffix, names, shorts), names)
    # A handful of rows carry codes not in the roster (refused as unknown_unit).
    n_bad = max(1, n_rows // 10_000)
    bad = rng.choice(n_rows, size=n_bad, replace=False)
    unit_codes[bad] = [f"T999-{i % 10:03d}" for i in range(n_bad)]

    return pd.DataFrame(
        {
            "单位编码": unit_codes,
            "单位名称": unit_names,
            "活动日期": spellings[spelling, day],
            "活动名称": titles,
            "活动类型": base_categories[base],
            "参与人数": participants,
            "图片数": photos,
        }
    )


def build_case(directory: Path, n_units: int, n_rows: int, n_towns: int = 0) -> tuple[Path, Path, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    roster = build_roster(n_units, rng, n_towns)
    activities = build_activities(roster, n_rows, rng)
    roster_path = directory / "roster.csv"
    activity_path = directory / "activities.csv"
    roster[ROSTER_HEADERS].to_csv(roster_path, index=False, encoding="utf-8")
    activities.to_csv(activity_path, index=False, encoding="utf-8")
    return roster_path, activity_path, roster


# --------------------------------------------------------------------------- baseline


def baseline_import(csv_path: Path, db_path: Path) -> tuple[float, float, int, int]:
    """pyarrow read + plain sqlite3 executemany; returns (seconds, CPU seconds, rows read, rows stored)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")  # the same pragmas monitor's engine sets
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE activity (unit_code TEXT, unit_name TEXT, date TEXT, title TEXT, category TEXT, "
        "participants INTEGER, photos INTEGER, UNIQUE (unit_code, date, title))"
    )
    start, cpu = time.perf_counter(), time.process_time()
    table = pacsv.read_csv(csv_path)
    columns = []
    for column in table.columns:
        if not (
            pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_integer(column.type)
        ):
            column = column.cast(pa.string())
        columns.append(column.to_pylist())
    records = list(zip(*columns, strict=True))
    connection.execute("BEGIN")
    before = connection.total_changes
    connection.executemany("INSERT INTO activity VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", records)
    stored = connection.total_changes - before
    connection.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    connection.close()
    return elapsed, cpu, len(records), stored


def pg_baseline_import(csv_path: Path, url: str) -> tuple[float, float, int, int]:
    """COPY of the file into a temporary table + INSERT ... ON CONFLICT DO NOTHING into a table with
    UNIQUE (unit code, date, title); returns (seconds, CPU seconds, rows read, rows stored)."""
    import psycopg

    with psycopg.connect(_libpq(url)) as connection:
        connection.execute(
            "CREATE TABLE activity (unit_code TEXT, unit_name TEXT, date TEXT, title TEXT, category TEXT, "
            "participants INTEGER, photos INTEGER, UNIQUE (unit_code, date, title))"
        )
        connection.commit()
        start, cpu = time.perf_counter(), time.process_time()
        connection.execute("CREATE TEMP TABLE activity_in (LIKE activity) ON COMMIT DROP")
        with connection.cursor() as cursor:
            with cursor.copy("COPY activity_in FROM STDIN (FORMAT csv, HEADER true)") as copy:
                with open(csv_path, "rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
            rows = cursor.execute("SELECT count(*) FROM activity_in").fetchone()[0]  # type: ignore[index]
            stored = cursor.execute("INSERT INTO activity SELECT * FROM activity_in ON CONFLICT DO NOTHING").rowcount
        connection.commit()
        return time.perf_counter() - start, time.process_time() - cpu, int(rows), int(stored)


def _libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def fresh_pg_database(url: str, name: str) -> str:
    """An empty database `name` on the server of `url` (dropped first if it exists); its URL."""
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


# --------------------------------------------------------------------------- monitor import (child process)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _child_import(url: str, data_dir: str, csv_path: str, profile_path: str, queue) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from monitor.ingest.importer import import_activities

    settings = Settings(database_url=url, data_dir=Path(data_dir), upload_limit_mb=LIMIT_MB)
    engine = get_engine(url)
    data = Path(csv_path).read_bytes()  # read once, outside the timing
    with Session(engine) as session:
        session.connection()  # open the connection outside the timing
        reset = _reset_peak()
        rss_before = _status_kib("VmRSS")
        hwm_before = _status_kib("VmHWM")
        profiler = None
        if profile_path:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start, cpu = time.perf_counter(), time.process_time()
        result = import_activities(
            session=session, actor=OPERATOR, data=data, file_name="activities.csv", settings=settings
        )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)
        hwm_after = _status_kib("VmHWM")
    queue.put(
        {
            "seconds": elapsed,
            "cpu_seconds": cpu,
            "rows": result.rows,
            "imported": result.imported,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "file_error": result.file_error.code if result.file_error else None,
            "reset": reset,
            "rss_before_kib": rss_before,
            "hwm_before_kib": hwm_before,
            "hwm_after_kib": hwm_after,
        }
    )


def _child_baseline(engine_name: str, csv_path: str, target: str, queue) -> None:  # type: ignore[no-untyped-def]
    if engine_name == "SQLite":
        queue.put(baseline_import(Path(csv_path), Path(target)))
    else:
        queue.put(pg_baseline_import(Path(csv_path), target))


def in_child(target: Callable[..., None], *args: object) -> object:
    """What `target(*args, queue)` puts on its queue, run in a fresh (spawned) interpreter: the
    baseline and monitor's import each start from the same state, and memory is measured alone."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    outcome = None
    while outcome is None:
        try:
            outcome = queue.get(timeout=1.0)
        except queue_module.Empty:
            if not process.is_alive():
                raise SystemExit(f"the bench's child process failed with exit code {process.exitcode}") from None
    process.join()
    return outcome


def monitor_import(url: str, data_dir: Path, csv_path: Path, profile_path: str) -> dict[str, object]:
    """import_activities in a fresh interpreter; its outcome with the child's whole-life peak memory."""
    outcome: dict[str, object] = in_child(_child_import, url, str(data_dir), str(csv_path), profile_path)  # type: ignore[assignment]
    # The whole life's peak: before the reset (the file read) or after it (the import).
    outcome["child_maxrss_kib"] = max(int(outcome["hwm_before_kib"]), int(outcome["hwm_after_kib"]))  # type: ignore[call-overload]
    return outcome


# --------------------------------------------------------------------------- latency


def median_seconds(func: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def settle(url: str) -> None:
    """The database as it stands once its background work after a bulk load is done, before the
    latencies are measured: PostgreSQL's VACUUM ANALYZE (what autovacuum does within a minute of a
    large insert, competing for the CPUs meanwhile) and a checkpoint; SQLite's WAL checkpoint."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")


def latencies(url: str, repeat: int, warm: bool = False) -> dict[str, tuple[float, list[float]]]:
    """measured_latencies in a fresh (spawned) interpreter, as a dashboard's server process runs
    them: not in the bench's own, which holds the generated case and whose garbage collections
    grow with it."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(measured_latencies, (url, repeat, warm))


def measured_latencies(url: str, repeat: int, warm: bool = False) -> dict[str, tuple[float, list[float]]]:
    """monitor.figures.metrics.report (with its JSON document) over 2025 and interviews at 2025-12;
    `warm`: each run once first, not timed."""
    from sqlmodel import Session

    engine = get_engine(url)
    freeze_long_lived()  # as the dashboard's server does once its database is ready

    def run_report() -> object:
        with Session(engine) as session:
            return metrics.report(
                session=session, query=Query(actor=OPERATOR, settings=RULES, start=f"{YEAR}-01", end=f"{YEAR}-12")
            ).to_json()

    def run_interviews() -> object:
        with Session(engine) as session:
            return metrics.interviews(
                session=session, query=Query(actor=OPERATOR, settings=RULES, start=f"{YEAR}-12", end=f"{YEAR}-12")
            )

    if warm:
        run_report(), run_interviews()
    return {"report": median_seconds(run_report, repeat), "interviews": median_seconds(run_interviews, repeat)}


# --------------------------------------------------------------------------- output


def mib(kib: float) -> float:
    return kib / 1024


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def yes(ok: bool) -> str:
    return "yes" if ok else "no"


def run_engine(
    engine_name: str,
    baseline_of: Callable[[int], str],
    url_of: Callable[[int], str],
    district_url: str,
    tmp: Path,
    roster_path: Path,
    csv_path: Path,
    profile_path: str,
    pairs: int,
) -> dict[str, object]:
    """The baseline and monitor's import, `pairs` times each in turn, then the latencies on one engine.
    `baseline_of(pair)` and `url_of(pair)` give each import a new database (a file or a URL).

    The two imports alternate, each in a fresh interpreter and into a fresh database: a machine
    whose speed drifts over minutes slows both sides of a pair alike, and the ratio reported is
    the median of the pairs' ratios.
    """
    if engine_name == "SQLite":
        baseline = "pyarrow `read_csv` + sqlite3 `executemany`"
    else:
        baseline = "`COPY` into a temporary table + `INSERT … ON CONFLICT DO NOTHING`"
    base_runs: list[tuple[float, float, int, int]] = []
    outcomes: list[dict[str, object]] = []
    roster_s = 0.0
    url = ""
    for pair in range(pairs):
        target = baseline_of(pair)
        base_runs.append(in_child(_child_baseline, engine_name, str(csv_path), target))  # type: ignore[arg-type]
        base_s, _, base_rows, base_stored = base_runs[-1]
        print(
            f"{engine_name} baseline {pair + 1}/{pairs}: {base_s:.2f} s, {base_rows / base_s:,.0f} rows/s "
            f"({base_stored:,} stored)",
            flush=True,
        )
        if engine_name == "SQLite":
            Path(target).unlink(missing_ok=True)
        url = url_of(pair)
        roster_s = load_roster(url, tmp, roster_path, engine_name)
        outcome = monitor_import(url, tmp / f"data-{engine_name}", csv_path, profile_path if pair == 0 else "")
        if outcome["file_error"]:
            raise SystemExit(f"monitor refused the file: {outcome}")
        outcomes.append(outcome)
        print(
            f"{engine_name} monitor {pair + 1}/{pairs}: {float(outcome['seconds']):.2f} s "  # type: ignore[arg-type]
            f"({outcome['imported']:,} stored, {outcome['duplicates']:,} duplicates, {outcome['rejected']:,} refused)",
            flush=True,
        )
    settle(url)  # the last pair's database
    province = latencies(url, repeat=5)
    print(f"{engine_name} province: " + ", ".join(f"{k} {fmt_ms(v[0])}" for k, v in province.items()), flush=True)
    demo_engine = get_engine(district_url)
    init_db(demo_engine, backups_dir=tmp / "backups")
    with Session(demo_engine) as session:
        demo = load_demo(session=session, actor=OPERATOR, store=FolderStore(tmp / f"photos-{engine_name}"))
    demo_engine.dispose()
    settle(district_url)
    district = latencies(district_url, repeat=9)
    print(f"{engine_name} district: " + ", ".join(f"{k} {fmt_ms(v[0])}" for k, v in district.items()), flush=True)
    return {
        "baseline": baseline,
        "base_runs": base_runs,
        "roster_s": roster_s,
        "outcomes": outcomes,
        "province": province,
        "district": district,
        "demo": demo,
    }


def load_roster(url: str, tmp: Path, roster_path: Path, engine_name: str) -> float:
    """A new database at `url` holding the case's roster (import_units); seconds taken."""
    from monitor.ingest.roster_file import import_units

    settings = Settings(database_url=url, data_dir=tmp / f"data-{engine_name}", upload_limit_mb=LIMIT_MB)
    engine = get_engine(url)
    init_db(engine, backups_dir=tmp / "backups")
    start = time.perf_counter()
    with Session(engine) as session:
        roster_result = import_units(
            session=session,
            actor=OPERATOR,
            data=roster_path.read_bytes(),
            file_name="roster.csv",
            settings=settings,
            today=datetime.now(settings.timezone).date(),
        )
    if roster_result.file_error or roster_result.errors:
        raise SystemExit(f"roster import failed: {roster_result.to_json()}")
    engine.dispose()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=None, help="units in the roster (default 30000; quick 3000)")
    parser.add_argument("--rows", type=int, default=None, help="activity rows (default 1000000; quick 100000)")
    parser.add_argument("--quick", action="store_true", help="a small case, for a run of under a minute")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run monitor's import under cProfile (bench/out/import.prof); its time is then inflated",
    )
    parser.add_argument("--sqlite-only", action="store_true", help=f"skip PostgreSQL even when {PG_ENV} is set")
    parser.add_argument(
        "--pairs", type=int, default=3, help="imports of each kind, baseline and monitor in turn (default 3)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    n_units = args.units or (3_000 if args.quick else 30_000)
    n_rows = args.rows or (100_000 if args.quick else 1_000_000)
    OUT.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    print(f"case: {n_units:,} units, {n_rows:,} activities over {YEAR}; work directory {tmp}", flush=True)
    start = time.perf_counter()
    roster_path, csv_path, roster = build_case(tmp, n_units, n_rows)
    size_mib = csv_path.stat().st_size / 2**20
    towns = roster["所属乡镇"].nunique() - 1
    print(
        f"generated in {time.perf_counter() - start:.1f} s: {towns} towns, activity file {size_mib:.0f} MiB", flush=True
    )
    profile_path = str(OUT / "import.prof") if args.profile else ""

    def sqlite_province(pair: int) -> str:
        for earlier in tmp.glob("province-*.db*"):  # one province database at a time on disk
            earlier.unlink()
        return f"sqlite:///{tmp / f'province-{pair}.db'}"

    engines: list[tuple[str, Callable[[int], str], Callable[[int], str], str]] = [
        ("SQLite", lambda pair: str(tmp / f"baseline-{pair}.db"), sqlite_province, f"sqlite:///{tmp / 'district.db'}")
    ]
    pg = os.environ.get(PG_ENV, "")
    if pg and not args.sqlite_only:
        engines.append(
            (
                "PostgreSQL",
                lambda _pair: fresh_pg_database(pg, "monitor_bench_baseline"),
                lambda _pair: fresh_pg_database(pg, "monitor_bench"),
                fresh_pg_database(pg, "monitor_bench_district"),
            )
        )
    results = {
        name: run_engine(name, baseline_of, url_of, district_url, tmp, roster_path, csv_path, profile_path, args.pairs)
        for name, baseline_of, url_of, district_url in engines
    }
    text = render(
        results, n_units=n_units, n_rows=n_rows, towns=towns, size_mib=size_mib, profiled=args.profile, pairs=args.pairs
    )
    print()
    print(text)
    (OUT / "results.md").write_text(text, encoding="utf-8")
    print(f"written to {OUT / 'results.md'}")
    if args.profile:
        import pstats

        stats = pstats.Stats(profile_path)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def render(
    results: dict[str, dict[str, object]],
    *,
    n_units: int,
    n_rows: int,
    towns: int,
    size_mib: float,
    profiled: bool,
    pairs: int,
) -> str:
    """The Markdown table and its notes."""
    rows = []
    notes = [
        f"Case: {n_units:,} units in {towns} towns (1 center, {towns} institutes, {n_units - 1 - towns:,} stations), "
        f"{n_rows:,} activity rows over {YEAR} ({size_mib:.0f} MiB CSV, UTF-8; ~5 % of rows name the unit "
        "instead of giving its code, ~8 % spell the date another way, ~1 % repeat an earlier row, "
        f"{max(1, n_rows // 10_000)} carry an unknown code). Seed {SEED}.",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.platform()}.",
    ]
    for name, r in results.items():
        outcomes: list[dict[str, object]] = r["outcomes"]
        base_runs: list[tuple[float, float, int, int]] = r["base_runs"]
        base_times = [run[0] for run in base_runs]
        mon_times = [float(o["seconds"]) for o in outcomes]  # type: ignore[arg-type]
        base_s, mon_s = statistics.median(base_times), statistics.median(mon_times)
        base_rate, mon_rate = int(base_runs[0][2]) / base_s, n_rows / mon_s
        # Each pair's ratio of throughputs (rows read by both: the file's), then their median.
        ratios = [(n_rows / m) / (int(b[2]) / b[0]) for b, m in zip(base_runs, mon_times, strict=True)]
        ratio = statistics.median(ratios)
        peaks = [mib(int(o["hwm_after_kib"]) - int(o["rss_before_kib"])) for o in outcomes]  # type: ignore[call-overload]
        peak = max(peaks)
        outcome = outcomes[-1]
        province: dict[str, tuple[float, list[float]]] = r["province"]
        district: dict[str, tuple[float, list[float]]] = r["district"]
        demo: dict[str, int] = r["demo"]
        rows += [
            (
                name,
                f"Baseline import: {r['baseline']}",
                f"{base_rate:,.0f} rows/s ({base_s:.1f} s, median)",
                "—",
                "—",
            ),
            (name, "monitor `import_activities`", f"{mon_rate:,.0f} rows/s ({mon_s:.1f} s, median)", "—", "—"),
            (
                name,
                f"Import throughput, monitor / baseline (median of {len(ratios)} pairs)",
                f"{ratio:.2f}",
                f"≥ {TARGET_RATIO[name]}",
                yes(ratio >= TARGET_RATIO[name]),
            ),
            (
                name,
                "Peak memory of the import (RSS increase, largest of the runs)",
                f"{peak:,.0f} MiB",
                "< 1 GiB",
                yes(peak < TARGET_MEMORY_MIB),
            ),
        ]
        for scale, size, figures, limit in (
            ("province", f"{n_units:,} units", province, TARGET_PROVINCE_S),
            ("district", f"{demo['units']} units", district, TARGET_DISTRICT_S[name]),
        ):
            for measure, label in (
                ("report", f"Report {YEAR}-01..{YEAR}-12"),
                ("interviews", f"Interviews at {YEAR}-12"),
            ):
                value = figures[measure][0]
                rows.append(
                    (name, f"{label}, {scale} ({size})", fmt_ms(value), f"< {limit * 1000:.0f} ms", yes(value < limit))
                )
        notes.append(
            f"{name}: baseline {r['baseline']} ({int(base_runs[-1][3]):,} rows stored). monitor: each time a fresh "
            f"database, the roster imported with import_units ({float(r['roster_s']):.1f} s, not timed), then "
            f"import_activities on the file's bytes, read before the timing ({outcome['imported']:,} stored, "
            f"{outcome['duplicates']:,} duplicates, {outcome['rejected']:,} refused). Pairs, baseline / monitor "
            "(s, CPU s in the child, ratio): "
            + "; ".join(
                f"{b[0]:.2f} ({b[1]:.1f}) / {m:.2f} ({float(o['cpu_seconds']):.1f}) = {q:.2f}"  # type: ignore[arg-type]
                for b, m, o, q in zip(base_runs, mon_times, outcomes, ratios, strict=True)
            )
            + ". Peak memory: the child's VmHWM after the import minus its VmRSS just before ("
            + ", ".join(f"{value:,.0f}" for value in peaks)
            + f" MiB; VmRSS before {mib(int(outcome['rss_before_kib'])):,.0f} MiB, whole-life peak "  # type: ignore[call-overload]
            + f"{mib(int(outcome['child_maxrss_kib'])):,.0f} MiB in the last run). Latency runs (ms): "  # type: ignore[call-overload]
            + "; ".join(
                f"{scale} {measure} " + ", ".join(f"{t * 1000:.0f}" for t in times)
                for scale, figures in (("province", province), ("district", district))
                for measure, (_, times) in figures.items()
            )
            + "."
        )
    notes += [
        "Throughput = rows in the file / wall-clock seconds (time.perf_counter). The baseline and monitor's import "
        f"run {pairs} times each, in turn (baseline, then monitor), each in a fresh (spawned) interpreter and into "
        "a fresh database of the engine; the ratio is the median of the pairs' ratios, the latencies are taken "
        "on the last pair's database.",
        "Latency: monitor.figures.metrics.report(...).to_json() and monitor.figures.metrics.interviews(...), "
        "each in a fresh "
        "Session; median of 5 runs at province scale (the database just filled) and of 9 at district scale "
        "(a second database loaded with monitor.demo.district.load_demo), each database settled first (PostgreSQL: "
        "VACUUM ANALYZE and CHECKPOINT, as autovacuum would within a minute; SQLite: a WAL checkpoint), "
        "each set of runs in a fresh process which, as the dashboard's server does once its database is ready, "
        "keeps what it holds by then out of the cycle collector's full passes (monitor.store.db.freeze_long_lived).",
    ]
    if profiled:
        notes.append("This run was profiled (cProfile), which inflates monitor's import time.")
    table = ["| Engine | Measure | Value | Target | Met |", "|---|---|---|---|---|"]
    table += [f"| {e} | {m} | {v} | {t} | {ok} |" for e, m, v, t, ok in rows]
    return "\n".join(table) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
