from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from crowdship.service.entities.trips.models import TripStatus
from crowdship.service.schemas import (
    JSON_INT,
    Address,
    AwareDatetime,
    Latitude,
    Longitude,
    Minutes,
    PlannedTime,
    Text,
)


def _after(later: datetime | None, info: ValidationInfo, earlier_name: str) -> None:
    earlier = info.data.get(earlier_name)
    if later is not None and earlier is not None and later <= earlier:
        raise ValueError(f"{later.isoformat()} is not after {earlier_name} {earlier.isoformat()}")


MAX_CAPACITY = 4
Capacity = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_CAPACITY,
        description="parcel units the trip holds at once (every order takes one), 1 to "
        f"{MAX_CAPACITY}: the orders it carries, from acceptance to delivery",
    ),
    JSON_INT,
]


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
    capacity: Capacity = 1
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
    capacity: Capacity | None = None
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


class RouteStop(BaseModel):
    """One stop of a trip's route, in driving order, with its planned times."""

    kind: Literal["start", "pickup", "delivery", "end"]
    order_id: int | None = Field(description="the order picked up or delivered here")
    lat: float
    lon: float
    address: str
    arrive_at: PlannedTime = Field(description="planned, to the second")
    leave_at: PlannedTime = Field(
        description="planned, to the second: after waiting for the parcel if early"
    )
    load: int = Field(description="parcel units on board when leaving the stop")
    latest: datetime | None = Field(
        description="the bound this stop keeps: the order's latest delivery, the trip's "
        "latest arrival"
    )
    on_time: bool


class TripRoute(BaseModel):
    """The route of every order a trip carries (accepted or picked up), planned again from
    what it carries now: from the origin at the earliest departure, or from the courier's
    latest pickup or delivery on this trip if later, and never before now. Parcels already
    picked up are on board from the start (only their delivery is a stop)."""

    trip_id: int
    status: TripStatus
    capacity: int
    load: int = Field(description="parcel units the trip carries now")
    order_ids: list[int]
    starts_from: Literal["origin", "pickup", "delivery"]
    feasible: bool = Field(
        description="every bound kept; if not, the least-driving order, late stops marked"
    )
    driving_min: Minutes | None = Field(description="minutes, to 2 decimals")
    detour_min: Minutes | None = Field(
        description="minutes beyond the direct drive from the start, to 2 decimals"
    )
    stops: list[RouteStop]
