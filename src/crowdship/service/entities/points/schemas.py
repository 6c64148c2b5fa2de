from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crowdship.service.entities.accounts.schemas import Email
from crowdship.service.entities.points import hours
from crowdship.service.schemas import Address, Latitude, Longitude, Phone, Text

OpeningHours = dict[str, list[list[str]]]

HOURS_HELP = 'local time, e.g. {"mon": [["08:00", "20:00"]], "sat": [["10:00", "14:00"]]}'


def _valid_hours(value: OpeningHours) -> OpeningHours:
    hours.parse(value)  # ValueError names the day
    return value


class PointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=120)
    lat: Latitude
    lon: Longitude
    address: Address = Field(min_length=1)
    opening_hours: OpeningHours = Field(description=HOURS_HELP)

    _hours = field_validator("opening_hours")(_valid_hours)


class PointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=120)
    opening_hours: OpeningHours | None = Field(default=None, description=HOURS_HELP)
    active: bool | None = None

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: OpeningHours | None) -> OpeningHours | None:
        return None if value is None else _valid_hours(value)


class PointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    lat: float
    lon: float
    address: str
    opening_hours: OpeningHours
    active: bool
    created_at: datetime


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Text = Email
    password: Text = Field(min_length=8, max_length=128)
    name: Text = Field(min_length=1, max_length=120)
    phone: Phone
