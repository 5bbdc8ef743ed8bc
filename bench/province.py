"""The figures of a province shaped as a real one: 30,000 units in 2,000 townships, 1,000,000
activities over 2025, on SQLite and on PostgreSQL (when MONITOR_TEST_DATABASE_URL names a server;
its databases monitor_bench_province and monitor_bench_district are replaced).

    python bench/province.py            # the province and the demo district (a few minutes)
    python bench/province.py --quick    # 3,000 units in 200 townships, 100,000 activities

bench/bench.py measures the import against a raw baseline on a case of 300 townships; this one
measures what grows with the number of townships: the province report (its document, with one
row per township) and the interview list, each in a fresh process as the dashboard's server
runs them (median of 5 after a warm-up), then where their time goes, part by part. The same for
the demo district (260 units). The case is bench/bench.py's, with the townships set; each
engine's database is loaded by monitor's own roster and activity import and settled first.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench  # noqa: E402

TARGETS_MS = {"province": 100.0, "district": 10.0}
MONTHS = [f"{bench.YEAR}-{m:02d}" for m in range(1, 13)]


def parts(url: str, repeat: int) -> dict[str, float]:
    """Median ms of each part of the report and of the interview list, called one by one in this
    process (the same calls report_doc and due_units make, in their order)."""
    import numpy as np
    from sqlmodel import Session

    from monitor.counts import townmonths
    from monitor.figures import metrics, summary
    from monitor.roster.grids import active_grid, quota_grid
    from monitor.store.db import collector_paused, freeze_long_lived, get_engine

    engine = get_engine(url)
    freeze_long_lived()
    session = Session(engine)
    units = townmonths.roster(session)
    ids = units["id"].to_numpy()
    query = bench.Query(actor=bench.OPERATOR, settings=bench.RULES, start=MONTHS[0], end=MONTHS[-1])
    due = metrics.interviews(session=session, query=query.over(MONTHS[-1], MONTHS[-1]))
    due_ids = np.sort(due["id"].to_numpy(dtype="int64"))
    wanted = np.ones(len(ids), dtype=bool)
    report = metrics.report(session=session, query=query)
    steps: dict[str, Callable[[], object]] = {
        "roster (one row per township and type)": lambda: townmonths.roster(session),
        "quota and active grids (units × 12 months)": lambda: (
            quota_grid(session=session, units=units, months=MONTHS),
            active_grid(units, MONTHS),
        ),
        "report: township sums (two aggregates)": lambda: summary._sums(session, MONTHS, town=None, unit_type=None),
        "report: the document copied for the caller": report.to_json,
        "interviews: the last month's counts, all units": lambda: summary._held(session, MONTHS[-1], ids, wanted),
        f"interviews: details of the {len(due_ids):,} units due": lambda: summary._details(session, due_ids),
        "interviews: the list ordered": lambda: summary.interview_list(due, MONTHS),
    }
    out = {}
    for name, step in steps.items():
        with collector_paused():
            out[name] = bench.median_seconds(step, repeat)[0] * 1000
    walks = [_walk(session) for _ in range(repeat)]
    out["interviews: the walk back, every month read"] = statistics.median(ms for ms, _ in walks)
    out["interviews: months walked back"] = float(walks[0][1])
    out["interviews: rows in the list"] = float(len(due))
    session.close()
    return out


def _walk(session: object) -> tuple[float, int]:
    """ms spent reading months in one due_units at the last month, and how many months it read."""
    from monitor.figures import summary
    from monitor.store.db import collector_paused

    spent, calls = 0.0, 0
    held = summary._held

    def timed(*args: object, **kwargs: object) -> object:
        nonlocal spent, calls
        start = time.perf_counter()
        try:
            return held(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent, calls = spent + time.perf_counter() - start, calls + 1

    summary._held = timed  # type: ignore[assignment]
    try:
        with collector_paused():
            summary.due_units(session=session, months=MONTHS, min_streak=2, town=None, unit_type=None)  # type: ignore[arg-type]
    finally:
        summary._held = held
    return spent * 1000, calls


def in_fresh_process(func: Callable[..., object], *args: object) -> object:
    """func(*args) in a spawned interpreter, as a server process runs it."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(func, args)


def load_province(url: str, tmp: Path, roster_path: Path, csv_path: Path, engine_name: str) -> dict[str, float]:
    """The roster, then the activities, by monitor's own import; the database settled."""
    roster_s = bench.load_roster(url, tmp, roster_path, engine_name)
    outcome = bench.monitor_import(url, tmp / f"data-{engine_name}", csv_path, "")
    if outcome["file_error"]:
        raise SystemExit(f"monitor refused the file: {outcome}")
    bench.settle(url)
    return {"roster_s": roster_s, "import_s": float(outcome["seconds"]), "stored": float(outcome["imported"])}  # type: ignore[arg-type]


def load_district(url: str, tmp: Path, engine_name: str) -> None:
    from sqlmodel import Session

    from monitor.demo.district import load_demo
    from monitor.evidence.photo_store import FolderStore
    from monitor.store.db import get_engine, init_db

    engine = get_engine(url)
    init_db(engine, backups_dir=tmp / "backups")
    with Session(engine) as session:
        load_demo(session=session, actor=bench.OPERATOR, store=FolderStore(tmp / f"photos-{engine_name}"))
    engine.dispose()
    bench.settle(url)


def run_engine(
    name: str, province_url: str, district_url: str, tmp: Path, case: tuple[Path, Path]
) -> dict[str, object]:
    loaded = load_province(province_url, tmp, *case, name)
    print(f"{name}: loaded in {loaded['roster_s'] + loaded['import_s']:.1f} s", flush=True)
    province = bench.latencies(province_url, repeat=5, warm=True)
    breakdown: dict[str, float] = in_fresh_process(parts, province_url, 5)  # type: ignore[assignment]
    load_district(district_url, tmp, name)
    district = bench.latencies(district_url, repeat=9, warm=True)
    for scale, figures in (("province", province), ("district", district)):
        print(f"{name} {scale}: " + ", ".join(f"{k} {v[0] * 1000:.1f} ms" for k, v in figures.items()), flush=True)
    return {"loaded": loaded, "province": province, "district": district, "parts": breakdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=None, help="units (default 30000; quick 3000)")
    parser.add_argument("--towns", type=int, default=None, help="townships (default 2000; quick 200)")
    parser.add_argument("--rows", type=int, default=None, help="activity rows (default 1000000; quick 100000)")
    parser.add_argument("--quick", action="store_true", help="a small case, for a run of about a minute")
    parser.add_argument("--sqlite-only", action="store_true", help=f"skip PostgreSQL even when {bench.PG_ENV} is set")
    args = parser.parse_args(argv)
    n_units = args.units or (3_000 if args.quick else 30_000)
    n_towns = args.towns or (200 if args.quick else 2_000)
    n_rows = args.rows or (100_000 if args.quick else 1_000_000)
    bench.OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="monitor-province-"))
    roster_path, csv_path, roster = bench.build_case(tmp, n_units, n_rows, n_towns)
    towns = roster["所属乡镇"].nunique() - 1
    print(f"case: {n_units:,} units in {towns:,} townships, {n_rows:,} activities; work directory {tmp}", flush=True)

    engines = [("SQLite", f"sqlite:///{tmp / 'province.db'}", f"sqlite:///{tmp / 'district.db'}")]
    pg = os.environ.get(bench.PG_ENV, "")
    if pg and not args.sqlite_only:
        engines.append(
            (
                "PostgreSQL",
                bench.fresh_pg_database(pg, "monitor_bench_province"),
                bench.fresh_pg_database(pg, "monitor_bench_district"),
            )
        )
    results = {name: run_engine(name, p, d, tmp, (roster_path, csv_path)) for name, p, d in engines}
    text = render(results, n_units=n_units, towns=towns, n_rows=n_rows)
    print()
    print(text)
    (bench.OUT / "province.md").write_text(text, encoding="utf-8")
    print(f"written to {bench.OUT / 'province.md'}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def render(results: dict[str, dict[str, object]], *, n_units: int, towns: int, n_rows: int) -> str:
    """The latency table, the table of parts and the notes, in Markdown."""
    table = ["| Engine | Measure | Median | Runs (ms) | Target | Met |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        for scale in ("province", "district"):
            figures: dict[str, tuple[float, list[float]]] = r[scale]  # type: ignore[assignment]
            for measure, (median, runs) in figures.items():
                ms = median * 1000
                target = TARGETS_MS[scale]
                table.append(
                    f"| {name} | {measure}, {scale} | {ms:.1f} ms | {', '.join(f'{t * 1000:.0f}' for t in runs)} "
                    f"| < {target:.0f} ms | {'yes' if ms < target else 'no'} |"
                )
    names = list(results)
    parts_table = ["| Part (province) | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    first: dict[str, float] = results[names[0]]["parts"]  # type: ignore[assignment]
    for part in first:
        values = [results[n]["parts"][part] for n in names]  # type: ignore[index]
        counted = part.endswith(("rows in the list", "months walked back"))
        parts_table.append(
            f"| {part} | " + " | ".join(f"{v:,.0f}" if counted else f"{v:.1f} ms" for v in values) + " |"
        )
    notes = [
        f"Case: {n_units:,} units in {towns:,} townships (1 center, {towns:,} institutes, "
        f"{n_units - 1 - towns:,} stations), {n_rows:,} activity rows over {bench.YEAR}, seed {bench.SEED} "
        "(bench/bench.py's generator with the townships set).",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.platform()}.",
        "Latency: metrics.report(...).to_json() over 2025 and metrics.interviews(...) at 2025-12, each in a fresh "
        "Session, in a fresh process that keeps what it holds out of the cycle collector (as the server does); "
        "median of 5 runs after a warm-up (province), of 9 (district).",
        "Parts: each called alone, median of 5; they add up to about the whole, less the calls' own glue.",
    ]
    for name, r in results.items():
        loaded: dict[str, float] = r["loaded"]  # type: ignore[assignment]
        notes.append(
            f"{name}: loaded by import_units ({loaded['roster_s']:.1f} s) and import_activities "
            f"({loaded['import_s']:.1f} s, {loaded['stored']:,.0f} activities stored), then settled."
        )
    return "\n".join(table) + "\n\n" + "\n".join(parts_table) + "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
