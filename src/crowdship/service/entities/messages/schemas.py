from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.schemas import Filled


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Filled = Field(max_length=1000)


class MessagePublic(BaseModel):
    """A message of the order's thread: who wrote it by their part in the order, not by
    their contact."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    author_role: str
    body: str
    created_at: datetime


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["sender", "receiver", "courier"]


class CallPublic(BaseModel):
    masked_number: str = Field(description="dial this; it connects you and works for a while")
    expires_at: datetime
