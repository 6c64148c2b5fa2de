from __future__ import annotations

import re
from collections import Counter
from datetime import time
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from crowdship.service.entities.orders.schemas import ParcelSize
from crowdship.service.entities.pricing.tariff import SIZES
from crowdship.service.money import MAX_FEE_CENTS
from crowdship.service.schemas import JSON_INT, Number

Cents = Annotated[int, Field(ge=0, le=MAX_FEE_CENTS), JSON_INT]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(HHMM[1:-1], value):
        return time.fromisoformat(value)
    raise ValueError("should be a local time HH:MM, e.g. 07:30")


# A local time of day, written HH:MM both ways.
Clock = Annotated[
    time,
    PlainValidator(_clock),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": HHMM, "examples": ["07:30"]}),
]


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class PeakWindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Clock = Field(description="local time, HH:MM")
    end: Clock = Field(description="local time, HH:MM; after start")
    weekdays: list[Annotated[int, Field(ge=0, le=6), JSON_INT]] = Field(
        default=[0, 1, 2, 3, 4],
        min_length=1,
        description="0 = Monday ... 6 = Sunday, each day at most once",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("weekdays")
    @classmethod
    def _each_day_once(cls, value: list[int]) -> list[int]:
        repeated = sorted(day for day, times in Counter(value).items() if times > 1)
        if repeated:
            days = ", ".join(f"{day} ({DAY_NAMES[day]})" for day in repeated)
            raise ValueError(f"repeats {days}: give each day at most once")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> PeakWindowIn:
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} is not after start {self.start:%H:%M}")
        return self


class PeakWindowPublic(PeakWindowIn):
    """A window of a stored tariff. One stored before repeated days were refused reads with
    each day once (the days it covers are the same)."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("weekdays", mode="before")
    @classmethod
    def _each_day_once(cls, value: Any) -> Any:  # in place of the refusal
        return list(dict.fromkeys(value)) if isinstance(value, list | tuple) else value


class TariffIn(BaseModel):
    """The whole tariff; PUT replaces it (the old one stays as an earlier version)."""

    model_config = ConfigDict(extra="forbid")

    base_cents: Cents
    per_km_cents: Cents
    size_surcharge_cents: dict[ParcelSize, Cents] = Field(
        min_length=len(SIZES), description="every size: small, medium and large"
    )
    urgent_window_min: Number = Field(ge=0, le=7 * 24 * 60)
    urgent_surcharge_cents: Cents
    peak_multiplier: Number = Field(ge=1, le=5)
    peak_windows: list[PeakWindowIn] = Field(max_length=24)
    courier_share_pct: Number = Field(ge=0, le=100)

    @field_validator("size_surcharge_cents")
    @classmethod
    def _every_size(cls, value: dict[ParcelSize, int]) -> dict[ParcelSize, int]:
        if set(value) != set(SIZES):
            raise ValueError(f"needs exactly the sizes {', '.join(SIZES)}; got {sorted(value)}")
        return value


class TariffPublic(TariffIn):
    model_config = ConfigDict(extra="ignore")

    peak_windows: list[PeakWindowPublic] = Field(max_length=24)  # type: ignore[assignment]

    version: int
    currency: str


class QuotePublic(BaseModel):
    fee_cents: int
    courier_cents: int
    platform_cents: int
    currency: str
    distance_km: float
    tariff_version: int
    breakdown: dict[str, int]
