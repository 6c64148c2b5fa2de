from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.entities.accounts.models import Role
from crowdship.service.schemas import Filled, Password, Phone

Email = Field(
    # Explicit ranges beside \s: regex engines disagree on which characters \s covers.
    pattern=r"^[^@\s\x00-\x20\x7f-\xa0\ufeff]+@[^@\s\x00-\x20\x7f-\xa0\ufeff]+"
    r"\.[^@\s\x00-\x20\x7f-\xa0\ufeff]+$",
    max_length=254,
    examples=["ann@example.com"],
)


class UserCreate(BaseModel):
    """Self sign-up. Operators are created with ``crowdship create-operator``."""

    model_config = ConfigDict(extra="forbid")

    email: str = Email  # its pattern excludes NUL too
    password: Password = Field(min_length=8, max_length=128)
    role: Literal["merchant", "customer", "courier"]
    name: Filled = Field(max_length=120)
    phone: Phone


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password = Field(min_length=1, max_length=128)
    new_password: Password = Field(min_length=8, max_length=128)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    name: str
    phone: str | None
    created_at: datetime
    assessment_passed_at: datetime | None = None
    suspended_at: datetime | None = None
    suspension_reason: str = ""
    payout_account: str | None = None
    point_id: int | None = None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds
    role: Role


class CourierCard(BaseModel):
    """What the shop sees of the courier at pickup, to recognise them (no contact details)."""

    model_config = ConfigDict(from_attributes=True)

    first_name: str
    rating: float = Field(description="Bayesian score, 1 to 5")
    ratings: int
    vehicle: str


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["sms", "email", "webhook"]
