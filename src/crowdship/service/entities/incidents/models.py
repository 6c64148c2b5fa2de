from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime, enum_column
from crowdship.service.entities.orders.lifecycle import OrderStatus


class IncidentKind(enum.StrEnum):
    DAMAGED = "damaged"
    RECEIVER_ABSENT = "receiver_absent"
    WRONG_ADDRESS = "wrong_address"
    LOST = "lost"
    NOT_RECEIVED = "not_received"
    COURIER_NO_SHOW = "courier_no_show"
    PARCEL_NOT_READY = "parcel_not_ready"
    OTHER = "other"


class Resolution(enum.StrEnum):
    PAY = "pay"  # the delivery stands: the order is settled as usual
    REFUND = "refund"  # the sender is not charged and the courier not paid
    CLOSE = "close"  # nothing to decide (the order already failed); just closed


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reporter_role: Mapped[str] = mapped_column(String(16))  # sender | receiver | courier
    kind: Mapped[IncidentKind] = mapped_column(enum_column(IncidentKind))
    note: Mapped[str] = mapped_column(String(1000), default="")
    order_status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus))  # when reported
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolution: Mapped[Resolution | None] = mapped_column(enum_column(Resolution))
    resolution_note: Mapped[str] = mapped_column(String(1000), default="")
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
