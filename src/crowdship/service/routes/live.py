"""Server-Sent Events: the live feed of order changes for open pages.

Not in the OpenAPI document (a stream never ends, and OpenAPI has no way to describe its
messages); docs/api.md describes both streams and their messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from crowdship.service.deps import Context, CurrentActor
from crowdship.service.errors import NotFound
from crowdship.service.workflows.live import LiveFeed, Subscriber
from crowdship.service.workflows.notifying import order_of_token

router = APIRouter(tags=["live"])

KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing an idle stream


def feed_of(request: Request) -> LiveFeed:
    feed: LiveFeed | None = getattr(request.app.state, "live", None)
    if feed is None:
        feed = request.app.state.live = LiveFeed(request.app.state.context)
    return feed


def _last_event_id(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) < 12 else None


async def _stream(feed: LiveFeed, subscriber: Subscriber, after: int | None) -> AsyncIterator[str]:
    await feed.subscribe(subscriber, after)
    try:
        yield "retry: 2000\n\n"  # reconnect after 2 s if the connection drops
        while True:
            try:
                item: dict[str, Any] = await asyncio.wait_for(
                    subscriber.queue.get(), timeout=KEEPALIVE_S
                )
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            yield f"id: {item['id']}\nevent: {item['kind']}\ndata: {json.dumps(item)}\n\n"
    finally:
        feed.unsubscribe(subscriber)


def _response(stream: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/events/stream", include_in_schema=False)
async def events(
    request: Request,
    actor: CurrentActor,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Order changes the caller may see, as they are committed (text/event-stream)."""
    subscriber = Subscriber(actor=actor)
    return _response(_stream(feed_of(request), subscriber, _last_event_id(last_event_id)))


@router.get("/track/{token}/stream", include_in_schema=False)
async def tracking_events(
    request: Request,
    token: str,
    context: Context,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The changes of the one order behind a tracking link."""
    order_id = order_of_token(context.settings.signing_key, token)
    if order_id is None:
        raise NotFound("no such tracking link")
    subscriber = Subscriber(actor=None, order_id=order_id)
    return _response(_stream(feed_of(request), subscriber, _last_event_id(last_event_id)))
