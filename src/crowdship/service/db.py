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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
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
    # How long a write waits for SQLite's lock (held by another process) before the request
    # is answered 503 with Retry-After; the writer pool's queue waits a second longer.
    busy_timeout_s: float = 2.0
    engine: Engine = field(init=False)
    write_engine: Engine = field(init=False)
    _sessions: sessionmaker[Session] = field(init=False)
    _write_sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url, busy_timeout_s=self.busy_timeout_s)
        self.write_engine = (
            make_engine(self.url, writer=True, busy_timeout_s=self.busy_timeout_s)
            if self.is_sqlite
            else self.engine
        )
        reader = self.engine if self.is_sqlite else _reading(self.engine)
        self._sessions = sessionmaker(reader, expire_on_commit=False)
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
    def snapshot(self) -> Iterator[Session]:
        """A read-only transaction that sees one moment throughout (REPEATABLE READ on
        PostgreSQL; a SQLite read transaction already does), for checks that compare tables
        and must not see a change commit half-way."""
        if self.is_sqlite:
            with self.read() as session:
                yield session
            return
        bind = self.engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

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


def make_engine(url: str, writer: bool = False, busy_timeout_s: float = 2.0) -> Engine:
    if url.startswith("sqlite"):
        # Short waits: a blocked write holds one of the few route threads, and while another
        # process holds the lock, long waits would starve every request behind them (reads
        # too) until clients time out, where a quick 503 lets them come back.
        pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": busy_timeout_s + 1}
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
            **(pool if writer else {}),
        )
        _configure_sqlite(engine, "IMMEDIATE" if writer else "DEFERRED", busy_timeout_s)
        return engine
    # connect_timeout keeps a request from hanging on a server that does not answer (it is
    # answered 503 instead).
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )
    _ping_when_idle(engine)
    return engine


class WriteInReadSession(RuntimeError):
    """A statement that changes data (or locks rows) was sent through a read session."""


def _reading(engine: Engine) -> Engine:
    """PostgreSQL's read sessions: the same pool, in autocommit.

    At READ COMMITTED every statement sees its own snapshot inside a transaction too, so a
    read gains nothing from one, and autocommit spares it the BEGIN and the ROLLBACK: two
    of a small read's four round trips. What autocommit would make wrong (a write that is
    not rolled back with the rest, a row lock released at once) is refused here, loudly.
    """
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")

    @event.listens_for(reader, "before_cursor_execute")
    def _only_reads(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        head = statement.lstrip()[:6].upper()
        if (
            head not in ("SELECT", "WITH")
            or " FOR UPDATE" in statement
            or " FOR SHARE" in statement
        ):
            raise WriteInReadSession(f"a read session was asked to run: {statement[:120]}")

    return reader


# A pooled connection unused this long is checked with a round trip before it is handed out.
IDLE_PING_S = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Replace connections a server restart killed, without a round trip per request.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: under load that was a sixth of
    the request threads' samples in a profile. Here only a connection that sat idle for
    ``IDLE_PING_S`` is pinged. A connection in use when the server went away fails its
    request (503 with Retry-After) and SQLAlchemy then discards every connection of the
    pool made before.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_PING_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except Exception as error:  # the pool then tries a fresh connection
            raise sa_exc.DisconnectionError(f"a pooled connection was dead: {error}") from error


# SQLite's messages when another connection holds the lock, or the file is out of reach.
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error")


def unavailable(error: BaseException) -> str | None:
    """Why the database cannot serve this request for now (a restart, a held lock, a full
    pool), or None if ``error`` is something else (a bug, a constraint). The request's
    transaction rolled back unless the connection was lost during its commit, which is why
    the client sends it again with the same Idempotency-Key."""
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection stayed busy
        return "the database is busy: no connection was free in time"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated:
        return "the connection to the database was lost"
    if not isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return None
    message = str(error.orig).lower()
    if type(error.orig).__module__.startswith("sqlite3"):
        if any(m in message for m in _SQLITE_BUSY):
            return "the database is locked by another writer"
        if any(m in message for m in _SQLITE_UNREACHABLE):
            return "the database file cannot be reached"
        return None  # e.g. "no such table": a bug, not an outage
    # PostgreSQL (psycopg): its OperationalError covers connection failures, the server
    # shutting down or starting, and serialization failures and deadlocks, each of which
    # a later retry can pass.
    if getattr(error.orig, "sqlstate", None) in ("40001", "40P01"):
        return "another change to the same rows got in the way (a deadlock, rolled back)"
    return "the database cannot be reached"


def _configure_sqlite(engine: Engine, begin: str, busy_timeout_s: float) -> None:
    # Take transaction control from pysqlite so BEGIN (DEFERRED or IMMEDIATE) is ours.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
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
