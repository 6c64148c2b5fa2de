"""The tariff: what an order costs and how the fee is split. Pure: no database, no clock.

fee = (base + per km of the routed distance + size surcharge + urgency surcharge)
      x peak multiplier (when the earliest pickup falls in a peak hour, local time)

The courier's share is a percentage of the fee; the platform keeps the rest. Money is
integer cents, rounded half up once per component, so the parts always add up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

EARTH_RADIUS_KM = 6371.0088
SIZES = ("small", "medium", "large")


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def cents(amount: Decimal | float | int) -> int:
    """Round to whole cents, half up (never banker's rounding on money)."""
    return int(Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ParcelDraft:
    """What pricing may look at: the fields of an order before it exists."""

    pickup: tuple[float, float]  # (lat, lon)
    delivery: tuple[float, float]
    earliest_pickup: datetime
    latest_delivery: datetime
    size: str  # small | medium | large


@dataclass(frozen=True)
class PeakWindow:
    """Local time of day [start, end) on the given weekdays (0 = Monday)."""

    start: time
    end: time
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end


@dataclass(frozen=True)
class Quote:
    fee_cents: int
    courier_cents: int
    platform_cents: int
    currency: str
    distance_km: float
    tariff_version: int
    breakdown: dict[str, int] = field(default_factory=dict)  # component -> cents


@dataclass(frozen=True)
class Tariff:
    base_cents: int = 300
    per_km_cents: int = 60
    size_surcharge_cents: dict[str, int] = field(
        default_factory=lambda: {"small": 0, "medium": 150, "large": 400}
    )
    urgent_window_min: float = 120.0  # a window (latest delivery - earliest pickup) shorter
    urgent_surcharge_cents: int = 200  # than this is urgent
    peak_multiplier: float = 1.25
    peak_windows: tuple[PeakWindow, ...] = (
        PeakWindow(time(7, 0), time(9, 0)),
        PeakWindow(time(16, 0), time(18, 0)),
    )
    courier_share_pct: float = 80.0
    currency: str = "EUR"

    def __post_init__(self) -> None:
        problems = []
        for name in ("base_cents", "per_km_cents", "urgent_surcharge_cents"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0")
        if set(self.size_surcharge_cents) != set(SIZES):
            problems.append(f"size_surcharge_cents needs exactly {', '.join(SIZES)}")
        if any(v < 0 for v in self.size_surcharge_cents.values()):
            problems.append("size_surcharge_cents must be >= 0")
        if self.peak_multiplier < 1:
            problems.append("peak_multiplier must be >= 1")
        if not 0 <= self.courier_share_pct <= 100:
            problems.append("courier_share_pct must be between 0 and 100")
        if problems:
            raise ValueError("; ".join(problems))

    def quote(
        self,
        parcel: ParcelDraft,
        zone: ZoneInfo,
        detour_factor: float,
        version: int = 0,
    ) -> Quote:
        km = haversine_km(parcel.pickup, parcel.delivery) * detour_factor
        window_min = (parcel.latest_delivery - parcel.earliest_pickup).total_seconds() / 60
        parts = {
            "base": self.base_cents,
            "distance": cents(Decimal(str(km)) * self.per_km_cents),
            "size": self.size_surcharge_cents[parcel.size],
            "urgency": self.urgent_surcharge_cents if window_min < self.urgent_window_min else 0,
        }
        subtotal = sum(parts.values())
        local = parcel.earliest_pickup.astimezone(zone)
        peak = any(w.contains(local) for w in self.peak_windows)
        parts["peak"] = (
            cents(Decimal(subtotal) * (Decimal(str(self.peak_multiplier)) - 1)) if peak else 0
        )
        fee = subtotal + parts["peak"]
        courier = cents(Decimal(fee) * Decimal(str(self.courier_share_pct)) / 100)
        return Quote(
            fee_cents=fee,
            courier_cents=courier,
            platform_cents=fee - courier,
            currency=self.currency,
            distance_km=round(km, 3),
            tariff_version=version,
            breakdown=parts,
        )

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["peak_windows"] = [
            {
                "start": w.start.strftime("%H:%M"),
                "end": w.end.strftime("%H:%M"),
                "weekdays": list(w.weekdays),
            }
            for w in self.peak_windows
        ]
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Tariff:
        fields = dict(body)
        fields["peak_windows"] = tuple(
            PeakWindow(
                time.fromisoformat(w["start"]),
                time.fromisoformat(w["end"]),
                tuple(w.get("weekdays", (0, 1, 2, 3, 4))),
            )
            for w in body.get("peak_windows", ())
        )
        return cls(**fields)
