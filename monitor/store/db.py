"""Engine, sessions, schema creation and the data version."""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Executable, Integer, String, cast, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, col, create_engine, select

from monitor.core.config import DEFAULT_QUOTAS, Settings
from monitor.core.errors import Refusal
from monitor.core.models import Meta, QuotaRule, TypeQuota
from monitor.store.schema import Upgrade, prepare


def _prepare_sqlite(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL, with SQLite tuned for a small office server (WAL, foreign keys)."""
    if url.startswith("sqlite"):
        _prepare_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def default_backups_dir(engine: Engine) -> Path:
    """Beside a SQLite database file; the data folder's backups/ otherwise."""
    url = make_url(engine.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "backups"
    return Settings.from_env().data_dir / "backups"


def init_db(engine: Engine, *, upgrade: bool = True, backups_dir: Path | None = None) -> Upgrade:
    """Create a new database or upgrade an older one (after a copy); then the default type quotas.

    upgrade=False refuses an older database with SchemaOutdated instead of upgrading it.
    """
    done = prepare(engine, backups_dir=backups_dir or default_backups_dir(engine), upgrade=upgrade)
    with Session(engine) as session:
        if session.get(Meta, "database_id") is None:
            session.add(Meta(key="database_id", value=uuid.uuid4().hex))
        if session.get(Meta, "unitmonth_deadline_day") is None:  # a new database: its table is empty
            session.add(Meta(key="unitmonth_deadline_day", value=str(Settings.from_env().deadline_day)))
        existing = {q.type for q in session.exec(select(TypeQuota)).all()}
        ruled = set(session.exec(select(QuotaRule.unit_type).where(col(QuotaRule.unit_id).is_(None))).all())
        for unit_type, quota in DEFAULT_QUOTAS.items():
            if unit_type not in existing:
                session.add(TypeQuota(type=unit_type, quota=quota))
            if unit_type not in ruled:
                session.add(QuotaRule(unit_type=unit_type, from_month="", quota=quota, set_at=datetime.now(UTC)))
        session.commit()
    return done


class Busy(Refusal):
    """Another writer held the database longer than the configured wait."""

    code = "busy"


BUSY_MESSAGE = "数据库正忙，请稍后重试。"
T = TypeVar("T")
WRITERS_LOCK = 72_310_006  # PostgreSQL advisory lock: writers take turns (begin_write)
# The writers' turn of this database's schema: two deployments (or test runs) in one PostgreSQL
# database, each in a schema of its own, do not wait on each other.
TAKE_WRITERS_TURN = (
    f"SELECT pg_advisory_xact_lock({WRITERS_LOCK}, "
    "(SELECT oid::int4 FROM pg_namespace WHERE nspname = current_schema()))"
)


def is_busy(exc: BaseException) -> bool:
    """A lock wait that ran out (SQLite 'database is locked', PostgreSQL lock_timeout)."""
    text_ = str(getattr(exc, "orig", exc)).lower()
    return (
        "database is locked" in text_
        or "lock timeout" in text_
        or "locknotavailable" in type(getattr(exc, "orig", exc)).__name__.lower()
    )


def begin_write(session: Session, *, busy_seconds: float) -> None:
    """Start the session's write transaction now, so what it checks and what it writes are one.

    Every write that changes activities, reviews, counts, roster or quotas begins here, so writers
    take turns on every engine and each reads what it changes after the one before it committed.
    SQLite: BEGIN IMMEDIATE takes the database's write lock before the checks run (a plain BEGIN
    would let a month lock commit between the check and the insert). PostgreSQL: the writers'
    advisory lock (TAKE_WRITERS_TURN, held to the end of the transaction) keeps two writers apart, and
    SHARE on monthlock makes a month lock being committed wait for this writer, or this writer for
    it. Under READ COMMITTED every statement after the lock sees what the writer before committed.
    A wait longer than busy_seconds raises Busy.
    """
    connection = session.connection()
    waited = max(1, int(busy_seconds * 1000))
    try:
        if connection.dialect.name == "sqlite":
            raw = connection.connection.driver_connection
            if not raw.in_transaction:  # type: ignore[union-attr]
                raw.execute(f"PRAGMA busy_timeout = {waited}")  # type: ignore[union-attr]
                raw.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        else:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {waited}")
            connection.exec_driver_sql(TAKE_WRITERS_TURN)
            connection.exec_driver_sql("LOCK TABLE monthlock IN SHARE MODE")
    except Exception as exc:
        if is_busy(exc):
            session.rollback()
            raise Busy(BUSY_MESSAGE) from exc
        raise


def in_write(session: Session, *, busy_seconds: float, write: Callable[[], T]) -> T:
    """`write()` in the session's write transaction (begin_write), committed; rolled back whatever
    fails, and Busy when a lock wait runs out on the way."""
    begin_write(session, busy_seconds=busy_seconds)
    try:
        done = write()
        session.commit()
    except BaseException as exc:
        session.rollback()
        if isinstance(exc, Exception) and is_busy(exc):
            raise Busy(BUSY_MESSAGE) from exc
        raise
    return done


def chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """Ids in slices small enough for one `IN (...)` each."""
    for first in range(0, len(ids), size):
        yield list(ids[first : first + size])


def fetch_tuples(session: Session, statement: Executable) -> Sequence[tuple[Any, ...]]:
    """The rows of a Core select as the driver's plain tuples.

    For the figures' queries, which return tens of thousands of small rows: building a Row object
    for each costs more than the query itself; the cycle collector is paused while they are fetched.
    """
    result = session.connection().execute(statement)
    try:
        with collector_paused():
            return result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()


def joined_ints(session: Session, expression: str) -> str:
    """SQL aggregate: the integer `expression` over a group's rows as one comma-joined text
    (read back with parse_ints)."""
    if session.connection().dialect.name == "postgresql":
        return f"string_agg(CAST(({expression}) AS text), ',')"
    return f"group_concat({expression}, ',')"


def parse_ints(joined: str | None) -> np.ndarray:
    """The integers of a joined_ints text (None: no row) as an int64 array."""
    return np.fromstring(joined or "", dtype="int64", sep=",")


def fetch_int_columns(
    session: Session, expressions: Sequence[str], source: str, params: Mapping[str, object]
) -> np.ndarray:
    """Integer `expressions` (never NULL) over `source` (`FROM … WHERE …`, with `params`) as an
    n × len(expressions) int64 array, its rows in no set order.

    Each column comes back as one text the database joins (joined_ints) and numpy parses: for
    the tens of thousands of rows of a month's counts, a tuple and its Python ints per row cost
    two to three times the query itself. The aggregates of one query step through the same rows
    in one pass, so the i-th value of every column belongs to the same row.
    """
    joined = ", ".join(joined_ints(session, e) for e in expressions)
    texts = session.connection().execute(text(f"SELECT {joined} {source}").bindparams(**params)).one()
    columns = [parse_ints(t) for t in texts]
    if len({len(c) for c in columns}) != 1:
        raise ValueError("fetch_int_columns: the columns differ in length (a NULL value?)")
    return np.column_stack(columns)  # no row: n = 0


@lru_cache(maxsize=1)
def freeze_long_lived() -> None:
    """Once per process, when a server is ready to answer: collect, then move every object alive
    now (the modules of pandas, SQLAlchemy and Streamlit, the engine) out of the cycle
    collector's reach, so that its full passes walk only what requests made since.

    Without it a full pass walked some 150,000 objects the process holds for its whole life:
    77 ms in one province interview list out of every twenty, twice the list itself.
    """
    gc.collect()
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a read that turns many rows into arrays.

    Such a read allocates hundreds of thousands of tuples, strings and small frames that hold no
    cycles and are freed as it ends; counted by the collector they start full collections of
    the whole process, tens of milliseconds each, which made a figure's time vary twofold.
    Nothing is left uncollected: the collector runs again as soon as the read is over.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def get_meta(session: Session, key: str, default: str = "") -> str:
    row = session.get(Meta, key)
    return row.value if row else default


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def bump_version(session: Session) -> None:
    """Mark the data as changed, inside the caller's transaction, so caches keyed on it refresh.

    One atomic upsert: two writers committing at once each move the version on, never to the
    same number (a read-then-write would let both write the same one).
    """
    table = Meta.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(key="data_version", value="1")
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key], set_={"value": cast(cast(table.c.value, Integer) + 1, String)}
    )
    session.execute(statement)


def data_version(session: Session) -> int:
    """Read from the database, not the session's identity map, so another writer's change shows."""
    value = session.exec(select(Meta.value).where(Meta.key == "data_version")).first()
    return int(value or 0)


def data_identity(session: Session) -> str:
    """The database's own id and its data version: what cached figures are keyed on.

    The id tells apart databases that share a URL (one PostgreSQL URL whose search_path points
    somewhere else, a file replaced by another); the version moves on with every write.
    """
    rows = dict(
        session.exec(select(Meta.key, Meta.value).where(col(Meta.key).in_(["database_id", "data_version"]))).all()
    )
    return f"{rows.get('database_id', '')}:{rows.get('data_version', '0')}"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def drop_all(engine: Engine) -> None:
    """Remove every table and the schema version: used by tests on a shared PostgreSQL database."""
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def among(session: Session, column: str, ids: np.ndarray) -> tuple[str, dict[str, object]]:
    """SQL: `column` is one of these ids, as one parameter however many there are.

    A subquery on both engines: it is joined on the key, where PostgreSQL (without statistics on a
    table just filled) would test every row of the month against an `= ANY` list.
    """
    values = np.asarray(ids, dtype="int64").tolist()
    if session.connection().dialect.name == "postgresql":
        # The array as its text form, '{1,2,3}': the driver would dump a list of 30,000 ids one
        # element at a time in Python, longer than the query takes.
        return f"{column} IN (SELECT unnest(CAST(:ids AS integer[])))", {"ids": "{" + ",".join(map(str, values)) + "}"}
    return f"{column} IN (SELECT value FROM json_each(:ids))", {"ids": json.dumps(values)}
