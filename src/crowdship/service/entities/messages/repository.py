"""Every query on order messages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdship.service.entities.messages.models import OrderMessage


def add(session: Session, message: OrderMessage) -> OrderMessage:
    session.add(message)
    session.flush()
    return message


def of_order(session: Session, order_id: int) -> list[OrderMessage]:
    query = select(OrderMessage).where(OrderMessage.order_id == order_id)
    return list(session.scalars(query.order_by(OrderMessage.id)))
