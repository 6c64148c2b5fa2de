"""The database plumbing on PostgreSQL: reads in autocommit refuse writes and row locks,
the invariant check reads one snapshot, and a pooled connection the server dropped while
it sat idle is replaced before a request gets it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from crowdship.service import db as db_module
from crowdship.service.db import Database, WriteInReadSession, migrate
from crowdship.service.entities.orders.models import Order
from tests.service.conftest import postgres_schema_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def database() -> Iterator[Database]:
    for url in postgres_schema_url():
        migrate(url)
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()


def test_a_read_session_refuses_writes_and_row_locks(database: Database) -> None:
    with database.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        with pytest.raises(WriteInReadSession, match="UPDATE orders"):
            session.execute(sa.update(Order).values(description="x"))
    with database.read() as session, pytest.raises(WriteInReadSession, match="FOR UPDATE"):
        session.execute(sa.select(Order.id).with_for_update())
    with database.write() as session:  # a write session is not touched by the guard
        session.execute(sa.update(Order).values(description="x"))
        session.commit()


def test_reads_need_no_transaction(database: Database) -> None:
    with database.read() as session:
        session.execute(sa.select(sa.literal(1)))
        raw = session.connection().connection.driver_connection
        assert raw.autocommit  # no BEGIN sent, nothing to roll back when it is returned
        assert raw.info.transaction_status.name == "IDLE"


def test_a_snapshot_does_not_see_what_commits_after_it_began(database: Database) -> None:
    with database.write() as writer:
        writer.execute(sa.text("CREATE TABLE probe (n integer)"))
        writer.commit()
    count = sa.text("SELECT count(*) FROM probe")
    with database.snapshot() as session:
        assert session.scalar(count) == 0
        with database.write() as writer:
            writer.execute(sa.text("INSERT INTO probe VALUES (1)"))
            writer.commit()
        assert session.scalar(count) == 0  # the same moment throughout
    with database.read() as session:
        assert session.scalar(count) == 1


def test_an_idle_connection_the_server_dropped_is_replaced(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.read() as session:
        dropped = session.scalar(sa.text("SELECT pg_backend_pid()"))
    # The server ends that pooled connection (as a restart would) while it sits idle.
    killer = sa.create_engine(database.url.split("?")[0], isolation_level="AUTOCOMMIT")
    with killer.connect() as connection:
        assert connection.scalar(sa.text("SELECT pg_terminate_backend(:p)"), {"p": dropped})
    killer.dispose()
    monkeypatch.setattr(db_module, "IDLE_PING_S", 0.0)  # it has been idle long enough
    with database.read() as session:
        fresh = session.scalar(sa.text("SELECT pg_backend_pid()"))
    assert fresh != dropped
