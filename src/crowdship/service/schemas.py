"""Field types shared by the domain schemas: numbers, text, coordinates, phone numbers, ids,
aware times, and the precision of the minutes and planned times the service answers with."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints


def _json_number(value: Any) -> Any:
    # JSON Schema's "integer" includes 3.0 (pydantic's lax int takes it, and refuses 3.5);
    # but a boolean or a string is not a number.
    if isinstance(value, bool | str | bytes):
        raise ValueError("Input should be a valid integer")
    if isinstance(value, float) and value.is_integer():
        # 1e20 is a whole number too: past 64 bits pydantic would call it "unable to parse
        # input string as an integer, exceeded maximum size"; as an int, the field's bound
        # names the problem ("less than or equal to 2147483647"), as for 100000000000000000000.
        return int(value)
    return value


# Numbers in JSON bodies: no booleans or strings as numbers, finite floats only. Write an
# integer field as Annotated[int, Field(<bounds>), JSON_INT]: bounds given outside a type that
# carries a validator would be enforced but left out of the JSON Schema.
JSON_INT = BeforeValidator(_json_number)
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]

Latitude = Annotated[Number, Field(ge=-90, le=90, description="degrees, WGS84")]
Longitude = Annotated[Number, Field(ge=-180, le=180, description="degrees, WGS84")]
Phone = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="E.164, e.g. +358401234567",
        examples=["+358401234567"],
    ),
]


# PostgreSQL cannot store NUL in text: refuse it as bad input (the schema says so too).
NO_NUL = r"^[^\x00]*$"
# Text a person writes (a name, an address, a note, a message): the whitespace around it is
# dropped, so "  Ann " is kept as "Ann" and a name of spaces is empty; the length bounds
# count what is kept.
Text = Annotated[str, StringConstraints(strip_whitespace=True), Field(pattern=NO_NUL)]
# Text that is required: something besides whitespace (the characters Unicode calls
# White_Space, which the stripping drops; listed rather than \s, which regex engines read
# differently), so that the JSON Schema refuses what the service refuses.
NON_BLANK = (
    r"^[^\x00]*[^\x00\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
    r"\u3000][^\x00]*$"
)
Filled = Annotated[Text, Field(min_length=1, pattern=NON_BLANK)]
Address = Annotated[Text, Field(max_length=300)]
FilledAddress = Annotated[Filled, Field(max_length=300)]
# A password is kept exactly as typed: a space is as much part of it as any other character.
Password = Annotated[str, Field(pattern=NO_NUL)]
# Database ids: positive 32-bit integers (anything larger cannot exist, and PostgreSQL would
# refuse to compare it).
Id = Annotated[int, Field(ge=1, le=2_147_483_647), JSON_INT]  # in JSON bodies
IdParam = Annotated[int, Field(ge=1, le=2_147_483_647)]  # in query strings (text by nature)


def _not_a_number(value: Any) -> Any:
    # A time is written as text: 0 or 1.5e9 is not one (pydantic would read a timestamp).
    if isinstance(value, bool | int | float):
        raise ValueError("should be written as text, e.g. 2026-11-22T09:00:00Z or 2026-11-22")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-11-22T09:00:00Z or ...T11:00:00+02:00")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-02:00 or 0001-01-01T01:00+02:00: no year in UTC
        raise ValueError(
            f"{value.isoformat()} is out of range: in UTC it falls outside the years 1 to 9999"
        ) from None


AwareDatetime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_aware)]
Day = Annotated[date, BeforeValidator(_not_a_number)]


# What the service answers with: minutes to 2 decimals (0.01 min, under a second; the core
# solves in thousandths of a minute) and planned times to the nearest second. Computed
# values carry float noise and microseconds that mean nothing to a courier; every answer
# rounds them alike, here, whatever computed them.
MINUTES_DECIMALS = 2


def _minutes(value: float) -> float:
    return round(value, MINUTES_DECIMALS)


def to_the_second(value: datetime) -> datetime:
    return (value + timedelta(microseconds=500_000)).replace(microsecond=0)


Minutes = Annotated[float, AfterValidator(_minutes)]
PlannedTime = Annotated[datetime, AfterValidator(to_the_second)]
