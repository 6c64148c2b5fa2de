from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from crowdship.service.entities.trips.models import TripStatus
from crowdship.service.schemas import (
    JSON_INT,
    Address,
    AwareDatetime,
    Latitude,
    Longitude,
    Text,
)


def _after(later: datetime | None, info: ValidationInfo, earlier_name: str) -> None:
    earlier = info.data.get(earlier_name)
    if later is not None and earlier is not None and later <= earlier:
        raise ValueError(f"{later.isoformat()} is not after {earlier_name} {earlier.isoformat()}")


class TripCreate(BaseModel):
    """A journey the courier will make anyway; parcels ride along on it."""

    model_config = ConfigDict(extra="forbid")

    origin_lat: Latitude
    origin_lon: Longitude
    destination_lat: Latitude
    destination_lon: Longitude
    origin_address: Address = ""
    destination_address: Address = ""
    earliest_departure: AwareDatetime
    latest_arrival: AwareDatetime
    capacity: Annotated[int, Field(ge=1, le=1), JSON_INT] = Field(
        default=1, description="parcels; only 1 is supported yet"
    )
    vehicle: Text = Field(
        default="", max_length=60, description="how the shop recognises you: 'blue cargo bike'"
    )

    @field_validator("latest_arrival")
    @classmethod
    def _arrival_after_departure(cls, value: datetime, info: ValidationInfo) -> datetime:
        _after(value, info, "earliest_departure")
        return value


class TripUpdate(BaseModel):
    """Change an open trip; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    origin_lat: Latitude | None = None
    origin_lon: Longitude | None = None
    destination_lat: Latitude | None = None
    destination_lon: Longitude | None = None
    origin_address: Address | None = None
    destination_address: Address | None = None
    earliest_departure: AwareDatetime | None = None
    latest_arrival: AwareDatetime | None = None
    vehicle: Text | None = Field(default=None, max_length=60)


class TripPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    courier_id: int
    origin_lat: float
    origin_lon: float
    destination_lat: float
    destination_lon: float
    origin_address: str
    destination_address: str
    earliest_departure: datetime
    latest_arrival: datetime
    capacity: int
    vehicle: str
    status: TripStatus
    created_at: datetime
    updated_at: datetime
