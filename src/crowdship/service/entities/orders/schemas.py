from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.photos import DATA_URL_PATTERN
from crowdship.service.money import MAX_FEE_CENTS
from crowdship.service.schemas import (
    JSON_INT,
    AwareDatetime,
    Filled,
    FilledAddress,
    Id,
    Latitude,
    Longitude,
    Phone,
    Text,
)

ParcelSize = Literal["small", "medium", "large"]
PaymentMethod = Literal["prepaid", "cash_on_delivery"]


class ParcelFields(BaseModel):
    """Where and when a parcel moves: what a quote and an order both need.

    The start is either pickup_lat/pickup_lon or a pickup point where the parcel waits
    (from_point_id); the destination is either delivery_lat/delivery_lon or a pickup point
    (pickup_point_id). The service checks that exactly one of each is given and names the
    field if not."""

    model_config = ConfigDict(extra="forbid")

    pickup_lat: Latitude | None = Field(
        default=None, description="required unless from_point_id is given"
    )
    pickup_lon: Longitude | None = Field(
        default=None, description="required unless from_point_id is given"
    )
    from_point_id: Id | None = Field(
        default=None,
        description="the parcel waits at this pickup point: a courier brings it from there",
    )
    delivery_lat: Latitude | None = Field(
        default=None, description="required unless pickup_point_id is given"
    )
    delivery_lon: Longitude | None = Field(
        default=None, description="required unless pickup_point_id is given"
    )
    pickup_point_id: Id | None = Field(
        default=None, description="deliver to this pickup point instead of an address"
    )
    earliest_pickup: AwareDatetime = Field(
        description="when the parcel is ready; a time already past means ready now: the "
        "price counts from now, and an order is stored with now"
    )
    latest_delivery: AwareDatetime
    size: ParcelSize = "small"

    @field_validator("latest_delivery")
    @classmethod
    def _delivery_after_pickup(cls, value: datetime, info: ValidationInfo) -> datetime:
        earliest = info.data.get("earliest_pickup")
        if earliest is not None and value <= earliest:
            raise ValueError(
                f"{value:%Y-%m-%d %H:%M} is not after earliest_pickup {earliest:%Y-%m-%d %H:%M} "
                "(UTC)"
            )
        return value


class OrderCreate(ParcelFields):
    pickup_address: FilledAddress | None = Field(
        default=None, description="required unless from_point_id is given"
    )
    delivery_address: FilledAddress | None = Field(
        default=None, description="required unless pickup_point_id is given"
    )
    description: Text = Field(default="", max_length=500)
    receiver_name: Filled = Field(max_length=120)
    receiver_phone: Phone
    payment_method: PaymentMethod = Field(
        default="prepaid",
        description="prepaid by the sender, or paid by the receiver to the courier in cash",
    )


class OrderSummary(BaseModel):
    """What a courier sees before carrying an order: no receiver contact."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    pickup_lat: float
    pickup_lon: float
    pickup_address: str
    delivery_lat: float
    delivery_lon: float
    delivery_address: str
    earliest_pickup: datetime
    latest_delivery: datetime
    size: ParcelSize
    description: str
    fee_cents: int
    courier_cents: int
    currency: str
    distance_km: float
    payment_method: PaymentMethod
    pickup_point_id: int | None
    from_point_id: int | None


class OrderPublic(OrderSummary):
    """The whole order, for its sender, its receiver, its courier and the operator."""

    sender_id: int
    receiver_name: str
    receiver_phone: str
    trip_id: int | None
    accepted_at: datetime | None
    picked_up_at: datetime | None
    delivered_at: datetime | None
    platform_cents: int
    fee_breakdown: dict[str, int]
    tariff_version: int
    paid_cents: int | None
    paid_at: datetime | None
    collected_at: datetime | None
    settled_at: datetime | None
    locked: bool
    proof_photo_at: datetime | None = None  # GET /orders/{id}/photo
    created_at: datetime
    updated_at: datetime


class Assignment(BaseModel):
    """An order the courier now carries, with the pickup code to show the sender.

    The code is shown only here (it is stored hashed); ``POST /orders/{id}/pickup-code``
    issues a new one."""

    order: OrderPublic
    pickup_code: str

    @classmethod
    def of(cls, order: object, pickup_code: str) -> Assignment:
        return cls(order=OrderPublic.model_validate(order), pickup_code=pickup_code)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$", description="the six-digit code")


class DeliveryIn(CodeIn):
    cash_collected_cents: Annotated[int, Field(ge=0, le=MAX_FEE_CENTS), JSON_INT] | None = Field(
        default=None,
        description="cash-on-delivery orders: what the receiver paid you (must be the fee)",
    )
    photo: str | None = Field(
        default=None,
        max_length=820_000,  # base64 of photos.MAX_BYTES
        pattern=DATA_URL_PATTERN,
        description="optional proof of delivery: a JPEG, PNG or WebP photo as a base64 data "
        "URL (data:image/jpeg;base64,...), at most 600 kB",
    )


class GrabIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trip_id: Id


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trip_id: Id
    note: Text = Field(default="", max_length=300)


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_id: int | None
    action: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    trip_id: int | None
    note: str


class TrackingPublic(BaseModel):
    """What a tracking link shows: the parcel's state and window, who carries it; nothing of
    anyone else."""

    order_id: int
    status: OrderStatus
    earliest_pickup: datetime
    latest_delivery: datetime
    delivery_address: str
    courier_first_name: str | None
    courier_rating: float | None
    door_code: str | None = Field(
        default=None,
        description="the receiver's link only, while the parcel is on its way: the code to "
        "give the courier at the door (or the staff at the pickup point)",
    )
