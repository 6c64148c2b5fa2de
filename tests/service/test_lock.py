"""Only one matching job at a time, across processes (advisory lock / lease row)."""

from __future__ import annotations

import multiprocessing as mp

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
