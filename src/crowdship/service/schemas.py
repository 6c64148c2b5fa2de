"""Field types shared by the domain schemas: coordinates, phone numbers, aware times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, Strict

# Strict: a boolean or a string is not a coordinate (an integer is); finite numbers only.
Latitude = Annotated[
    float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False, description="degrees, WGS84")
]
Longitude = Annotated[
    float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False, description="degrees, WGS84")
]
Phone = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="E.164, e.g. +358401234567",
        examples=["+358401234567"],
    ),
]


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it as bad input instead of failing later.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Address = Annotated[Text, Field(max_length=300)]
# Database ids: positive 32-bit integers (anything larger cannot exist, and PostgreSQL would
# refuse to compare it).
Id = Annotated[int, Strict(), Field(ge=1, le=2_147_483_647)]  # in JSON bodies
IdParam = Annotated[int, Field(ge=1, le=2_147_483_647)]  # in query strings (text by nature)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-11-22T09:00:00Z or ...T11:00:00+02:00")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
