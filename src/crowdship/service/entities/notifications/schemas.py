from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from crowdship.service.entities.notifications.models import NotificationStatus


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    recipient_id: int | None
    order_id: int | None
    channel: str
    address: str
    subject: str
    body: str
    status: NotificationStatus
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
