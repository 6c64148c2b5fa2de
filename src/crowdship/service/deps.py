"""Request dependencies: the service context, sessions, and the authenticated actor."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.errors import DomainError, Unauthorized
from crowdship.service.security import read_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


# Dependencies that do no I/O are ``async``: FastAPI runs sync ones in a worker thread,
# and every such hop costs more than the work. The database work of a request happens in
# one hop, inside the (sync) route.


async def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


async def _read_session(context: Context) -> AsyncIterator[Session]:
    session = context.db.read_session()  # connects lazily, in the route's thread
    try:
        yield session
    finally:
        await _close(session)


async def _write_session(context: Context) -> AsyncIterator[Session]:
    """The one place a request's changes are committed: after the route returned (and its
    answer was built), before the response goes out. Services and routes never commit."""
    session = context.db.write_session()
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    except DomainError as error:
        # Some refusals must still be recorded (a wrong handover code counts).
        if error.keep_changes:
            await run_in_threadpool(session.commit)
        raise
    finally:
        await _close(session)


async def _close(session: Session) -> None:
    # After a commit there is nothing left to roll back, so closing does no I/O and need
    # not cost a thread hop; an open transaction is rolled back in a worker thread.
    if session.in_transaction():
        await run_in_threadpool(session.close)
    else:
        session.close()


# scope="function": the session closes (and SQLite's writer lock is released) before the
# response goes out, not after.
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]


class ActorCache:
    """Accounts recently looked up, so most requests skip a query and a thread hop.

    An account disabled by the operator is refused within ``ttl_s`` seconds.
    """

    def __init__(self, ttl_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[int, tuple[float, Actor | None]] = {}

    def get(self, user_id: int) -> tuple[bool, Actor | None]:
        entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return False, None
        return True, entry[1]

    def put(self, user_id: int, actor: Actor | None) -> None:
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[user_id] = (time.monotonic(), actor)


def _load_actor(context: ServiceContext, user_id: int) -> Actor | None:
    with context.db.read() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return Actor(
            id=user.id, role=user.role, name=user.name, phone=user.phone, point_id=user.point_id
        )


async def current_actor(
    request: Request, context: Context, token: Annotated[str | None, Depends(oauth2)] = None
) -> Actor:
    if not token:
        raise Unauthorized("not logged in: send 'Authorization: Bearer <token>' from /auth/token")
    user_id = read_token(token, context.settings.signing_key, context.clock.now())
    cache: ActorCache = request.app.state.actors
    known, actor = cache.get(user_id)
    if not known:
        actor = await run_in_threadpool(_load_actor, context, user_id)
        cache.put(user_id, actor)
    if actor is None:
        raise Unauthorized("this account does not exist or is disabled")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def actor_with(*roles: Role) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that admits only these roles (403 before the body is even read)."""

    async def dependency(actor: CurrentActor) -> Actor:
        actor.require(*roles)
        return actor

    return dependency


Courier = Annotated[Actor, Depends(actor_with(Role.COURIER))]
Sender = Annotated[Actor, Depends(actor_with(Role.MERCHANT, Role.CUSTOMER))]
Operator = Annotated[Actor, Depends(actor_with(Role.OPERATOR))]


# Path ids and paging, shared by every router.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
