"""The audit log: every request an operator makes that could change something (any method
but GET, HEAD and OPTIONS) is recorded as it is answered: who, what (method and path),
when, the status it got and from where. Operators read it at ``GET /audit``."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query

from crowdship.service.context import ServiceContext
from crowdship.service.deps import (
    SAFE_METHODS,
    CommittingRoute,
    Limit,
    Offset,
    Operator,
    ReadSession,
)
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.audit import service as audit
from crowdship.service.entities.audit.models import AuditEntry
from crowdship.service.entities.audit.schemas import AuditPublic

log = logging.getLogger("crowdship.audit")
router = APIRouter(route_class=CommittingRoute, tags=["operations"])


@router.get("/audit", response_model=list[AuditPublic])
def audit_log(
    actor: Operator,
    session: ReadSession,
    actor_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AuditEntry]:
    """Operator: what operators did, newest first (``actor_id``: one operator's)."""
    return list(audit.entries(session, actor, actor_id, limit, offset))


def _record(context: ServiceContext, actor: Actor, scope: Any, status: int) -> None:
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    client = scope.get("client")
    try:
        with context.db.write() as session:
            audit.record(
                session,
                actor.id,
                scope["method"],
                f"{path}?{query}" if query else path,
                status,
                client[0] if client else "unknown",
                context.clock.now(),
            )
            session.commit()
    except Exception:  # the answer is sent; a lost entry is logged, not raised
        log.exception("audit entry lost: operator %s %s %s", actor.id, scope["method"], path)


class AuditLog:
    """ASGI middleware: when an operator's state-changing request is answered, record it
    (the actor is the one ``current_actor`` admitted; a request refused before that, e.g.
    without a valid token, has no operator to record).

    The entry is written before the answer's first byte goes out, so an operator who acts
    twice in a row finds the two in the order they were made (recorded after the answer,
    the second could commit first)."""

    def __init__(self, app: Any, context: ServiceContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        recorded = False

        async def record(status: int) -> None:
            nonlocal recorded
            actor = scope.get("state", {}).get("actor")
            if not recorded and isinstance(actor, Actor) and actor.role == Role.OPERATOR:
                recorded = True
                await anyio.to_thread.run_sync(_record, self.context, actor, scope, status)

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                await record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await record(500)  # no answer was started: the request failed on its way
