"""The FastAPI application: routers, error answers, and the background scheduler."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from crowdship import __version__
from crowdship.service.context import ServiceContext
from crowdship.service.db import unavailable
from crowdship.service.deps import ActorCache
from crowdship.service.errors import DomainError, Unavailable
from crowdship.service.headers import SecurityHeaders, cors_options
from crowdship.service.routes import contract
from crowdship.service.routes.accounts import router as accounts_router
from crowdship.service.routes.audit import AuditLog
from crowdship.service.routes.audit import router as audit_router
from crowdship.service.routes.console import router as console_router
from crowdship.service.routes.couriers import router as couriers_router
from crowdship.service.routes.incidents import router as incidents_router
from crowdship.service.routes.live import router as live_router
from crowdship.service.routes.notifications import router as notifications_router
from crowdship.service.routes.offers import router as matching_router
from crowdship.service.routes.orders import router as orders_router
from crowdship.service.routes.points import router as points_router
from crowdship.service.routes.pricing import router as pricing_router
from crowdship.service.routes.ratings import router as ratings_router
from crowdship.service.routes.session import router as session_router
from crowdship.service.routes.settlement import router as settlement_router
from crowdship.service.routes.trips import router as trips_router
from crowdship.service.scheduler import Scheduler
from crowdship.service.workflows.matching import warm_up

log = logging.getLogger("crowdship.service")
# Seconds a client is told to wait when the database is out of reach or locked.
RETRY_AFTER_S = 2

DESCRIPTION = """
crowdship's order service: senders post parcels, couriers register the trips they will make
anyway, the platform matches them on a rolling horizon (or couriers grab open orders), and
each order goes through pickup and delivery with handover codes.

Log in with `POST /auth/token` (OAuth2 password flow; `username` is the email) and send the
token as `Authorization: Bearer <token>`. Times are ISO 8601 with a UTC offset.
"""


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "[key]")]
    return ".".join(parts) or str(location[-1] if location else "body")


def _too_big(given: Any) -> str:
    """pydantic's "Unable to parse input string as an integer, exceeded maximum size", in
    words: a whole number past 64 bits written as 1e20 in an integer field without bounds
    (the body's integer fields name their bounds instead: JSON_INT), or written with more
    than 4300 digits (a query's)."""
    text = f"{given:g}" if isinstance(given, float) else str(given).strip()
    negative = text.startswith("-")
    problem = f"is too {'small' if negative else 'large'} a number"
    if len(text) <= 30:
        return f"{text} {problem}"
    digits = sum(c.isdigit() for c in text)
    return f"{problem} ({'negative, ' if negative else ''}{digits} digits)"


def _problem(error: Any) -> dict[str, str]:
    if error["type"] == "json_invalid":  # loc is ("body", character position)
        reason = error.get("ctx", {}).get("error", "")
        where = error["loc"][-1] if len(error["loc"]) > 1 else "?"
        return {
            "field": "body",
            "problem": f"is not valid JSON (at character {where}) {reason}".strip(),
            "type": "json_invalid",
        }
    message = str(error["msg"]).removeprefix("Value error, ")  # our validators' own words
    given = error.get("input")
    if error["type"] == "string_pattern_mismatch" and "\x00" in str(given):
        message = "must not contain NUL characters"  # the pattern of every free text
    if error["type"] == "int_parsing_size":
        message = _too_big(given)
    kind = str(error["type"]).removeprefix("string_")
    if kind in ("too_long", "too_short") and isinstance(given, str):
        # Text fields are counted in characters, whatever pydantic calls them.
        limit = error.get("ctx", {}).get("max_length" if kind == "too_long" else "min_length")
        most = "at most" if kind == "too_long" else "at least"
        message = f"should have {most} {limit} characters, not {len(given)}"
        if kind == "too_short" and given and not given.strip():
            message = "is only whitespace: it needs some text"  # text is stripped first
    return {
        "field": _field_name(tuple(error["loc"])),
        "problem": message,
        "type": str(error["type"]),
    }


def _unreadable(cause: BaseException | None) -> str:
    """Why a body could not be read, from what FastAPI's generic 400 was raised from."""
    if isinstance(cause, UnicodeDecodeError):
        return f"body: is not UTF-8 text (byte {cause.start} cannot be read)"
    if isinstance(cause, RecursionError):
        return "body: is JSON nested too deeply to read"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        # Python refuses to read an integer written with more than this many digits.
        return f"body: has a number of more than {sys.get_int_max_str_digits()} digits"
    return "body: could not be read as JSON"


def _not_json(error: RequestValidationError, request: Request) -> str | None:
    """A body FastAPI did not read as JSON because its Content-Type says it is something
    else (it then validates the raw bytes, and says the body is not an object): what the
    415 says, or None."""
    for e in error.errors():
        if tuple(e["loc"]) == ("body",) and isinstance(e.get("input"), bytes | bytearray):
            kind = request.headers.get("content-type", "").split(";")[0].strip() or "?"
            return f"body: Content-Type {kind} is not JSON; send it as application/json"
    return None


class BodyLimit:
    """Refuses a request whose Content-Length is over the limit before reading its body
    (plain ASGI: no per-request cost beyond reading one header). A body sent without a
    Content-Length (chunked) is counted as it is read, and refused once over the limit."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not any(n == b"content-length" for n, _ in scope["headers"]):
            read = 0

            async def counted() -> Any:
                nonlocal read
                message = await receive()
                read += len(message.get("body", b""))
                if read > self.limit:  # FastAPI answers its HTTPException as it is
                    raise HTTPException(413, f"body: more than the {self.limit} bytes allowed")
                return message

            await self.app(scope, counted, send)
            return
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                    answer = JSONResponse(
                        {
                            "detail": f"body: {int(value)} bytes is more than the "
                            f"{self.limit} allowed",
                            "field": "body",
                        },
                        status_code=413,
                    )
                    await answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(context: ServiceContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes run in a thread pool. A few threads serve a 2-core machine best: more just
        # fight over the GIL (bench_service: 264 vs 217 posts/s, p99 101 vs 198 ms).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = context.settings.threads
        # Load the matcher's compiled kernels now, not in the first batch or the first
        # grab or fitting-orders search a person waits for (they use the same kernels).
        took = await anyio.to_thread.run_sync(warm_up, context)
        log.info("matcher ready in %.2f s", took)
        scheduler = Scheduler(context) if context.settings.scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            live = getattr(app.state, "live", None)
            if live is not None:
                await live.close()
            if scheduler is not None:
                scheduler.stop()

    app = FastAPI(
        title="crowdship",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.actors = ActorCache()

    app.add_middleware(BodyLimit, limit=context.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AuditLog, context=context)
    if context.settings.cors_origin_list:  # closed unless configured
        app.add_middleware(CORSMiddleware, **cors_options(context.settings.cors_origin_list))

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        not_json = _not_json(error, request)
        if not_json is not None:
            return JSONResponse({"detail": not_json, "field": "body"}, status_code=415)
        problems = [_problem(e) for e in error.errors()]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse({"detail": summary, "errors": problems}, status_code=422)

    def outage(request: Request, error: Exception) -> JSONResponse | None:
        reason = unavailable(error)
        if reason is None:
            return None
        cause = " ".join(str(getattr(error, "orig", error)).split())[:300]
        log.warning("503 on %s %s: %s (%s)", request.method, request.url.path, reason, cause)
        refusal = Unavailable(
            f"{reason}; send the request again in {RETRY_AFTER_S} s (with the same "
            "Idempotency-Key, so that it counts once)",
            RETRY_AFTER_S,
        )
        return JSONResponse(refusal.body(), status_code=503, headers=refusal.headers())

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    async def database_error(request: Request, error: Exception) -> JSONResponse:
        answer = outage(request, error)
        if answer is not None:
            return answer
        return await unexpected(request, error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        answer = outage(request, error)  # raised in a middleware, outside the routes
        if answer is not None:
            return answer
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness and database reachability."""
        with context.db.read() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "database": context.db.engine.dialect.name}

    app.include_router(accounts_router)
    app.include_router(trips_router)
    app.include_router(orders_router)
    app.include_router(matching_router)
    app.include_router(pricing_router)
    app.include_router(couriers_router)
    app.include_router(ratings_router)
    app.include_router(incidents_router)
    app.include_router(points_router)
    app.include_router(settlement_router)
    app.include_router(notifications_router)
    app.include_router(session_router)
    app.include_router(console_router)
    app.include_router(audit_router)
    app.include_router(live_router)
    contract.document(app)  # every refusal of every operation in the OpenAPI document
    app.add_exception_handler(405, contract.allow_header)

    async def bad_request(_request: Request, error: Exception) -> JSONResponse:
        # FastAPI answers a body it cannot read (not UTF-8, nested too deep, a number of
        # thousands of digits) "There was an error parsing the body", whatever the reason:
        # name the reason.
        detail = getattr(error, "detail", "bad request")
        if detail == "There was an error parsing the body":
            reason = _unreadable(error.__cause__)
            return JSONResponse({"detail": reason, "field": "body"}, status_code=400)
        return JSONResponse({"detail": detail}, status_code=400)

    app.add_exception_handler(400, bad_request)
    return app
