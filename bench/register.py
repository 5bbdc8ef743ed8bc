"""Benchmark of 活动登记: one activity saved with three 4 MB phone photos, on SQLite and on PostgreSQL.

Run from the project root:

    python bench/register.py                # SQLite; PostgreSQL too when MONITOR_BENCH_DATABASE_URL is set
    python bench/register.py --pg URL       # PostgreSQL on the server of URL, in a schema of its own
    python bench/register.py --profile      # and a cProfile of one more save on SQLite, after its timed saves

The target: a save (monitor.ingest.register.register_activity) in under 3 s.

One run does, in this order:

1. draws three phone photos once (seeded): a scene of monitor.demo.photos at 4000 × 3000 with
   sensor-like grain, JPEG quality 92 (about 4 MB each) with an EXIF DateTimeOriginal on the
   activity's day;
2. for each engine, a fresh database (PostgreSQL: a schema of its own, search_path, dropped
   afterwards) holding the demo district's roster (monitor.demo.district.build_roster, 260 units),
   and a FolderStore in a temporary directory;
3. one warm-up save, then --runs rounds (5), each on its own copies of the three photos (a JPEG
   comment with the round's number: new SHA-256, so every save writes its files): the raw
   baseline, the save, the form's preview (preview_photos). Each save registers an activity of
   its own title, as a town clerk of its township, in a fresh Session on an engine whose pool is
   already connected. The baseline, in the same process: each photo hashed (SHA-256), opened,
   decoded at the reduced scale describe decodes it at and thumbnailed with Pillow, written to a
   file (fsync, as a durable save must), then one plain INSERT of the activity committed through
   the driver (sqlite3 with the engine's pragmas, psycopg); the ratio is the median of the
   rounds' save / baseline;
4. a Markdown table printed and written to bench/out/register.md.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from PIL import Image
from sqlalchemy import func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.core.config import Settings  # noqa: E402
from monitor.core.models import Activity, Photo  # noqa: E402
from monitor.core.permissions import Actor  # noqa: E402
from monitor.demo.district import build_roster  # noqa: E402
from monitor.demo.photos import draw_photo  # noqa: E402
from monitor.ingest.register import register_activity  # noqa: E402
from monitor.ingest.register_check import Entry, preview_photos  # noqa: E402
from monitor.ingest.roster_plan import upsert_units  # noqa: E402
from monitor.store.db import get_engine, init_db  # noqa: E402

OPERATOR = Actor(name="bench", role="admin")
OUT = ROOT / "bench" / "out"
PG_ENV = "MONITOR_BENCH_DATABASE_URL"
SEED = 20261207
TODAY = date(2026, 12, 7)
DAY = date(2026, 12, 5)  # the activity's day: this month, not locked
UNIT = "NJK-YCT"  # a station of the demo district (油草塘村)
TITLE = "理论宣讲进村"
PHOTO_SIZE = (4000, 3000)  # 12 megapixels, as a phone's main camera saves them
PHOTO_QUALITY = 92
GRAIN = 7.0  # standard deviation of the grain, in 8-bit levels
DRAFT = (1024, 1024)  # the reduced decode of monitor.evidence.images.describe
THUMB = (480, 480)
TARGET_S = 3.0

_MAKE, _MODEL, _EXIF_IFD, _DATE_TIME_ORIGINAL = 0x010F, 0x0110, 0x8769, 0x9003


# --------------------------------------------------------------------------- the photos


def phone_photo(seed: int, taken_at: datetime) -> bytes:
    """A 4000 × 3000 JPEG as a phone saves it: a drawn scene with grain, quality 92, EXIF with the camera time."""
    scene = Image.open(io.BytesIO(draw_photo(seed=seed, title=TITLE, taken_at=taken_at, size=PHOTO_SIZE)))
    pixels = np.asarray(scene.convert("RGB"), dtype=np.float32)
    rng = np.random.default_rng(seed)
    grain = rng.normal(0.0, GRAIN, size=(*pixels.shape[:2], 1)).astype(np.float32)
    grain = grain + rng.normal(0.0, GRAIN / 2, size=pixels.shape).astype(np.float32)
    noisy = Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[_MAKE], exif[_MODEL] = "HUAWEI", "示例手机"
    exif.get_ifd(_EXIF_IFD)[_DATE_TIME_ORIGINAL] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=PHOTO_QUALITY, exif=exif)
    return out.getvalue()


def draw_photos() -> list[tuple[str, bytes]]:
    rng = random.Random(SEED)
    photos = []
    for k in range(3):
        taken_at = datetime.combine(DAY, datetime.min.time()).replace(hour=9, minute=rng.randint(0, 59))
        photos.append((f"IMG_20261205_09{k:02d}.jpg", phone_photo(SEED + k, taken_at)))
    return photos


def variant(data: bytes, mark: str) -> bytes:
    """The same picture with a JPEG comment after its application segments (JFIF, EXIF): new bytes, the
    same decoding work."""
    end = 2
    while data[end] == 0xFF and 0xE0 <= data[end + 1] <= 0xEF:
        end += 2 + int.from_bytes(data[end + 2 : end + 4], "big")
    comment = mark.encode()
    return data[:end] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[end:]


def round_photos(photos: list[tuple[str, bytes]], mark: str) -> list[tuple[str, bytes]]:
    return [(name, variant(data, mark)) for name, data in photos]


# --------------------------------------------------------------------------- the databases


def pg_schema_url(base: str, schema: str) -> str:
    with get_engine(base).begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def drop_pg_schema(base: str, schema: str) -> None:
    with get_engine(base).begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def server_version(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar()).split()[0]


def load_roster(engine: Engine) -> tuple[int, str]:
    """The demo district's roster into a fresh database; (units, the benched unit's township)."""
    units = build_roster(random.Random(SEED))
    with Session(engine) as session:
        upsert_units(session, [dict(u) for u in units], by=OPERATOR.name, from_month="")
        session.commit()
    town = next(str(u["town"]) for u in units if u["code"] == UNIT)
    return len(units), town


RAW_TABLE = (
    "CREATE TABLE raw_activity (id {key}, unit_code TEXT NOT NULL, date TEXT NOT NULL, title TEXT NOT NULL, "
    "category TEXT, participants INTEGER, location TEXT, photos INTEGER, UNIQUE (unit_code, date, title))"
)
RAW_INSERT = (
    "INSERT INTO raw_activity (unit_code, date, title, category, participants, location, photos) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
)


class RawWriter:
    """The baseline's database side: one plain INSERT committed through the driver, on a connection
    opened before the timing (as the engine's pool is)."""

    def __init__(self, url: str, directory: Path) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.connection: Any = sqlite3.connect(directory / "raw.db", isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")  # the pragmas of monitor's engine
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute(RAW_TABLE.format(key="INTEGER PRIMARY KEY"))
            self.mark = "?"
        else:
            import psycopg

            self.connection = psycopg.connect(
                make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            )
            self.connection.execute(RAW_TABLE.format(key="SERIAL PRIMARY KEY"))
            self.connection.commit()
            self.mark = "%s"

    def insert(self, entry: Entry, photos: int) -> None:
        values = (UNIT, str(entry.day), entry.title, entry.category, entry.participants, entry.location, photos)
        if self.sqlite:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute(RAW_INSERT.format(p=self.mark), values)
            self.connection.execute("COMMIT")
        else:
            self.connection.execute(RAW_INSERT.format(p=self.mark), values)
            self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def baseline(photos: list[tuple[str, bytes]], folder: Path, writer: RawWriter, entry: Entry) -> None:
    """What a save cannot avoid: each photo hashed, decoded and thumbnailed, written to disk; one INSERT."""
    for _name, data in photos:
        digest = hashlib.sha256(data).hexdigest()
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", DRAFT)
            image.load()
            image.thumbnail(THUMB)
        with open(folder / digest, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    writer.insert(entry, len(photos))


# --------------------------------------------------------------------------- measuring


@dataclass
class Round:
    save: float
    save_cpu: float
    baseline: float
    preview: float


def clocked(action: Callable[[], object]) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds of this process, and what `action` gave."""
    start, cpu = time.perf_counter(), time.process_time()
    done = action()
    return time.perf_counter() - start, time.process_time() - cpu, done


def measure(
    name: str, url: str, tmp: Path, photos: list[tuple[str, bytes]], runs: int, profile: bool
) -> dict[str, Any]:
    """The warm-up save and `runs` rounds of baseline, save and preview on one engine."""
    engine = get_engine(url)
    work = tmp / name.lower()
    work.mkdir()
    init_db(engine, backups_dir=work / "backups")
    units, town = load_roster(engine)
    settings = Settings(database_url=url, data_dir=work / "data")
    clerk = Actor(name=f"{town}经办人", role="town", town=town)
    raw_folder = work / "raw"
    raw_folder.mkdir()
    writer = RawWriter(url, work)
    with engine.connect():
        pass  # the pool connected before the timing

    def entry(n: int) -> Entry:
        return Entry(DAY, f"{TITLE}（第{n}场）", "理论宣讲", 40 + n, "村部会议室")

    def save(n: int, shots: list[tuple[str, bytes]]) -> object:
        with Session(engine) as session:
            return register_activity(
                session=session, actor=clerk, settings=settings, unit=UNIT, entry=entry(n), photos=shots, today=TODAY
            )

    def check(done: object) -> None:
        if getattr(done, "photos", None) != len(photos):
            raise SystemExit(f"{name}: the save did not store what it was given: {done}")

    shots = round_photos(photos, f"{name} warm-up")
    first, _, done = clocked(lambda: save(0, shots))
    check(done)
    rounds = []
    try:
        for n in range(1, runs + 1):
            shots = round_photos(photos, f"{name} round {n}")
            base, _, _ = clocked(lambda: baseline(shots, raw_folder, writer, entry(n)))  # noqa: B023
            seconds, cpu, done = clocked(lambda: save(n, shots))  # noqa: B023
            check(done)
            previewed, _, shown = clocked(lambda: preview_photos(shots, settings))  # noqa: B023
            if [p.problem for p in shown] != [""] * len(shots):  # type: ignore[attr-defined]
                raise SystemExit(f"{name}: the preview refused a photo: {shown}")
            rounds.append(Round(seconds, cpu, base, previewed))
            print(
                f"{name} round {n}/{runs}: save {seconds:.2f} s (CPU {cpu:.2f} s), baseline {base:.2f} s, "
                f"preview {previewed:.2f} s",
                flush=True,
            )
    finally:
        writer.close()
    with Session(engine) as session:
        activities = session.exec(select(func.count()).select_from(Activity)).one()
        linked = session.exec(select(func.count()).select_from(Photo)).one()
    files = sum(1 for path in (work / "data").rglob("*") if path.is_file())
    if (activities, linked, files) != (runs + 1, 3 * (runs + 1), 6 * (runs + 1)):
        raise SystemExit(f"{name}: stored {activities} activities, {linked} photo rows, {files} files")
    if profile:
        shots = round_photos(photos, f"{name} profiled")
        profile_save(lambda: save(runs + 1, shots), OUT / "register.prof")
    version = sqlite3.sqlite_version if name == "SQLite" else server_version(engine)
    engine.dispose()
    return {"first": first, "rounds": rounds, "units": units, "town": town, "version": version}


def profile_save(action: Callable[[], object], path: Path) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(r"monitor/", 30)
    stats.sort_stats("tottime").print_stats(20)


# --------------------------------------------------------------------------- the table


def code_identity() -> str:
    """The commit, and a digest of the measured modules as the working tree holds them (they may be uncommitted)."""
    import subprocess

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    digests = ", ".join(
        f"{path.rsplit('/', 1)[-1]} {hashlib.sha256((ROOT / path).read_bytes()).hexdigest()[:10]}"
        for path in ("monitor/ingest/register.py", "monitor/ingest/register_check.py", "monitor/evidence/images.py")
    )
    return f"commit {head.stdout.strip() or '?'}; working tree's {digests} (SHA-256 prefixes)"


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def runs_text(times: list[float]) -> str:
    return ", ".join(f"{t * 1000:.0f}" for t in times)


def table(engines: dict[str, dict[str, Any]], runs: int) -> list[str]:
    def cells(render: Callable[[list[Round], dict[str, Any]], str]) -> list[str]:
        return [
            render(engines[name]["rounds"], engines[name]) if name in engines else "not run"
            for name in ("SQLite", "PostgreSQL")
        ]

    def median(rounds: list[Round], key: str) -> float:
        return statistics.median(getattr(r, key) for r in rounds)

    def met(value: Callable[[list[Round]], float]) -> str:
        return "yes" if all(value(figures["rounds"]) < TARGET_S for figures in engines.values()) else "no"

    def slowest(rounds: list[Round]) -> float:
        return max(r.save for r in rounds)

    rows = [
        (
            f"Save: `register_activity`, one activity with 3 photos (median of {runs})",
            *cells(lambda r, _: ms(median(r, "save"))),
            "< 3 s",
            met(lambda r: median(r, "save")),
        ),
        (f"Save, slowest of {runs}", *cells(lambda r, _: ms(slowest(r))), "< 3 s", met(slowest)),
        ("First save in the process (warm-up, not in the above)", *cells(lambda _, f: ms(f["first"])), "—", "—"),
        (
            "Baseline: 3 photos hashed, decoded, thumbnailed, written (fsync); one INSERT",
            *cells(lambda r, _: ms(median(r, "baseline"))),
            "—",
            "—",
        ),
        (
            f"Save / baseline (median of the {runs} rounds' ratios)",
            *cells(lambda r, _: f"{statistics.median(x.save / x.baseline for x in r):.2f}"),
            "—",
            "—",
        ),
        (
            f"Preview: `preview_photos` of the 3 photos (median of {runs})",
            *cells(lambda r, _: ms(median(r, "preview"))),
            "—",
            "—",
        ),
    ]
    lines = ["| Measure | SQLite | PostgreSQL | Target | Met |", "|---|---|---|---|---|"]
    return lines + [f"| {' | '.join(row)} |" for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get(PG_ENV, ""), help=f"a PostgreSQL URL (default: ${PG_ENV})")
    parser.add_argument("--runs", type=int, default=5, help="timed saves per engine, after one warm-up (default 5)")
    parser.add_argument("--profile", action="store_true", help="cProfile one more save on SQLite after its timed saves")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    runs = max(1, args.runs)
    began = time.perf_counter()
    load_before = load_average()
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-register-"))
    schema = f"bench_register_{os.getpid()}"

    start = time.perf_counter()
    photos = draw_photos()
    sizes = [len(data) for _, data in photos]
    print(
        f"photos: {', '.join(f'{s / 1e6:.2f} MB' for s in sizes)} ({PHOTO_SIZE[0]}×{PHOTO_SIZE[1]}), "
        f"drawn in {time.perf_counter() - start:.1f} s",
        flush=True,
    )

    urls = {"SQLite": f"sqlite:///{tmp / 'monitor.db'}"}
    if args.pg:
        urls["PostgreSQL"] = pg_schema_url(args.pg, schema)
    engines: dict[str, dict[str, Any]] = {}
    try:
        for name, url in urls.items():
            engines[name] = measure(name, url, tmp, photos, runs, args.profile and name == "SQLite")
    finally:
        if args.pg:
            get_engine(urls["PostgreSQL"]).dispose()
            drop_pg_schema(args.pg, schema)
            get_engine(args.pg).dispose()

    sqlite_figures = engines["SQLite"]
    notes = [
        f"Photos: three JPEGs of {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} pixels, "
        + ", ".join(f"{s / 1e6:.2f}" for s in sizes)
        + f" MB (a drawn scene of monitor.demo.photos with grain of σ {GRAIN:g} levels, quality {PHOTO_QUALITY}, "
        f"EXIF DateTimeOriginal on {DAY}); seed {SEED}. Each round saves its own copies (a JPEG comment "
        "with the round's number), so every save writes its six files (originals and thumbnails).",
        f"Database: a fresh one per engine holding the demo district's roster ({sqlite_figures['units']} units); "
        f"each save registers {UNIT}'s activity of {DAY} with a title of its own, as a town clerk of "
        f"{sqlite_figures['town']}, today {TODAY}; photo files in a FolderStore on the local disk.",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        + ", ".join(f"{name} {figures['version']}" for name, figures in engines.items())
        + f"; load average (1 / 5 / 15 min) {load_before} at the start, {load_average()} at the end. "
        + f"Code: {code_identity()}.",
        "Each figure: wall clock (time.perf_counter); a save in a fresh Session on an engine whose pool is "
        "already connected, the photos' bytes in memory as an upload hands them over. Baseline, in the same "
        "process and round: each photo's SHA-256, Image.open + draft to "
        f"{DRAFT[0]} px (as describe decodes) + load + thumbnail to {THUMB[0]} px, the original written to a "
        "file with fsync, then one plain INSERT committed through the driver (sqlite3 with WAL and "
        "synchronous=NORMAL; psycopg). Preview: monitor.ingest.register_check.preview_photos of the three photos, "
        "no database.",
        "Runs (ms): "
        + "; ".join(
            f"{name} save {runs_text([r.save for r in figures['rounds']])} "
            f"(CPU {runs_text([r.save_cpu for r in figures['rounds']])}), "
            f"baseline {runs_text([r.baseline for r in figures['rounds']])}, "
            f"preview {runs_text([r.preview for r in figures['rounds']])}"
            for name, figures in engines.items()
        )
        + ".",
    ]
    if not args.pg:
        notes.append(f"PostgreSQL not run: no --pg URL and {PG_ENV} is not set.")
    if args.profile:
        notes.append("The profiled save ran after the SQLite timings and does not affect them.")
    notes.append(f"Whole run: {time.perf_counter() - began:.0f} s.")
    report = "\n".join(table(engines, runs)) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print()
    print(report)
    (OUT / "register.md").write_text(report, encoding="utf-8")
    print(f"written to {OUT / 'register.md'}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
