"""Engine and session handling: one session per request, job or command, committed at the edge."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")
# Waits between attempts of ``Database.retrying``: doubling from the first, capped
RETRY_FIRST_DELAY = 0.05
RETRY_MAX_DELAY = 2.0

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite keeps no zone, so without this an aware value would be stored as its local
    wall-clock time and read back naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be time-zone aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class Database:
    """An engine plus its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back if it raises."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def retrying(self, work: Callable[[Session], T], *, until: float, attempts: int = 3) -> T:
        """Run ``work`` in a session of its own, again on a fresh connection after a
        connection or server fault, with doubling waits until the monotonic time ``until``
        (at least ``attempts`` tries in all). ``work`` must be safe to run twice: a
        dropped COMMIT may have committed.

        A terminated backend, a restarted server or a dropped network link invalidates
        the connection (SQLAlchemy then drops the pool's other connections of that age
        too), so the next attempt starts on a new one.
        """
        delay = RETRY_FIRST_DELAY
        tried = 0
        while True:
            tried += 1
            try:
                with self.session() as session:
                    return work(session)
            except DBAPIError as error:
                transient = error.connection_invalidated or isinstance(
                    error, OperationalError | InterfaceError
                )
                if not transient or (tried >= attempts and time.monotonic() + delay > until):
                    raise
                log.warning("database error, attempt %d, retrying: %s", tried, error.orig)
            time.sleep(delay)
            delay = min(2 * delay, RETRY_MAX_DELAY)

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignoring_conflicts(
    session: Session, table: Any, rows: list[dict[str, Any]], conflict_columns: list[str]
) -> list[int]:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and Postgres; the ids of the new rows.

    One cached statement run over all rows (SQLAlchemy batches them as multi-row
    inserts with RETURNING), rather than a statement compiled afresh for each row set.
    """
    if not rows:
        return []
    target = getattr(table, "__table__", table)
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(target)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(target.c.id)
    )
    return list(session.execute(statement, rows).scalars())


def among(session: Session, column: ColumnElement[int], ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids``, as ``= ANY(array)`` on Postgres: one parameter, not one per id.

    A batch of 500 ids as 500 bound parameters costs the driver milliseconds to split
    and send each time; an array is one value, and the statement stays the same text.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)
