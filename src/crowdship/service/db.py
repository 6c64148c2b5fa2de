"""Database plumbing: the ORM base, UTC timestamps, engines, sessions and migrations.

SQLite (the default) allows one writer at a time. Write transactions there go through a
second engine whose pool holds exactly one connection: writers queue on the pool (a cheap
wait in the thread that needs it, not SQLite's sleep-and-retry busy handler, which would
ruin tail latency), and each starts with ``BEGIN IMMEDIATE`` so it can never fail half-way
when it upgrades from reading to writing. PostgreSQL needs neither: every state change is a
compare-and-set ``UPDATE ... WHERE status = :expected``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger("crowdship.db")
MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out, whatever the backend stores (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(kind: type[enum.Enum]) -> Enum:
    """A portable enum column that stores the members' values ("picked_up"), not names."""
    return Enum(
        kind,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


@dataclass
class Database:
    """An engine plus the two kinds of session the routes use: read and write."""

    url: str
    engine: Engine = field(init=False)
    write_engine: Engine = field(init=False)
    _sessions: sessionmaker[Session] = field(init=False)
    _write_sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        self.write_engine = make_engine(self.url, writer=True) if self.is_sqlite else self.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        for sessions in (self._sessions, self._write_sessions):
            event.listen(sessions, "after_commit", _run_after_commit)
            event.listen(sessions, "after_soft_rollback", _drop_after_commit)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def read_session(self) -> Session:
        """A session for reading (it connects on first use)."""
        return self._sessions()

    def write_session(self) -> Session:
        """A session for a transaction that changes data (it connects, and on SQLite waits
        for the writer connection, on first use); the caller commits."""
        return self._write_sessions()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.read_session() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.write_session() as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once this session's transaction has committed (never if it rolls back).

    Side effects outside the database (a text message) must not happen for a change that
    is then lost.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


_AFTER_COMMIT = "crowdship.after_commit"


def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(_AFTER_COMMIT, []):
        try:
            action()
        except Exception:  # the commit stands; the failure is logged for the operator
            log.exception("after-commit action failed")


def _drop_after_commit(session: Session, _transaction: Any) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def make_engine(url: str, writer: bool = False) -> Engine:
    if url.startswith("sqlite"):
        pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} if writer else {}
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )
        _configure_sqlite(engine, "IMMEDIATE" if writer else "DEFERRED")
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, begin: str) -> None:
    # Take transaction control from pysqlite so BEGIN (DEFERRED or IMMEDIATE) is ours.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` up to ``revision`` with Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)
