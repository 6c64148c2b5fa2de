from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime


class Rating(Base):
    """One rating of the courier of an order, by its sender or its receiver (once each)."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("order_id", "rater_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rater_role: Mapped[str] = mapped_column(String(8))  # sender | receiver
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
