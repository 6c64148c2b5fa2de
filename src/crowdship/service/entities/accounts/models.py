from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime, enum_column


class Role(enum.StrEnum):
    OPERATOR = "operator"
    MERCHANT = "merchant"  # B2C sender
    CUSTOMER = "customer"  # C2C sender, and every receiver
    COURIER = "courier"
    STAFF = "staff"  # works at a pickup point: confirms arrivals, hands parcels out


SENDER_ROLES = frozenset({Role.MERCHANT, Role.CUSTOMER})


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    # How this person wants to hear from the service: sms, email or webhook.
    notify_channel: Mapped[str] = mapped_column(String(16), default="sms", server_default="sms")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Couriers: onboarding, control and payout.
    assessment_passed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    suspension_reason: Mapped[str] = mapped_column(String(300), default="")
    payout_account: Mapped[str | None] = mapped_column(String(64))  # IBAN or similar
    # Staff: the pickup point they work at.
    point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"))
    # Tokens carry the generation they were issued in; a password change starts a new one,
    # so every older token stops working.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RevokedToken(Base):
    """A token logged out before its expiry (kept until then, by its id)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
