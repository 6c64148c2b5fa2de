"""The live feed: order events, as the service records them, pushed to open pages.

One tail per process reads new rows of ``order_events`` (an indexed range scan every
``interval_s``) and hands each to the subscribers allowed to hear of it. Reading the table
rather than an in-process signal means events committed by any worker process, the
scheduler or a command-line job reach every page, on SQLite and PostgreSQL alike.

Who hears what: the operator everything; a sender their orders; a courier the orders that
concern them (offered to their trip, carried, released) and, without detail, that the pool
of open orders changed; pickup-point staff the orders passing their point; a receiver (by
tracking token) their one order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.repository import Happening
from crowdship.service.gaps import IdGaps

log = logging.getLogger("crowdship.live")

POSTED = "posted"


def visible_to(actor: Actor, event: Happening) -> dict[str, Any] | None:
    """What ``actor`` may learn of ``event``: the full message, a bare pool change, or None."""
    full = message(event)
    if actor.role is Role.OPERATOR:
        return full
    if actor.role in (Role.MERCHANT, Role.CUSTOMER):
        return full if event.sender_id == actor.id else None
    if actor.role is Role.STAFF:
        return full if actor.point_id in event.point_ids else None
    if actor.role is Role.COURIER:
        if actor.id in event.courier_ids:
            return full
        if POSTED in (event.from_status, event.to_status):
            return {"kind": "pool", "id": event.id, "order_id": event.order_id}
    return None


def message(event: Happening) -> dict[str, Any]:
    return {
        "kind": "order",
        "id": event.id,
        "order_id": event.order_id,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "status": event.status,
        "at": event.at.isoformat(),
    }


@dataclass(eq=False)
class Subscriber:
    """One open page: a filter and a bounded queue (a stalled page drops, never blocks)."""

    actor: Actor | None  # None: a receiver following one order by token
    order_id: int | None = None
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=1000)
    )

    def select(self, event: Happening) -> dict[str, Any] | None:
        if self.actor is None:
            return message(event) if event.order_id == self.order_id else None
        return visible_to(self.actor, event)

    def offer(self, event: Happening) -> None:
        chosen = self.select(event)
        if chosen is None:
            return
        try:
            self.queue.put_nowait(chosen)
        except asyncio.QueueFull:  # the page will reload what it shows when it reconnects
            log.warning("live feed: a subscriber fell 1000 events behind; dropping an event")


class LiveFeed:
    def __init__(self, context: ServiceContext, interval_s: float = 0.5) -> None:
        self.context = context
        self.interval_s = interval_s
        self.subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_id: int | None = None
        # Events the tail read past before they committed (PostgreSQL): asked for again.
        self._gaps = IdGaps()

    def _read(self, after_id: int) -> list[Happening]:
        with self.context.db.read() as session:
            return orders.happenings_after(session, after_id)

    def _read_new_and_late(self, after_id: int) -> tuple[list[Happening], list[Happening]]:
        missing = self._gaps.pending()
        with self.context.db.read() as session:
            late = orders.happenings_after(session, 0, only=missing) if missing else []
            return orders.happenings_after(session, after_id), late

    def _last(self) -> int:
        with self.context.db.read() as session:
            return orders.last_event_id(session)

    async def subscribe(self, subscriber: Subscriber, after_id: int | None) -> None:
        """Add a page; with ``after_id`` (a reconnect's Last-Event-ID) replay what it missed."""
        if self._task is None or self._task.done():
            self._last_id = await asyncio.to_thread(self._last)
            self._task = asyncio.create_task(self._tail(), name="crowdship-live-feed")
        if after_id is not None and self._last_id is not None and after_id < self._last_id:
            missed = await asyncio.to_thread(self._read, after_id)
            for event in missed:
                if event.id <= self._last_id:
                    subscriber.offer(event)
        self.subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _tail(self) -> None:
        while self.subscribers or self._last_id is not None:
            await asyncio.sleep(self.interval_s)
            if not self.subscribers:
                continue
            after = self._last_id or 0
            try:
                events, late = await asyncio.to_thread(self._read_new_and_late, after)
            except Exception:  # a database hiccup must not end the feed for everyone
                log.exception("live feed: reading order events failed; retrying")
                await asyncio.sleep(2.0)
                continue
            self._gaps.saw(after, [e.id for e in events], [e.id for e in late])
            for event in late + events:
                for subscriber in list(self.subscribers):
                    subscriber.offer(event)
            if events:
                self._last_id = events[-1].id

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
