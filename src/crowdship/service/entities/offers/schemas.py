from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.entities.offers.models import OfferStatus
from crowdship.service.entities.orders.schemas import OrderSummary
from crowdship.service.schemas import Id, Minutes, PlannedTime

DETOUR = "minutes of extra driving, to 2 decimals"
PICKUP = "planned pickup, to the second"
DELIVERY = "planned delivery, to the second"


class OfferPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    trip_id: int
    courier_id: int
    status: OfferStatus
    detour_min: Minutes = Field(description=DETOUR)
    planned_pickup: PlannedTime = Field(description=PICKUP)
    planned_delivery: PlannedTime = Field(description=DELIVERY)
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    order: OrderSummary


class FittingOrder(BaseModel):
    """An open order the trip can carry, with what it would cost the courier."""

    order: OrderSummary
    detour_min: Minutes = Field(description=DETOUR)
    planned_pickup: PlannedTime = Field(description=PICKUP)
    planned_delivery: PlannedTime = Field(description=DELIVERY)


class MatchingRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    open_orders: int
    free_trips: int
    feasible_pairs: int
    offers: int
    total_detour_min: Minutes = Field(description="the offers' detours, to 2 decimals")
    load_s: float
    match_s: float
    write_s: float
    # What became of the run's offers so far (pending ones are not counted yet).
    accepted: int = 0
    rejected: int = 0
    expired: int = 0
    withdrawn: int = 0


class HandOfferIn(BaseModel):
    """The operator offers this open order to this trip's courier (the dispatch board)."""

    model_config = ConfigDict(extra="forbid")

    order_id: Id
    trip_id: Id
