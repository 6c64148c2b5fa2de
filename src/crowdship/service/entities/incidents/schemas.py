from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.entities.incidents.models import IncidentKind, Resolution
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.schemas import Text


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IncidentKind
    note: Text = Field(default="", max_length=1000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Resolution = Field(
        description="disputed orders: pay (the delivery stands) or refund; others: close"
    )
    note: Text = Field(default="", max_length=1000)


class IncidentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    courier_id: int | None
    reporter_id: int
    reporter_role: str
    kind: IncidentKind
    note: str
    order_status: OrderStatus
    created_at: datetime
    resolution: Resolution | None
    resolution_note: str
    resolved_by: int | None
    resolved_at: datetime | None
