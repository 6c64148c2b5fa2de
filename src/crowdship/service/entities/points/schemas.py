from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from crowdship.service.entities.accounts.schemas import Email
from crowdship.service.entities.points import hours
from crowdship.service.schemas import Filled, FilledAddress, Latitude, Longitude, Password, Phone

OpeningHours = dict[str, list[list[str]]]  # as stored and shown

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["08:00"])]
# What the operator sends: the schema names the days and the HH:MM form; the rest (closing
# after opening, no overlaps, open some time) is checked by hours.parse.
Interval = Annotated[list[Clock], Field(min_length=2, max_length=2, description="[open, close]")]
HoursIn = dict[Day, list[Interval]]

HOURS_HELP = 'local time, e.g. {"mon": [["08:00", "20:00"]], "sat": [["10:00", "14:00"]]}'


def _valid_hours(value: HoursIn) -> OpeningHours:
    week: OpeningHours = {day: [list(pair) for pair in spans] for day, spans in value.items()}
    hours.parse(week)  # ValueError names the day
    return week


class PointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Filled = Field(max_length=120)
    lat: Latitude
    lon: Longitude
    address: FilledAddress
    opening_hours: HoursIn = Field(min_length=1, description=HOURS_HELP)

    _hours = field_validator("opening_hours")(_valid_hours)


class PointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Filled | None = Field(default=None, max_length=120)
    opening_hours: HoursIn | None = Field(default=None, min_length=1, description=HOURS_HELP)
    active: StrictBool | None = None

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: HoursIn | None) -> OpeningHours | None:
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

    email: str = Email  # its pattern excludes NUL too
    password: Password = Field(min_length=8, max_length=128)
    name: Filled = Field(max_length=120)
    phone: Phone
