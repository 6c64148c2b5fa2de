from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int = Field(description="the operator's account")
    method: str
    path: str = Field(description="with the query string, if any")
    status: int = Field(description="the HTTP status it was answered with")
    address: str = Field(description="the client's address")
