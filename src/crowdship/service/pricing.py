"""Fees quoted when an order is posted, behind a pricing interface.

``DistancePricing`` is the first model: a base fee plus a rate per km of the routed distance
(great-circle km times the travel model's detour factor). The money issue adds surcharges
behind the same ``quote`` call. Money is integer cents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class ParcelDraft:
    """What pricing may look at: the fields of an order before it exists."""

    pickup: tuple[float, float]  # (lat, lon)
    delivery: tuple[float, float]
    earliest_pickup: datetime
    latest_delivery: datetime
    size: str  # small | medium | large


@dataclass(frozen=True)
class Quote:
    fee_cents: int
    currency: str
    distance_km: float
    breakdown: dict[str, int] = field(default_factory=dict)  # component -> cents


class PricingModel(Protocol):
    def quote(self, parcel: ParcelDraft) -> Quote: ...


@dataclass(frozen=True)
class DistancePricing:
    base_cents: int = 300
    per_km_cents: int = 60
    detour_factor: float = 1.3
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.base_cents < 0 or self.per_km_cents < 0:
            raise ValueError("fees must be >= 0 cents")

    def quote(self, parcel: ParcelDraft) -> Quote:
        km = haversine_km(parcel.pickup, parcel.delivery) * self.detour_factor
        distance = int(round(km * self.per_km_cents))
        return Quote(
            fee_cents=self.base_cents + distance,
            currency=self.currency,
            distance_km=round(km, 3),
            breakdown={"base": self.base_cents, "distance": distance},
        )
