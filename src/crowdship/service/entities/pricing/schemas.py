from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crowdship.service.entities.pricing.tariff import SIZES

Cents = Annotated[int, Field(ge=0, le=10_000_000)]


class PeakWindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time = Field(description="local time, HH:MM")
    end: time = Field(description="local time, HH:MM; after start")
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[0, 1, 2, 3, 4], min_length=1, description="0 = Monday"
    )

    @model_validator(mode="after")
    def _ordered(self) -> PeakWindowIn:
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} is not after start {self.start:%H:%M}")
        return self


class TariffIn(BaseModel):
    """The whole tariff; PUT replaces it (the old one stays as an earlier version)."""

    model_config = ConfigDict(extra="forbid")

    base_cents: Cents
    per_km_cents: Cents
    size_surcharge_cents: dict[str, Cents]
    urgent_window_min: float = Field(ge=0, le=7 * 24 * 60)
    urgent_surcharge_cents: Cents
    peak_multiplier: float = Field(ge=1, le=5)
    peak_windows: list[PeakWindowIn] = Field(max_length=24)
    courier_share_pct: float = Field(ge=0, le=100)

    @field_validator("size_surcharge_cents")
    @classmethod
    def _every_size(cls, value: dict[str, int]) -> dict[str, int]:
        if set(value) != set(SIZES):
            raise ValueError(f"needs exactly the sizes {', '.join(SIZES)}; got {sorted(value)}")
        return value


class TariffPublic(TariffIn):
    model_config = ConfigDict(extra="ignore")

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
