"""How long the preview of a township's half-year ledger takes: a 5,000-row workbook in under 1 s.

The workbook is laid out as a township keeps it: a title row, a two-row header (参与人数 over
群众 / 志愿者), and each station's name merged down over its rows of the month. It is previewed
(dry run) on a fresh SQLite database holding the township's roster; the first run pays for
imports and caches, so it is shown apart from the best of the others. Not a pytest test: a timing
on a shared machine is a measurement, not a pass/fail.

    .venv/bin/python tests/office/bench_preview.py [ROWS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from factories import OPERATOR, SMALL_ROSTER, TODAY, load_roster  # noqa: E402
from sqlmodel import Session  # noqa: E402

from monitor.core.config import Settings  # noqa: E402
from monitor.ingest.importer import import_activities  # noqa: E402
from monitor.store.db import get_engine, init_db  # noqa: E402
from tests.office.corpus import Sheet, xls, xlsx  # noqa: E402

LIMIT_SECONDS = 1.0
FIRST = "长新石大青白金高龙凤"
SECOND = "塘桥山坪湾溪"
STATIONS = [f"{a}{b}村" for a in FIRST for b in SECOND][:24]
THEMES = ["理论宣讲", "志愿服务", "移风易俗", "文体活动", "科普宣传", "法治宣传", "卫生健康"]
TITLE = "泥江口镇2026年1-6月新时代文明实践活动台账"


def roster() -> list[dict[str, object]]:
    extra = [
        {"code": f"NJK-B{i:02d}", "name": f"{name}新时代文明实践站", "type": "站", "town": "泥江口镇"}
        for i, name in enumerate(STATIONS, 1)
    ]
    return [*SMALL_ROSTER, *extra]


def ledger(rows: int) -> Sheet:
    """`rows` activities of the township's stations, January to June, one merged unit cell per station-month."""
    s = Sheet("台账")
    s.add(TITLE)
    s.across(1, 1, 8)
    top = s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", None, "活动地点")
    sub = s.add(None, None, None, None, None, "群众", "志愿者", None)
    for c in (1, 2, 3, 4, 5, 8):
        s.down(c, top, sub)
    s.across(top, 6, 7)
    per_group = -(-rows // (len(STATIONS) * 6))  # activities per station and month
    n = 0
    for month in range(1, 7):
        for station in STATIONS:
            first = 0
            for k in range(per_group):
                if n == rows:
                    break
                n += 1
                day = 1 + k % 28
                theme = THEMES[(n + k) % len(THEMES)]
                r = s.add(
                    n,
                    station if k == 0 else None,
                    datetime(2026, month, day),
                    f"{theme}活动第{k + 1}场",
                    theme,
                    20 + n % 60,
                    n % 12,
                    f"{station}村部",
                )
                first = first or r
            if first:
                s.down(2, first, r)
    return s


def preview(data: bytes, name: str, settings: Settings) -> tuple[float, int, int]:
    with Session(get_engine(settings.database_url)) as session:
        started = time.perf_counter()
        result = import_activities(
            session=session,
            actor=OPERATOR,
            data=data,
            file_name=name,
            settings=settings,
            today=TODAY,
            dry_run=True,
        )
        elapsed = time.perf_counter() - started
    if result.file_error is not None:
        raise SystemExit(f"{name}: {result.file_error.message}")
    return elapsed, result.imported, len(result.errors)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sheet = ledger(rows)
    files = {"xlsx": xlsx([sheet]), "xls": xls([sheet])}
    print(f"{rows} activities, {len(sheet.merges)} merged ranges, title row and two-row header")
    for ext, data in files.items():
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'monitor.db'}", data_dir=Path(tmp) / "data")
            init_db(get_engine(settings.database_url))
            with Session(get_engine(settings.database_url)) as session:
                load_roster(session, settings, roster())
            runs = [preview(data, f"泥江口镇2026年上半年台账.{ext}", settings) for _ in range(4)]
        best = min(t for t, _, _ in runs[1:])
        _, imported, refused = runs[0]
        verdict = "ok" if best < LIMIT_SECONDS else f"over {LIMIT_SECONDS:.0f} s"
        print(
            f"{ext:5} {len(data) / 1024:7.0f} KiB  first {runs[0][0]:.2f} s  best {best:.2f} s  ({verdict})"
            f"  would store {imported}, refuse {refused}"
        )


if __name__ == "__main__":
    main()
