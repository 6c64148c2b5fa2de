"""Field types shared by the domain schemas: coordinates, phone numbers, aware times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

Latitude = Annotated[float, Field(ge=-90, le=90, description="degrees, WGS84")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="degrees, WGS84")]
Phone = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="E.164, e.g. +358401234567",
        examples=["+358401234567"],
    ),
]
Address = Annotated[str, Field(max_length=300)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-11-22T09:00:00Z or ...T11:00:00+02:00")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
