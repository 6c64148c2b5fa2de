from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.orders.lifecycle import Action, OrderStatus, target
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.errors import Conflict, NotFound

# The tables themselves, for Core INSERTs on hot paths (no ORM unit of work).
ORDERS = cast(Table, Order.__table__)
ORDER_EVENTS = cast(Table, OrderEvent.__table__)


def get(session: Session, order_id: int, for_update: bool = False) -> Order | None:
    query = select(Order).where(Order.id == order_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def status_of(session: Session, order_id: int) -> OrderStatus | None:
    return session.scalar(select(Order.status).where(Order.id == order_id))


def transition(
    session: Session,
    order_id: int,
    action: Action,
    actor_id: int | None,
    now: datetime,
    note: str = "",
    **values: Any,
) -> OrderStatus:
    """Apply ``action`` as one compare-and-set UPDATE and record the event.

    The current state is read, the transition table says where it may go, and the UPDATE
    only succeeds if nobody changed the state in between; otherwise 409 with the state now.
    """
    current = status_of(session, order_id)
    if current is None:
        raise NotFound(f"order {order_id} not found")
    new = target(action, current)
    result = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == current)
        .values(status=new, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        latest = status_of(session, order_id)
        raise Conflict(
            f"order {order_id} changed to {latest} while you tried to {action.value}",
            status=str(latest),
        )
    record(session, order_id, action, actor_id, now, current, new, values.get("trip_id"), note)
    return new


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
) -> None:
    session.execute(
        insert(ORDER_EVENTS),
        {
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
