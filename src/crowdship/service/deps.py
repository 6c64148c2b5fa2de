"""Request dependencies: the service context, sessions, and the authenticated actor."""

from __future__ import annotations

import functools
import hmac
import inspect
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import anyio
from fastapi import Depends, Path, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import service as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.errors import DomainError, Forbidden, Unauthorized
from crowdship.service.security import TokenClaims, read_token

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


WRITE = "crowdship.write_session"


async def _write_session(context: Context) -> AsyncIterator[Session]:
    """A request's one transaction. It is committed as soon as the route returns, in the
    route's own thread (``CommittingRoute``), so the connection is free again before the
    answer is serialized; here, as a safety net, for a route that bypassed that. Services
    and routes never commit."""
    session = context.db.write_session()
    session.info[WRITE] = True
    try:
        yield session
        if session.in_transaction():
            await _unbounded(session.commit)
    except DomainError as error:
        # Some refusals must still be recorded (a wrong handover code counts).
        if error.keep_changes:
            await _unbounded(session.commit)
        raise
    finally:
        await _close(session)


async def _close(session: Session) -> None:
    # After a commit there is nothing left to roll back, so closing does no I/O and need
    # not cost a thread hop; an open transaction is rolled back in a worker thread.
    if session.in_transaction():
        await _unbounded(session.close)
    else:
        session.close()


async def _unbounded(action: Callable[[], None]) -> None:
    """Run a commit or rollback in a worker thread outside the routes' thread limit.

    The session holds a pooled connection (on SQLite, the one writer connection). If its
    commit queued for one of the few route threads, while those threads' routes wait for
    that connection, nothing would move until the pool timed out. A limiter of its own per
    call (as FastAPI does for dependencies' exits) keeps the commit from queueing there.

    Shielded: when the client goes away mid-request, the request's task is cancelled, and
    an unshielded await here would be cancelled at once, leaving the transaction open on
    its connection, holding its row locks for ever (every later request for those rows
    would wait behind it)."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(action, limiter=anyio.CapacityLimiter(1))


class CommittingRoute(APIRoute):
    """A route whose write session is committed right after the endpoint returns, in the
    same worker thread: one commit per request, in one place, and no second thread hop.

    Committing before the answer is serialized matters on SQLite: serializing takes a worker
    thread, and holding the single writer connection while waiting for one would let the
    routes waiting for that connection starve it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _committing(endpoint), **kwargs)


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):  # async routes run jobs; they take no session
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the wrapped signature and annotations
    def run_and_commit(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.info.get(WRITE) and value.in_transaction():
                value.commit()
        return result

    return run_and_commit


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
        self._revoked: dict[str, tuple[float, bool]] = {}  # token id: revoked?

    def get(self, user_id: int) -> tuple[bool, Actor | None]:
        entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return False, None
        return True, entry[1]

    def put(self, user_id: int, actor: Actor | None) -> None:
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[user_id] = (time.monotonic(), actor)

    def forget(self, user_id: int) -> None:
        self._entries.pop(user_id, None)

    def revoked(self, jti: str | None) -> tuple[bool, bool]:
        """(known, revoked) for a token id; a token without one is never revoked."""
        if jti is None:
            return True, False
        entry = self._revoked.get(jti)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return False, False
        return True, entry[1]

    def put_revoked(self, jti: str | None, revoked: bool) -> None:
        if jti is None:
            return
        if len(self._revoked) > 100_000:
            self._revoked.clear()
        self._revoked[jti] = (time.monotonic(), revoked)


def _load_actor(
    context: ServiceContext, user_id: int, jti: str | None
) -> tuple[Actor | None, bool]:
    """The account, and whether this token was revoked: one query each, one thread hop."""
    with context.db.read() as session:
        revoked = jti is not None and accounts.is_revoked(session, jti)
        return accounts.actor_of(session, user_id), revoked


# The pages sign in with the same token, kept in an HttpOnly cookie that scripts (and other
# sites) cannot read. A cookie is sent by the browser on its own, so a state-changing request
# signed in by cookie must also echo the CSRF cookie in a header (double submit): another
# site can make the browser send the cookie but cannot read it to copy it.
SESSION_COOKIE = "crowdship_session"
CSRF_COOKIE = "crowdship_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS:
        expected = request.cookies.get(CSRF_COOKIE, "")
        given = request.headers.get(CSRF_HEADER, "")
        if not expected or not hmac.compare_digest(expected, given):
            raise Forbidden(
                f"{CSRF_HEADER}: a page signed in by cookie must send the "
                f"{CSRF_COOKIE} cookie's value in this header"
            )
    return token


async def current_actor(
    request: Request, context: Context, token: Annotated[str | None, Depends(oauth2)] = None
) -> Actor:
    if not token:
        token = _session_token(request)
    if not token:
        raise Unauthorized("not logged in: send 'Authorization: Bearer <token>' from /auth/token")
    claims = read_token(token, context.settings.signing_key, context.clock.wall())
    request.state.token = claims  # for logging out
    cache: ActorCache = request.app.state.actors
    known, actor = cache.get(claims.user_id)
    known_token, revoked = cache.revoked(claims.jti)
    if not known or not known_token:
        actor, revoked = await run_in_threadpool(_load_actor, context, claims.user_id, claims.jti)
        cache.put(claims.user_id, actor)
        cache.put_revoked(claims.jti, revoked)
    if actor is None:
        raise Unauthorized("this account does not exist or is disabled")
    if revoked or claims.generation != actor.token_generation:
        raise Unauthorized("this token was revoked (logged out, or the password changed)")
    request.state.actor = actor  # for the audit log
    return actor


def token_of(request: Request) -> TokenClaims:
    """The claims of the token ``current_actor`` admitted."""
    claims: TokenClaims = request.state.token
    return claims


CurrentActor = Annotated[Actor, Depends(current_actor)]


def actor_with(*roles: Role) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that admits only these roles (403 before the body is even read)."""

    async def dependency(actor: CurrentActor) -> Actor:
        actor.require(*roles)
        return actor

    return dependency


Courier = Annotated[Actor, Depends(actor_with(Role.COURIER))]
Sender = Annotated[Actor, Depends(actor_with(Role.MERCHANT, Role.CUSTOMER))]
# Who may post an order: senders, and a pickup point's staff for parcels waiting there.
Poster = Annotated[Actor, Depends(actor_with(Role.MERCHANT, Role.CUSTOMER, Role.STAFF))]
Operator = Annotated[Actor, Depends(actor_with(Role.OPERATOR))]


def client_address(request: Request) -> str:
    """The client's address, for rate limits. Behind a reverse proxy, run uvicorn with
    ``--proxy-headers --forwarded-allow-ips`` so that this is the client's, not the proxy's."""
    return request.client.host if request.client is not None else "unknown"


# Path ids and paging, shared by every router.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
