"""Who may see an order, and reading orders as their parties see them. Never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import repository
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.errors import NotFound


def can_see(actor: Actor, order: Order) -> bool:
    if actor.role == Role.OPERATOR or order.sender_id == actor.id:
        return True
    if actor.role == Role.COURIER:
        return order.courier_id == actor.id
    if actor.role == Role.STAFF:  # parcels coming to their point, or waiting at it
        return actor.point_id is not None and actor.point_id in (
            order.pickup_point_id,
            order.from_point_id,
        )
    return actor.role == Role.CUSTOMER and actor.phone == order.receiver_phone


def role_in(actor: Actor, order: Order) -> str:
    """The part an actor who can see the order plays in it: operator, courier, sender,
    staff (of its pickup point) or receiver."""
    if actor.role == Role.OPERATOR:
        return "operator"
    if actor.role == Role.COURIER and order.courier_id == actor.id:
        return "courier"
    if order.sender_id == actor.id:
        return "sender"
    if actor.role == Role.STAFF:
        return "staff"
    return "receiver"


def visible(session: Session, actor: Actor, order_id: int) -> Order:
    """The order if the actor is one of its parties; 404 otherwise (no existence leaks)."""
    order = repository.get(session, order_id)
    if order is None or not can_see(actor, order):
        raise NotFound(f"order {order_id} not found")
    return order


def carried(session: Session, actor: Actor, order_id: int) -> Order:
    """An order the calling courier carries (or carried); 404 for anyone else."""
    actor.require(Role.COURIER)
    order = visible(session, actor, order_id)
    if order.courier_id != actor.id:
        raise NotFound(f"order {order_id} not found")
    return order


def fresh(session: Session, order_id: int) -> Order:
    """Reload after compare-and-set UPDATEs, which bypass the ORM's copy."""
    order = repository.reload(session, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def list_visible(
    session: Session, actor: Actor, status: OrderStatus | None, limit: int, offset: int
) -> list[Order]:
    """Orders the actor sent, receives, carries, handles at their point; operators: all."""
    find = repository.Parties(
        everyone=actor.role == Role.OPERATOR,
        sender_id=actor.id if actor.role in (Role.MERCHANT, Role.CUSTOMER) else None,
        courier_id=actor.id if actor.role == Role.COURIER else None,
        receiver_phone=(actor.phone or "") if actor.role == Role.CUSTOMER else None,
        point_id=(actor.point_id or -1) if actor.role == Role.STAFF else None,
    )
    return repository.visible_to(session, find, status, limit, offset)


def events(session: Session, actor: Actor, order_id: int) -> list[OrderEvent]:
    visible(session, actor, order_id)
    return repository.events(session, order_id)
