"""The data version that page caches are keyed on moves with every write, once per write."""

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session

from monitor.store.db import bump_version, data_version, get_engine


def test_each_bump_moves_the_version_by_one(settings):
    engine = get_engine(settings.database_url)
    with Session(engine) as s:
        start = data_version(s)
        bump_version(s)
        s.commit()
        bump_version(s)
        s.commit()
    with Session(engine) as other:
        assert data_version(other) == start + 2


def test_writers_at_the_same_moment_each_move_the_version(settings):
    engine = get_engine(settings.database_url)
    with Session(engine) as s:
        start = data_version(s)

    def write(_: int) -> None:
        with Session(engine) as s:
            bump_version(s)
            s.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(20)))
    with Session(engine) as s:
        assert data_version(s) == start + 20
