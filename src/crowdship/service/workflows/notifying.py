"""Telling people what happened, once per event, through the channel each one chose.

The order events the service already records feed the outbox: each state change tells the
sender and the receiver (with the tracking link); an offer tells the courier of the trip,
with its expiry; an order taken off a courier's trip by someone else tells that courier.
Payout runs tell each courier paid. Every notification has a key (event and recipient), so
running the feed again sends nothing twice. The scheduler sends what is due; a failed send
is retried with a growing wait and, after the last attempt, shown to the operator as failed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.notifications import repository as outbox
from crowdship.service.entities.notifications.models import Notification, NotificationStatus
from crowdship.service.entities.orders import handover
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.trips import repository as trips
from crowdship.service.errors import Conflict, NotFound
from crowdship.service.lock import job_lock
from crowdship.service.notify import SendFailed

log = logging.getLogger("crowdship.notify")
FEED = "order_events"
MAX_ATTEMPTS = 5
# An order taken off a courier's trip by someone else: the courier must hear of it.
TAKEN_OFF = {Action.RELEASE.value, Action.LATE_RELEASE.value, Action.CANCEL.value}


RECEIVER_MARK = "r"  # a receiver's token: "{id}-r{digest}"; the sender's: "{id}-{digest}"


def tracking_token(key: str, order_id: int, receiver: bool = False) -> str:
    """A capability for one order's tracking page: no password, nothing else reachable.
    The receiver's own link also shows the code to give at the door; the sender's does not
    (a sender who could read it could hand it to a courier who never delivered)."""
    purpose = f"track-receiver:{order_id}" if receiver else f"track:{order_id}"
    digest = hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()
    return f"{order_id}-{RECEIVER_MARK if receiver else ''}{digest[:24]}"


@dataclass(frozen=True)
class Tracking:
    order_id: int
    receiver: bool  # the receiver's link (shows the door code)


def read_tracking_token(key: str, token: str) -> Tracking | None:
    head, _, rest = token.partition("-")
    if not (head.isascii() and head.isdigit()) or len(head) > 10:
        return None
    order_id = int(head)
    receiver = rest.startswith(RECEIVER_MARK)
    # Bytes: compare_digest refuses str with non-ASCII characters (TypeError, a 500).
    expected = tracking_token(key, order_id, receiver).encode()
    return Tracking(order_id, receiver) if hmac.compare_digest(expected, token.encode()) else None


def order_of_token(key: str, token: str) -> int | None:
    found = read_tracking_token(key, token)
    return found.order_id if found is not None else None


def tracking_link(context: ServiceContext, order_id: int, receiver: bool = False) -> str:
    token = tracking_token(context.settings.signing_key, order_id, receiver)
    return f"{context.settings.public_url.rstrip('/')}/track/{token}"


def _row(key: str, to: User | str, order_id: int | None, subject: str, body: str) -> dict[str, Any]:
    """One notification to an account (through the channel it chose) or, for a receiver
    without an account, to a phone number by SMS."""
    if isinstance(to, str):
        user, channel, address = None, "sms", to
    elif to.notify_channel == "email":
        user, channel, address = to, "email", to.email
    elif to.notify_channel == "webhook":
        user, channel, address = to, "webhook", str(to.id)
    else:
        user, channel, address = to, "sms", to.phone or ""
    return {
        "key": key[:120],
        "recipient_id": user.id if user is not None else None,
        "order_id": order_id,
        "channel": channel,
        "address": address,
        "subject": subject[:200],
        "body": body[:1000],
    }


def _for_event(
    context: ServiceContext,
    event: OrderEvent,
    order: Order,
    users: dict[int, User],
    by_phone: dict[str, User],
    courier_of_trip: dict[int, int],
) -> list[dict[str, Any]]:
    rows = []
    if event.from_status != event.to_status:
        status = str(event.to_status).replace("_", " ")
        subject = f"order {order.id} is {status}"
        said = f"crowdship: your parcel (order {order.id}) is {status}. Track it: "
        receiver = by_phone.get(order.receiver_phone)
        sender = users.get(order.sender_id)
        if sender is not None:
            # A sender who sends to themselves gets the receiver's link (with the door code).
            own = receiver is not None and receiver.id == sender.id
            body = said + tracking_link(context, order.id, receiver=own)
            rows.append(_row(f"e{event.id}:sender", sender, order.id, subject, body))
        if receiver is None or receiver.id != order.sender_id:
            to = receiver if receiver is not None else order.receiver_phone
            body = said + tracking_link(context, order.id, receiver=True)
            rows.append(_row(f"e{event.id}:receiver", to, order.id, subject, body))
    if event.action == Action.OFFER.value and event.trip_id is not None:
        courier = users.get(courier_of_trip.get(event.trip_id, -1))
        if courier is not None:
            expires = event.at + timedelta(minutes=context.settings.offer_ttl_min)
            rows.append(
                _row(
                    f"e{event.id}:offer",
                    courier,
                    order.id,
                    f"new offer: order {order.id}",
                    f"crowdship: a new offer for your trip {event.trip_id}: order {order.id} from "
                    f"{order.pickup_address} to {order.delivery_address}. Answer by "
                    f"{expires:%H:%M} UTC or it expires.",
                )
            )
    if (
        event.action in TAKEN_OFF
        and event.courier_id is not None
        and (event.actor_id != event.courier_id)
    ):
        courier = users.get(event.courier_id)
        if courier is not None:
            rows.append(
                _row(
                    f"e{event.id}:taken",
                    courier,
                    order.id,
                    f"order {order.id} left your trip",
                    f"crowdship: order {order.id} was taken off your trip "
                    f"({event.note or event.action}).",
                )
            )
    return rows


def enqueue_from_events(context: ServiceContext, limit: int = 2000) -> int:
    """Turn new order events into notifications (one transaction); how many were added.

    One process at a time (a lock): two would read the same events and insert the same
    keys. Events that commit after the feed has read past them (PostgreSQL gives ids at
    insert, not at commit) are read again from ``context.notification_gaps``; the keys
    keep a notification from being added twice."""
    with job_lock(context.db, "notifications") as held:
        if not held:
            return 0
        return _enqueue_from_events(context, limit)


def _enqueue_from_events(context: ServiceContext, limit: int) -> int:
    now = context.clock.now()
    gaps = context.notification_gaps
    with context.db.write() as session:
        position = outbox.cursor(session, FEED)
        late = orders.events_with_ids(session, gaps.pending()[:limit])
        events = orders.events_after(session, position, limit)
        if not events and not late:
            return 0
        every = late + events
        found = orders.by_ids(session, {e.order_id for e in every})
        trip_ids = {e.trip_id for e in every if e.trip_id is not None}
        courier_of_trip = trips.courier_of(session, trip_ids) if trip_ids else {}
        people = {o.sender_id for o in found.values()} | set(courier_of_trip.values())
        people |= {e.courier_id for e in every if e.courier_id is not None}
        users = accounts.by_ids(session, people)
        by_phone = accounts.by_phones(session, {o.receiver_phone for o in found.values()})
        rows = [
            row
            for event in every
            if event.order_id in found
            for row in _for_event(
                context, event, found[event.order_id], users, by_phone, courier_of_trip
            )
        ]
        added = outbox.enqueue(session, rows, now)
        if events:
            outbox.move_cursor(session, FEED, events[-1].id)
        session.commit()
    gaps.saw(position, [e.id for e in events], [e.id for e in late])
    if late:
        log.info("notifications: %d order events read after they committed late", len(late))
    return added


def to_account(key: str, user: User, subject: str, body: str) -> dict[str, Any]:
    """One notification to an account, for ``notify``."""
    return _row(key, user, None, subject, body)


def notify(session: Session, context: ServiceContext, rows: list[dict[str, Any]]) -> int:
    """Enqueue notifications (part of the caller's transaction); how many were new."""
    return outbox.enqueue(session, rows, context.clock.now())


# Messages claimed, sent and recorded together: at most this many are sent twice if the
# process dies mid-batch.
SEND_BATCH = 25


def send_due(context: ServiceContext, limit: int = 200) -> tuple[int, int]:
    """Send what is due; (sent, failed attempts). Each send happens outside any database
    transaction, between claiming the notification and recording the outcome. Claims and
    outcomes are written a batch at a time (a few statements per batch, not two commits
    per message); a process that dies mid-batch leaves its claims to ``release_stale``,
    so a message is sent at least once."""
    now = context.clock.now()
    with context.db.write() as session:
        outbox.release_stale(session, now - timedelta(minutes=10))
        due = outbox.due(session, now, limit)  # kept readable after the session (no expiry)
        session.commit()
    sent = failed = 0
    for start in range(0, len(due), SEND_BATCH):
        batch = due[start : start + SEND_BATCH]
        with context.db.write() as session:
            claimed = outbox.claim_many(session, [n.id for n in batch], now)
            session.commit()
        outcomes: list[dict[str, Any]] = []
        for notice in batch:
            if notice.id not in claimed:
                continue
            tries = notice.attempts + 1
            try:
                context.notifier.send(notice.channel, notice.address, notice.subject, notice.body)
            except SendFailed as error:
                failed += 1
                final = tries >= MAX_ATTEMPTS
                log.warning("notification %d, attempt %d: %s", notice.id, tries, error)
                outcomes.append(
                    {
                        "id": notice.id,
                        "status": NotificationStatus.FAILED
                        if final
                        else NotificationStatus.PENDING,
                        "attempts": tries,
                        "last_error": str(error)[:500],
                        "next_attempt_at": now + timedelta(minutes=2**tries),
                    }
                )
                continue
            sent += 1
            outcomes.append(
                {
                    "id": notice.id,
                    "status": NotificationStatus.SENT,
                    "attempts": tries,
                    "last_error": "",
                    "sent_at": now,
                }
            )
        with context.db.write() as session:
            outbox.finish_many(session, outcomes)
            session.commit()
    return sent, failed


def run(context: ServiceContext) -> None:
    """The scheduler's step: new events into the outbox, then send what is due."""
    added = enqueue_from_events(context)
    sent, failed = send_due(context)
    if added or sent or failed:
        log.info("notifications: %d new, %d sent, %d failed attempts", added, sent, failed)


# -- reading and the operator ------------------------------------------------------------


def listed(
    session: Session,
    actor: Actor,
    status: NotificationStatus | None,
    order_id: int | None,
    limit: int,
) -> list[Notification]:
    """Operators: every notification (failed ones to act on); others: their own."""
    mine = None if actor.role == Role.OPERATOR else actor.id
    return outbox.listed(session, status, mine, order_id, limit)


def retry(
    session: Session, context: ServiceContext, actor: Actor, notification_id: int
) -> Notification:
    actor.require(Role.OPERATOR)
    if not outbox.retry(session, notification_id, context.clock.now()):
        found = outbox.get(session, notification_id)
        if found is None:
            raise NotFound(f"notification {notification_id} not found")
        raise Conflict(
            f"notification {notification_id} is {found.status.value}; only failed ones are "
            "retried by hand",
            status=found.status.value,
        )
    found = outbox.get(session, notification_id)
    assert found is not None
    session.refresh(found)
    return found


def choose_channel(session: Session, actor: Actor, channel: str) -> User:
    user = accounts.get(session, actor.id)
    if user is None:
        raise NotFound("this account does not exist")
    user.notify_channel = channel
    session.flush()
    return user


def track(session: Session, context: ServiceContext, token: str) -> tuple[Order, str | None]:
    """The order behind a tracking link (404 for anything else), and for the receiver's
    link, the code to give while the code is what the next hand-over needs: at the door
    while the courier carries it, or at the pickup point until it is collected."""
    found = read_tracking_token(context.settings.signing_key, token)
    order = orders.get(session, found.order_id) if found is not None else None
    if order is None or found is None:
        raise NotFound("no such tracking link")
    at_door = order.status == OrderStatus.PICKED_UP and order.pickup_point_id is None
    at_point = (
        order.pickup_point_id is not None
        and order.status in (OrderStatus.PICKED_UP, OrderStatus.DELIVERED)
        and order.collected_at is None
    )
    shown = found.receiver and (at_door or at_point) and not order.locked
    return order, handover.delivery_code(context, order) if shown else None
