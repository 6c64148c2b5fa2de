from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime, enum_column


class OfferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"  # not answered in time: counts as a rejection
    WITHDRAWN = "withdrawn"  # the platform took it back (order cancelled, trip cancelled)


class Offer(Base):
    __tablename__ = "offers"
    # A pair is offered at most once: whatever became of its offer (rejected, expired,
    # withdrawn), it is never proposed again (repository.offered_pairs).
    __table_args__ = (UniqueConstraint("order_id", "trip_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"), index=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id"))
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), index=True)
    detour_min: Mapped[float] = mapped_column(Float)
    planned_pickup: Mapped[datetime] = mapped_column(UtcDateTime)
    planned_delivery: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MatchingRun(Base):
    """One batch of the rolling horizon: what it saw, what it offered, how long it took."""

    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled | operator
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    open_orders: Mapped[int] = mapped_column(Integer, default=0)
    free_trips: Mapped[int] = mapped_column(Integer, default=0)
    feasible_pairs: Mapped[int] = mapped_column(Integer, default=0)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    total_detour_min: Mapped[float] = mapped_column(Float, default=0.0)
    load_s: Mapped[float] = mapped_column(Float, default=0.0)
    match_s: Mapped[float] = mapped_column(Float, default=0.0)
    write_s: Mapped[float] = mapped_column(Float, default=0.0)
