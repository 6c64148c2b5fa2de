"""The ``Idempotency-Key`` header of the routes whose retries must not repeat their work
(posting an order or a trip, accepting, grabbing, pickup, delivery)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.workflows import idempotency

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Optional. Send the same key (e.g. a UUID) when you retry this request: "
        "you get the first answer again and nothing is done twice. The same key with another "
        "request is refused with 422. Keys are per account.",
    ),
]


def answer_once(
    request: Request,
    session: Session,
    context: ServiceContext,
    actor: Actor,
    key: str | None,
    body: BaseModel | None,
    model: type[BaseModel],
    work: Callable[[], Any],
    status_code: int = 200,
) -> JSONResponse:
    """``work()``'s result as ``model``, or, for a key this account sent before with the same
    request, the answer that request got."""

    def first() -> idempotency.Answer:
        result = model.model_validate(work(), from_attributes=True)
        return status_code, result.model_dump(mode="json")

    sent = (
        request.method,
        request.url.path,
        None if body is None else body.model_dump(mode="json"),
    )
    code, answer = idempotency.once(session, actor.id, key, sent, context.clock.now(), first)
    return JSONResponse(answer, status_code=code)
