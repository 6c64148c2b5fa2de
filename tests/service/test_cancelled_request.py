"""A request whose client goes away is cancelled; its transaction must still be closed,
or its row locks would block every later request for those rows."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
from sqlalchemy import text

from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.deps import _write_session
from crowdship.service.settings import Settings


def test_a_cancelled_request_rolls_back_and_frees_its_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cancel.db'}"
    migrate(url)
    context = ServiceContext.build(
        Settings(database_url=url, secret_key="x" * 40, scheduler=False), db=Database(url)
    )
    started, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def route(session: object) -> None:  # a route in its worker thread, holding a write
        session.execute(text("UPDATE outbox_cursors SET position = position"))  # type: ignore[attr-defined]
        started.set()
        release.wait(5)
        raise RuntimeError("refused after taking locks")

    async def request() -> None:
        dependency = _write_session(context)
        session = await dependency.__anext__()
        try:
            await anyio.to_thread.run_sync(route, session)
        except BaseException as error:
            seen["in_transaction_before"] = session.in_transaction()
            try:
                await dependency.athrow(error)  # FastAPI hands the failure to the dependency
            except RuntimeError:
                seen["closed"] = not session.in_transaction()

    async def client_goes_away() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(request)
            await anyio.to_thread.run_sync(started.wait)
            group.cancel_scope.cancel()  # the client disconnected: uvicorn cancels the task
            release.set()

    anyio.run(client_goes_away)
    assert seen["in_transaction_before"] is True
    assert seen["closed"] is True
    # The writer connection (SQLite's only one) is free again: a new write goes through.
    with context.db.write() as session:
        session.execute(text("UPDATE outbox_cursors SET position = position"))
        session.commit()
    assert context.db.write_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
