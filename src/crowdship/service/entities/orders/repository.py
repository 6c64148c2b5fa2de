"""Every query on orders and their events. Status changes go through ``transition`` (one
order) and ``transition_many`` (a batch), both guarded by the transition table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.orders.lifecycle import (
    FINAL_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    OrderStatus,
    target,
)
from crowdship.service.entities.orders.models import DeliveryPhoto, Order, OrderEvent
from crowdship.service.entities.trips.models import Trip
from crowdship.service.errors import Conflict, NotFound

# The tables themselves, for Core INSERTs on hot paths (no ORM unit of work).
ORDERS = cast(Table, Order.__table__)
ORDER_EVENTS = cast(Table, OrderEvent.__table__)


def get(session: Session, order_id: int, for_update: bool = False) -> Order | None:
    query = select(Order).where(Order.id == order_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def reload(session: Session, order_id: int) -> Order | None:
    """The order as stored now (compare-and-set UPDATEs bypass the ORM's copy)."""
    return session.get(Order, order_id, populate_existing=True)


def status_of(session: Session, order_id: int) -> OrderStatus | None:
    return session.scalar(select(Order.status).where(Order.id == order_id))


def transition(
    session: Session,
    order_id: int,
    action: Action,
    actor_id: int | None,
    now: datetime,
    note: str = "",
    concerns: int | None = None,
    **values: Any,
) -> OrderStatus:
    """Apply ``action`` as one compare-and-set UPDATE and record the event (``concerns``:
    the courier the event is about, when the order itself leaves them).

    The current state is read, the transition table says where it may go, and the UPDATE
    only succeeds if nobody changed the state in between; otherwise 409 with the state now.
    """
    current = status_of(session, order_id)
    if current is None:
        raise NotFound(f"order {order_id} not found")
    guarded = _guarded_update(order_id, action, current, now, values)
    if session.execute(guarded).rowcount != 1:  # type: ignore[attr-defined]
        _changed_meanwhile(session, order_id, action)
    new = target(action, current)
    _record_transition(
        session, order_id, action, actor_id, now, current, new, note, concerns, values
    )
    return new


def transition_order(
    session: Session,
    order: Order,
    action: Action,
    actor_id: int | None,
    now: datetime,
    note: str = "",
    concerns: int | None = None,
    **values: Any,
) -> Order:
    """``transition`` for an order the caller has just read: its status read then is the
    expected one (no second read), and the row comes back from the UPDATE itself
    (``RETURNING``) into ``order``, so the caller needs no reload either. Two round trips
    fewer on the hot paths (pickup, delivery)."""
    return transition_from(
        session, order.id, order.status, action, actor_id, now, note, concerns, **values
    )


def transition_from(
    session: Session,
    order_id: int,
    expected: OrderStatus,
    action: Action,
    actor_id: int | None,
    now: datetime,
    note: str = "",
    concerns: int | None = None,
    **values: Any,
) -> Order:
    """``transition`` when the caller knows the state the order must be in (``expected``,
    e.g. offered while its offer was pending): the guarded UPDATE alone decides, and returns
    the row. If the order is in another state, 409 with the state it is in."""
    guarded = _guarded_update(order_id, action, expected, now, values).returning(Order)
    fresh = session.execute(
        guarded, execution_options={"populate_existing": True}
    ).scalar_one_or_none()
    if fresh is None:
        _changed_meanwhile(session, order_id, action)
    new = target(action, expected)
    _record_transition(
        session, order_id, action, actor_id, now, expected, new, note, concerns, values
    )
    return cast(Order, fresh)


def _guarded_update(
    order_id: int, action: Action, current: OrderStatus, now: datetime, values: dict[str, Any]
) -> Any:
    new = target(action, current)  # refuses a transition the table does not allow
    return (
        update(Order)
        .where(Order.id == order_id, Order.status == current)
        .values(status=new, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def _changed_meanwhile(session: Session, order_id: int, action: Action) -> None:
    latest = status_of(session, order_id)
    if latest is None:
        raise NotFound(f"order {order_id} not found")
    raise Conflict(
        f"order {order_id} changed to {latest} while you tried to {action.value}",
        status=str(latest),
    )


def _record_transition(
    session: Session,
    order_id: int,
    action: Action,
    actor_id: int | None,
    now: datetime,
    current: OrderStatus,
    new: OrderStatus,
    note: str,
    concerns: int | None,
    values: dict[str, Any],
) -> None:
    record(
        session,
        order_id,
        action,
        actor_id,
        now,
        current,
        new,
        values.get("trip_id"),
        note,
        # The courier concerned: named, or the one the order now goes to.
        courier_id=concerns if concerns is not None else values.get("courier_id"),
    )


@dataclass(frozen=True)
class Change:
    """One order of a batch transition, with what its event records."""

    order_id: int
    trip_id: int | None = None
    note: str = ""


def transition_many(
    session: Session,
    changes: Sequence[Change],
    action: Action,
    actor_id: int | None,
    now: datetime,
    **values: Any,
) -> None:
    """Apply ``action`` to every order of ``changes`` in one guarded UPDATE, and record an
    event for each. The batch is all or nothing: if any order is no longer in the action's
    source state, Conflict (the caller holds row locks, so this means a bug, not a race)."""
    if not changes:
        return
    sources, to = TRANSITIONS[action]
    if len(sources) != 1:
        raise ValueError(f"{action.value} has several source states; move orders one by one")
    (source,) = sources
    ids = [c.order_id for c in changes]
    moved = session.execute(
        update(Order)
        .where(Order.id.in_(ids), Order.status == source)
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved != len(ids):
        raise Conflict(
            f"{len(ids) - moved} of {len(ids)} orders left {source.value} before they could "
            f"{action.value}; nothing was changed",
            status=source.value,
        )
    session.execute(
        insert(ORDER_EVENTS),
        [
            {
                "order_id": c.order_id,
                "at": now,
                "actor_id": actor_id,
                "action": action.value,
                "from_status": source,
                "to_status": to,
                "trip_id": c.trip_id,
                "note": c.note,
            }
            for c in changes
        ],
    )


def record(
    session: Session,
    order_id: int,
    action: Action | str,
    actor_id: int | None,
    now: datetime,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    trip_id: int | None = None,
    note: str = "",
    courier_id: int | None = None,
) -> None:
    """One event row; ``courier_id``: the courier it concerns, if any."""
    session.execute(
        insert(ORDER_EVENTS),
        {
            "courier_id": courier_id,
            "order_id": order_id,
            "at": now,
            "actor_id": actor_id,
            "action": str(action),
            "from_status": from_status,
            "to_status": to_status,
            "trip_id": trip_id,
            "note": note,
        },
    )


def insert_order(session: Session, row: dict[str, Any]) -> int:
    """Insert one order row (Core, no ORM object); its id."""
    result = session.execute(insert(ORDERS), row)
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


def events_after(session: Session, position: int, limit: int) -> list[OrderEvent]:
    """Every order's events after ``position`` (an event id), oldest first."""
    query = select(OrderEvent).where(OrderEvent.id > position).order_by(OrderEvent.id)
    return list(session.scalars(query.limit(limit)))


def events_with_ids(session: Session, event_ids: Iterable[int]) -> list[OrderEvent]:
    ids = sorted(set(event_ids))
    if not ids:
        return []
    query = select(OrderEvent).where(OrderEvent.id.in_(ids)).order_by(OrderEvent.id)
    return list(session.scalars(query))


def events(session: Session, order_id: int) -> list[OrderEvent]:
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    return list(session.scalars(query))


def set_fields(session: Session, order_id: int, now: datetime, **values: Any) -> None:
    session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def on_trip(session: Session, trip_id: int) -> list[Order]:
    return list(session.scalars(select(Order).where(Order.trip_id == trip_id)))


def on_trips(session: Session, trip_ids: Iterable[int]) -> list[Order]:
    """Every order on these trips (carried, delivered or ended), read afresh: a transition
    earlier in the transaction (a compare-and-set UPDATE) is already in what it returns."""
    ids = set(trip_ids)
    if not ids:
        return []
    query = (
        select(Order)
        .where(Order.trip_id.in_(ids))
        .order_by(Order.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def by_ids(session: Session, order_ids: Iterable[int]) -> dict[int, Order]:
    ids = set(order_ids)
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)))}


def open_orders(session: Session, now: datetime) -> list[Order]:
    """Orders in the pool: posted, not locked, their latest delivery still ahead."""
    query = (
        select(Order)
        .where(Order.status == OrderStatus.POSTED, Order.latest_delivery > now, ~Order.locked)
        .order_by(Order.id)
    )
    return list(session.scalars(query))


def lock_posted(session: Session, order_ids: Iterable[int]) -> set[int]:
    """Which of these orders are still posted, locked for the rest of the transaction."""
    query = (
        select(Order.id)
        .where(Order.id.in_(set(order_ids)), Order.status == OrderStatus.POSTED)
        .with_for_update()
    )
    return set(session.scalars(query))


@dataclass(frozen=True)
class Window:
    """Where an open order goes and by when, for the expiry check."""

    order_id: int
    pickup: tuple[float, float]
    delivery: tuple[float, float]
    latest_delivery: datetime


def open_windows(session: Session) -> list[Window]:
    query = select(
        Order.id,
        Order.pickup_lat,
        Order.pickup_lon,
        Order.delivery_lat,
        Order.delivery_lon,
        Order.latest_delivery,
    ).where(Order.status.in_(OPEN_STATES))
    return [
        Window(
            r.id, (r.pickup_lat, r.pickup_lon), (r.delivery_lat, r.delivery_lon), r.latest_delivery
        )
        for r in session.execute(query)
    ]


@dataclass(frozen=True)
class Parties:
    """Whose orders to list: any order where one of the given parties appears."""

    everyone: bool = False
    sender_id: int | None = None
    courier_id: int | None = None
    receiver_phone: str | None = None
    point_id: int | None = None


def visible_to(
    session: Session, parties: Parties, status: OrderStatus | None, limit: int, offset: int
) -> list[Order]:
    """The parties' orders (all with ``everyone``), newest first."""
    query = select(Order).order_by(Order.id.desc()).limit(limit).offset(offset)
    if not parties.everyone:
        conditions = []
        if parties.sender_id is not None:
            conditions.append(Order.sender_id == parties.sender_id)
        if parties.courier_id is not None:
            conditions.append(Order.courier_id == parties.courier_id)
        if parties.receiver_phone is not None:
            conditions.append(Order.receiver_phone == parties.receiver_phone)
        if parties.point_id is not None:
            conditions.append(Order.pickup_point_id == parties.point_id)
            conditions.append(Order.from_point_id == parties.point_id)
        if not conditions:
            return []
        query = query.where(or_(*conditions))
    if status is not None:
        query = query.where(Order.status == status)
    return list(session.scalars(query))


# -- money -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Deliverable:
    """A delivered order as settlement books it."""

    id: int
    courier_id: int
    fee_cents: int
    courier_cents: int
    platform_cents: int
    payment_method: str


def _bookable(session: Session, *conditions: Any) -> list[Deliverable]:
    """Orders settlement books, by id, locked for the run."""
    query = (
        select(
            Order.id,
            Order.courier_id,
            Order.fee_cents,
            Order.courier_cents,
            Order.platform_cents,
            Order.payment_method,
        )
        .where(Order.courier_id.is_not(None), *conditions)
        .order_by(Order.id)
        .with_for_update()
    )
    return [
        Deliverable(
            id=r.id,
            courier_id=int(r.courier_id),
            fee_cents=r.fee_cents,
            courier_cents=r.courier_cents,
            platform_cents=r.platform_cents,
            payment_method=r.payment_method,
        )
        for r in session.execute(query)
    ]


def _cash_held() -> list[Any]:
    """A refunded cash-on-delivery order whose cash the courier collected and still holds
    (not booked yet: ``settled_at`` is empty)."""
    return [
        Order.status == OrderStatus.FAILED,
        Order.payment_method == "cash_on_delivery",
        Order.paid_cents.is_not(None),
        Order.settled_at.is_(None),
    ]


def delivered_before(session: Session, end: datetime) -> list[Deliverable]:
    """Delivered, unsettled orders handed over before ``end``, locked for settlement."""
    return _bookable(session, Order.status == OrderStatus.DELIVERED, Order.delivered_at < end)


def refunded_cash_before(session: Session, end: datetime) -> list[Deliverable]:
    """Cash still held for orders refunded before ``end``, locked for settlement."""
    return _bookable(session, *_cash_held(), Order.updated_at < end)


def cash_held_by(session: Session, courier_id: int) -> int:
    """Cash a courier collected on orders refunded since, not yet booked."""
    query = select(func.coalesce(func.sum(Order.paid_cents), 0)).where(
        Order.courier_id == courier_id, *_cash_held()
    )
    return int(session.scalar(query) or 0)


def any_delivered_before(session: Session, end: datetime) -> bool:
    query = select(Order.id).where(Order.status == OrderStatus.DELIVERED, Order.delivered_at < end)
    return session.scalar(query.limit(1)) is not None


def count_disputed_before(session: Session, end: datetime) -> int:
    query = select(func.count()).where(
        Order.status == OrderStatus.DISPUTED, Order.delivered_at < end
    )
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class Earning:
    """A courier's handed-over, unsettled order, as the wallet counts it."""

    status: OrderStatus
    payment_method: str
    fee_cents: int
    courier_cents: int


def unsettled_of(session: Session, courier_id: int) -> list[Earning]:
    query = select(Order.status, Order.payment_method, Order.fee_cents, Order.courier_cents).where(
        Order.courier_id == courier_id,
        Order.status.in_([OrderStatus.DELIVERED, OrderStatus.DISPUTED]),
    )
    return [
        Earning(r.status, r.payment_method, r.fee_cents, r.courier_cents)
        for r in session.execute(query)
    ]


# -- reliability -------------------------------------------------------------------------


def actions_by(
    session: Session, actor_ids: Sequence[int], actions: Sequence[Action]
) -> Counter[tuple[int, str]]:
    """How often each actor took each of ``actions``: (actor, action) -> count."""
    counts: Counter[tuple[int, str]] = Counter()
    query = (
        select(OrderEvent.actor_id, OrderEvent.action, func.count())
        .where(
            OrderEvent.actor_id.in_(actor_ids), OrderEvent.action.in_([a.value for a in actions])
        )
        .group_by(OrderEvent.actor_id, OrderEvent.action)
    )
    for actor_id, action, n in session.execute(query):
        counts[(int(actor_id or 0), str(action))] = int(n)
    return counts


def concerning(session: Session, courier_ids: Sequence[int], action: Action) -> Counter[int]:
    """How many ``action`` events concern each courier."""
    query = (
        select(OrderEvent.courier_id, func.count())
        .where(OrderEvent.courier_id.in_(courier_ids), OrderEvent.action == action.value)
        .group_by(OrderEvent.courier_id)
    )
    return Counter({int(c or 0): int(n) for c, n in session.execute(query)})


def statuses_by_courier(session: Session, courier_ids: Sequence[int]) -> Counter[tuple[int, str]]:
    """Orders each courier carries or carried, by state: (courier, status) -> count."""
    counts: Counter[tuple[int, str]] = Counter()
    query = (
        select(Order.courier_id, Order.status, func.count())
        .where(Order.courier_id.in_(courier_ids))
        .group_by(Order.courier_id, Order.status)
    )
    for courier_id, status, n in session.execute(query):
        counts[(int(courier_id or 0), str(status))] = int(n)
    return counts


@dataclass(frozen=True)
class Happening:
    """An order event with what is needed to decide who may hear of it (the live feed)."""

    id: int
    order_id: int
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    status: str  # the order's status now
    sender_id: int
    courier_ids: frozenset[int]  # the event's courier, the order's, the trip's
    receiver_phone: str
    point_ids: frozenset[int]  # pickup points the order passes


def last_event_id(session: Session) -> int:
    return int(session.execute(select(func.max(OrderEvent.id))).scalar() or 0)


def happenings_after(
    session: Session, after_id: int, limit: int = 500, only: Iterable[int] | None = None
) -> list[Happening]:
    """Order events with an id above ``after_id``, oldest first (an indexed range scan);
    with ``only``, just those ids (events that committed late)."""
    query = (
        select(
            OrderEvent.id,
            OrderEvent.order_id,
            OrderEvent.at,
            OrderEvent.action,
            OrderEvent.from_status,
            OrderEvent.to_status,
            OrderEvent.courier_id.label("event_courier"),
            Order.status,
            Order.sender_id,
            Order.courier_id.label("order_courier"),
            Order.receiver_phone,
            Order.pickup_point_id,
            Order.from_point_id,
            Trip.courier_id.label("trip_courier"),
        )
        .join(Order, Order.id == OrderEvent.order_id)
        .outerjoin(Trip, Trip.id == OrderEvent.trip_id)
        .where(OrderEvent.id > after_id)
        .order_by(OrderEvent.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(OrderEvent.id.in_(sorted(set(only))))
    return [
        Happening(
            id=r.id,
            order_id=r.order_id,
            at=r.at,
            action=r.action,
            from_status=r.from_status.value if r.from_status is not None else None,
            to_status=r.to_status.value,
            status=r.status.value,
            sender_id=r.sender_id,
            courier_ids=frozenset(
                c for c in (r.event_courier, r.order_courier, r.trip_courier) if c is not None
            ),
            receiver_phone=r.receiver_phone,
            point_ids=frozenset(p for p in (r.pickup_point_id, r.from_point_id) if p is not None),
        )
        for r in session.execute(query)
    ]


@dataclass(frozen=True)
class DayFigures:
    """Orders posted in a window and how they fared (the operator's KPIs)."""

    posted: int
    matched: int  # reached a courier: accepted or further
    delivered: int
    on_time: int  # delivered by latest_delivery
    minutes_to_match: list[float]
    by_status: dict[str, int]


def day_figures(session: Session, start: datetime, end: datetime) -> DayFigures:
    rows = session.execute(
        select(
            Order.status,
            Order.created_at,
            Order.accepted_at,
            Order.delivered_at,
            Order.latest_delivery,
        ).where(Order.created_at >= start, Order.created_at < end)
    ).all()
    by_status: Counter[str] = Counter(r.status.value for r in rows)
    waits = [
        (r.accepted_at - r.created_at).total_seconds() / 60.0
        for r in rows
        if r.accepted_at is not None
    ]
    delivered = [r for r in rows if r.delivered_at is not None]
    return DayFigures(
        posted=len(rows),
        matched=len(waits),
        delivered=len(delivered),
        on_time=sum(1 for r in delivered if r.delivered_at <= r.latest_delivery),
        minutes_to_match=waits,
        by_status=dict(by_status),
    )


def map_rows(session: Session, since: datetime, limit: int) -> list[Any]:
    """Orders worth drawing: every unfinished one, and those finished since ``since``
    (only the columns a map needs)."""
    query = (
        select(
            Order.id,
            Order.status,
            Order.trip_id,
            Order.latest_delivery,
            Order.pickup_lat,
            Order.pickup_lon,
            Order.delivery_lat,
            Order.delivery_lon,
        )
        .where(or_(Order.status.not_in(FINAL_STATES), Order.updated_at >= since))
        .order_by(Order.id.desc())
        .limit(limit)
    )
    return list(session.execute(query))


def add_photo(session: Session, photo: DeliveryPhoto) -> None:
    session.add(photo)
    session.execute(
        update(Order).where(Order.id == photo.order_id).values(proof_photo_at=photo.taken_at)
    )


def photo_of(session: Session, order_id: int) -> DeliveryPhoto | None:
    return session.scalars(select(DeliveryPhoto).where(DeliveryPhoto.order_id == order_id)).first()
