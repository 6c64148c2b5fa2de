from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime, enum_column
from crowdship.service.entities.orders.lifecycle import OrderStatus


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pickup_lat: Mapped[float] = mapped_column(Float)
    pickup_lon: Mapped[float] = mapped_column(Float)
    pickup_address: Mapped[str] = mapped_column(String(300))
    delivery_lat: Mapped[float] = mapped_column(Float)
    delivery_lon: Mapped[float] = mapped_column(Float)
    delivery_address: Mapped[str] = mapped_column(String(300))
    earliest_pickup: Mapped[datetime] = mapped_column(UtcDateTime)
    latest_delivery: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    size: Mapped[str] = mapped_column(String(8), default="small")  # small | medium | large
    description: Mapped[str] = mapped_column(String(500), default="")
    receiver_name: Mapped[str] = mapped_column(String(120))
    receiver_phone: Mapped[str] = mapped_column(String(20), index=True)
    fee_cents: Mapped[int] = mapped_column(BigInteger)
    courier_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # the courier's share
    platform_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tariff_version: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    distance_km: Mapped[float] = mapped_column(Float)
    # Payment at receipt: the sender prepays, or the receiver pays the courier in cash.
    payment_method: Mapped[str] = mapped_column(String(16), default="prepaid")
    paid_cents: Mapped[int | None] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pickup_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"), index=True)
    # The campus short leg: the parcel waits at this point and a courier brings it from there.
    from_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"), index=True)
    collected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # from the point
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), index=True)
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("trips.id"), index=True)
    # The courier whose trip carries (or carried) it: set and cleared with trip_id.
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    pickup_code_hash: Mapped[str | None] = mapped_column(String(64))
    pickup_attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivery_code_hash: Mapped[str | None] = mapped_column(String(64))
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The delivery code is derived from this nonce and the secret (security.derived_code),
    # so the receiver's tracking page can show it; the hash above is what is checked.
    delivery_code_nonce: Mapped[str | None] = mapped_column(String(32))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)  # too many wrong codes
    proof_photo_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # see DeliveryPhoto
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrderEvent(Base):
    """One row per transition: who did what, when, from which state to which."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None = the platform
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[OrderStatus | None] = mapped_column(enum_column(OrderStatus))
    to_status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus))
    trip_id: Mapped[int | None] = mapped_column(Integer)
    # The courier the event concerns (whose trip the order was on), for their record.
    courier_id: Mapped[int | None] = mapped_column(Integer, index=True)
    note: Mapped[str] = mapped_column(String(300), default="")


class DeliveryPhoto(Base):
    """The courier's photo of the delivered parcel: proof of delivery, one per order, kept
    for disputes and shown to the order's parties."""

    __tablename__ = "delivery_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
