"""Handover codes: the courier shows a pickup code to the sender; the receiver gets a
one-time delivery code by SMS once the parcel is picked up (never before) and gives it to
the courier. Codes are stored as keyed hashes; wrong codes are counted and lock the order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.db import after_commit
from crowdship.service.entities.orders import repository
from crowdship.service.entities.orders.models import Order
from crowdship.service.errors import Locked, LockedNow, WrongCode
from crowdship.service.security import (
    code_matches,
    derived_code,
    hash_code,
    new_code,
    new_nonce,
)

PICKUP = "pickup"
DELIVERY = "delivery"


def issue_pickup_code(
    session: Session, context: ServiceContext, order_id: int, now: datetime
) -> str:
    columns, code = new_pickup_code(context, order_id)
    repository.set_fields(session, order_id, now, **columns)
    return code


def new_pickup_code(context: ServiceContext, order_id: int) -> tuple[dict[str, Any], str]:
    """A new pickup code: the columns to store (the caller writes them, e.g. in the
    acceptance's own UPDATE) and the code, shown to the courier."""
    code = new_code()
    key = context.settings.signing_key
    return {"pickup_code_hash": hash_code(code, PICKUP, order_id, key), "pickup_attempts": 0}, code


def send_delivery_code(
    session: Session, context: ServiceContext, order: Order, now: datetime
) -> None:
    """New delivery code, texted to the receiver after the transaction commits."""
    repository.set_fields(session, order.id, now, **new_delivery_code(session, context, order))


def new_delivery_code(session: Session, context: ServiceContext, order: Order) -> dict[str, Any]:
    """A new delivery code for ``order``: the columns to store (the caller writes them, e.g.
    in the pickup's own UPDATE), and the receiver's text, sent after the transaction
    commits."""
    key = context.settings.signing_key
    nonce = new_nonce()
    code = derived_code(DELIVERY, order.id, nonce, key)
    stored = {
        "delivery_code_hash": hash_code(code, DELIVERY, order.id, key),
        "delivery_code_nonce": nonce,
        "delivery_attempts": 0,
    }
    if order.pickup_point_id is None:
        text = (
            f"crowdship: your parcel (order {order.id}) has been picked up and is on its way "
            f"to {order.delivery_address}. Give the courier this code on delivery: {code}"
        )
    else:
        text = (
            f"crowdship: your parcel (order {order.id}) has been picked up and is on its way "
            f"to the pickup point {order.delivery_address}. Collect it there with this code: "
            f"{code}"
        )
    sms, phone = context.sms, order.receiver_phone
    after_commit(session, lambda: sms.send(phone, text))
    return stored


def verify(
    session: Session,
    context: ServiceContext,
    order: Order,
    purpose: str,
    code: str,
    now: datetime,
) -> None:
    """Pass if ``code`` is right; otherwise count the attempt and refuse (and lock at the
    limit, for the operator to review)."""
    if order.locked:
        raise Locked(
            f"order {order.id} is locked after too many wrong codes; the operator must review it",
            status=order.status.value,
        )
    stored = order.pickup_code_hash if purpose == PICKUP else order.delivery_code_hash
    if code_matches(code, stored, purpose, order.id, context.settings.signing_key):
        return
    attempts_field = "pickup_attempts" if purpose == PICKUP else "delivery_attempts"
    attempts = getattr(order, attempts_field) + 1
    limit = context.settings.max_code_attempts
    locked = attempts >= limit
    repository.set_fields(session, order.id, now, locked=locked, **{attempts_field: attempts})
    if locked:
        repository.record(
            session,
            order.id,
            "lock",
            None,
            now,
            order.status,
            order.status,
            note=f"{attempts} wrong {purpose} codes",
        )
        raise LockedNow(
            f"wrong {purpose} code; order {order.id} is now locked after {attempts} wrong codes "
            "and must be reviewed by the operator",
            status=order.status.value,
        )
    raise WrongCode("code", f"wrong {purpose} code ({limit - attempts} attempts left)")


def delivery_code(context: ServiceContext, order: Order) -> str | None:
    """The receiver's current delivery code (None before the pickup)."""
    if order.delivery_code_nonce is None:
        return None
    return derived_code(DELIVERY, order.id, order.delivery_code_nonce, context.settings.signing_key)
