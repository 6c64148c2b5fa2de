"""Only one matching job at a time, across processes (advisory lock / lease row)."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from crowdship.service.db import Database, migrate
from crowdship.service.lock import job_lock


def _try_lock(url: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    db = Database(url)
    with job_lock(db, "matching") as held:
        queue.put(held)
    db.dispose()


def test_second_holder_is_refused_until_the_first_releases(database_url: str) -> None:
    """While one process holds the lock another process cannot take it; afterwards it can."""
    migrate(database_url)
    db = Database(database_url)
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    with job_lock(db, "matching") as held:
        assert held
        other = ctx.Process(target=_try_lock, args=(database_url, queue))
        other.start()
        other.join(60)
        assert queue.get(timeout=5) is False
    other = ctx.Process(target=_try_lock, args=(database_url, queue))
    other.start()
    other.join(60)
    assert queue.get(timeout=5) is True
    db.dispose()


@pytest.mark.postgres
def test_deployments_in_two_schemas_do_not_block_each_other() -> None:
    """PostgreSQL advisory locks are database-wide: the key names the schema, so a batch in
    one schema (one deployment, one test) never waits for another schema's."""
    from tests.service.conftest import postgres_schema_url

    first, second = postgres_schema_url(), postgres_schema_url()
    try:
        a, b = Database(next(first)), Database(next(second))
        with job_lock(a, "matching") as held_a, job_lock(b, "matching") as held_b:
            assert held_a and held_b
        a.dispose()
        b.dispose()
    finally:
        for schema in (first, second):
            schema.close()
