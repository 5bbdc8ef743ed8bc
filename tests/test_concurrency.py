"""Two town offices uploading overlapping logs at the same moment, from two OS processes."""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import date, timedelta
from pathlib import Path

import pytest
from factories import activities_csv, load_roster
from sqlmodel import Session, func, select

from monitor.core.config import Settings
from monitor.core.models import Activity, ImportBatch
from monitor.core.permissions import Actor
from monitor.ingest.importer import import_activities
from monitor.store.db import data_version, get_engine

TODAY = date(2026, 11, 26)
UNITS = ("ZX", "NJK-S", "NJK-YCT", "NJK-HP", "LX-S", "LX-HP")
SIZE, OVERLAP = 10_000, 5_000
ROUNDS = 3


def _rows(first: int, last: int) -> list[tuple[str, ...]]:
    """Distinct activities number first..last-1: unit, a day of 2025 and a title."""
    start = date(2025, 1, 1)
    return [
        (UNITS[i % len(UNITS)], "", "", (start + timedelta(days=i % 300)).isoformat(), f"活动{i}", "10")
        for i in range(first, last)
    ]


def _import_at_barrier(url: str, data_dir: str, name: str, data: bytes, barrier, results) -> None:
    """Run in a child process: wait for the other importer, then import."""
    try:
        settings = Settings(database_url=url, data_dir=Path(data_dir))
        with Session(get_engine(url)) as session:
            barrier.wait(timeout=60)
            result = import_activities(
                session=session,
                actor=Actor(name=name, role="reviewer"),
                data=data,
                file_name=name,
                settings=settings,
                today=TODAY,
            )
        results.put((name, result.imported, result.duplicates, len(result.errors), None))
    except Exception:  # the parent reports what escaped
        results.put((name, 0, 0, 0, traceback.format_exc()))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_overlapping_imports_at_the_same_moment_store_each_activity_once(
    session: Session, settings: Settings, round_: int
) -> None:
    load_roster(session, settings)
    # The second file holds the overlap in reverse order, as an office sorting newest first would send it.
    files = {
        "甲.csv": activities_csv(_rows(0, SIZE)),
        "乙.csv": activities_csv(list(reversed(_rows(SIZE - OVERLAP, 2 * SIZE - OVERLAP)))),
    }
    version = data_version(session)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(files)), context.Queue()
    workers = [
        context.Process(
            target=_import_at_barrier,
            args=(settings.database_url, str(settings.data_dir), name, data, barrier, results),
        )
        for name, data in files.items()
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert [o[4] for o in outcomes] == [None, None], "\n".join(o[4] or "" for o in outcomes)
    assert [w.exitcode for w in workers] == [0, 0]

    distinct = 2 * SIZE - OVERLAP
    imported = sum(o[1] for o in outcomes)
    assert (imported, sum(o[2] for o in outcomes), sum(o[3] for o in outcomes)) == (distinct, OVERLAP, 0)
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Activity)).one() == distinct
    titles = session.exec(select(Activity.title)).all()
    assert sorted(titles) == sorted(f"活动{i}" for i in range(distinct))
    batches = session.exec(
        select(ImportBatch.file_name, ImportBatch.status, ImportBatch.imported)
        .where(ImportBatch.kind == "activities")
        .order_by(ImportBatch.file_name)
    ).all()
    assert [(b[0], b[1]) for b in batches] == [("乙.csv", "imported"), ("甲.csv", "imported")]
    assert {(b[0], b[2]) for b in batches} == {(o[0], o[1]) for o in outcomes}
    assert data_version(session) == version + 2
