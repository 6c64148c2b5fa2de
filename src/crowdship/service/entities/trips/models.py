from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime, enum_column


class TripStatus(enum.StrEnum):
    OPEN = "open"  # carries nothing; may receive offers or grab an order
    ASSIGNED = "assigned"  # carries accepted orders (more while its route has room)
    COMPLETED = "completed"  # its orders were delivered
    CANCELLED = "cancelled"


class Trip(Base):
    __tablename__ = "trips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    origin_lat: Mapped[float] = mapped_column(Float)
    origin_lon: Mapped[float] = mapped_column(Float)
    destination_lat: Mapped[float] = mapped_column(Float)
    destination_lon: Mapped[float] = mapped_column(Float)
    origin_address: Mapped[str] = mapped_column(String(300), default="")
    destination_address: Mapped[str] = mapped_column(String(300), default="")
    earliest_departure: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    latest_arrival: Mapped[datetime] = mapped_column(UtcDateTime)
    capacity: Mapped[int] = mapped_column(Integer, default=1)  # parcel units, 1 to 4
    vehicle: Mapped[str] = mapped_column(String(60), default="")  # "blue cargo bike"
    status: Mapped[TripStatus] = mapped_column(enum_column(TripStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
