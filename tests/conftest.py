"""Fixtures: a fresh database per test on SQLite and, when MONITOR_TEST_DATABASE_URL is set, PostgreSQL.

PostgreSQL tests share one server database; each fixture works in a schema of its own
(search_path) named with the process id, so a fresh database, the read-only demo district and
another test run on the same server never meet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlmodel import Session

from monitor.core.config import Settings
from monitor.core.permissions import Actor
from monitor.store.db import drop_all, get_engine, init_db

PG_URL = os.environ.get("MONITOR_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]
TODAY = date(2026, 11, 26)


def _pg_schema_url(schema: str) -> str:
    schema = f"{schema}_{os.getpid()}"
    base = get_engine(PG_URL)
    with base.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def make_settings(backend: str, tmp: Path, schema: str) -> Settings:
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'monitor.db'}"
    else:
        url = _pg_schema_url(schema)
        drop_all(get_engine(url))
    init_db(get_engine(url))
    return Settings(database_url=url, data_dir=tmp / "data")


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schemas() -> Iterator[None]:
    """Each test process works in schemas of its own and removes them when it ends."""
    yield
    if PG_URL:
        with get_engine(PG_URL).begin() as connection:
            for schema in ("t_fresh", "t_demo"):
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_{os.getpid()}" CASCADE'))


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return make_settings(request.param, tmp_path, "t_fresh")


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    with Session(get_engine(settings.database_url)) as s:
        yield s


@pytest.fixture(scope="session", params=BACKENDS)
def demo_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The demo district, loaded once per backend and only read by the tests that use it."""
    from monitor.demo.district import load_demo
    from monitor.evidence.photo_store import open_store

    # pytest keeps one value of a parametrised fixture at a time: each module that runs on both
    # engines would tear the district down and load it again. It is loaded once per engine instead.
    if request.param not in _DEMO:
        settings = make_settings(request.param, tmp_path_factory.mktemp("demo"), "t_demo")
        with Session(get_engine(settings.database_url)) as s:
            load_demo(session=s, actor=Actor(name="测试操作员", role="admin"), store=open_store(settings))
        _DEMO[request.param] = settings
    return _DEMO[request.param]


_DEMO: dict[str, Settings] = {}


@pytest.fixture
def demo_session(demo_settings: Settings) -> Iterator[Session]:
    with Session(get_engine(demo_settings.database_url)) as s:
        yield s
