"""A whole number too large for an integer field: 1e20 is a whole number, and pydantic called
it "Unable to parse input string as an integer, exceeded maximum size". The service's own
integer fields name their bound instead, as they do for 100000000000000000000, and what
still reaches that error (an integer field without bounds, a query's number of thousands of
digits) says which number is too large."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from crowdship.service.app import _problem
from tests.service.conftest import Service, trip_body

JARGON = "exceeded maximum size"


def refusal(answer: object) -> tuple[str, str]:
    """The field and problem of a 422 with one problem."""
    assert getattr(answer, "status_code", None) == 422, getattr(answer, "text", answer)
    body = answer.json()  # type: ignore[attr-defined]
    assert JARGON not in json.dumps(body), body
    (error,) = body["errors"]
    assert body["detail"] == f"{error['field']}: {error['problem']}", body
    return error["field"], error["problem"]


def test_a_huge_whole_number_is_refused_by_the_fields_bound(service: Service) -> None:
    operator = service.party("operator")
    courier = service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]

    grab = courier.post("/orders/1/grab", json={"trip_id": 1e20})
    assert refusal(grab) == ("trip_id", "Input should be less than or equal to 2147483647")
    # The same as written out in digits.
    digits = courier.post("/orders/1/grab", json={"trip_id": 10**20})
    assert refusal(digits) == refusal(grab)
    below = courier.post("/orders/1/grab", json={"trip_id": -1e20})
    assert refusal(below) == ("trip_id", "Input should be greater than or equal to 1")
    capacity = courier.patch(f"/trips/{trip_id}", json={"capacity": 1e19})
    assert refusal(capacity) == ("capacity", "Input should be less than or equal to 4")

    tariff = operator.get("/pricing").json()
    body = {k: v for k, v in tariff.items() if k not in ("version", "created_at", "currency")}
    pricing = operator.put("/pricing", json={**body, "base_cents": 1e300})
    assert refusal(pricing) == ("base_cents", "Input should be less than or equal to 10000000")
    weekdays = [{"start": "07:00", "end": "09:00", "weekdays": [1e20]}]
    peak = operator.put("/pricing", json={**body, "peak_windows": weekdays})
    assert refusal(peak) == (
        "peak_windows.0.weekdays.0",
        "Input should be less than or equal to 6",
    )
    # Not whole, or not finite: as before.
    half = courier.post("/orders/1/grab", json={"trip_id": 1.5})
    assert refusal(half)[1].startswith("Input should be a valid integer, got a number with a")
    infinite = courier.post(
        "/orders/1/grab",
        content=b'{"trip_id": 1e400}',
        headers={"content-type": "application/json"},
    )
    assert refusal(infinite) == ("trip_id", "Input should be a finite number")

    # A query's number of more than 4300 digits: pydantic will not read it.
    long = operator.get("/incidents", params={"limit": "9" * 5000})
    assert refusal(long) == ("limit", "is too large a number (5000 digits)")


class Plain(BaseModel):
    count: int


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (1e20, "1e+20 is too large a number"),
        (-1e20, "-1e+20 is too small a number"),
        ("-" + "9" * 5000, "is too small a number (negative, 5000 digits)"),
    ],
)
def test_an_integer_field_without_bounds_says_the_number_is_too_large(
    given: object, problem: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Plain.model_validate({"count": given})
    (error,) = raised.value.errors()
    assert error["type"] == "int_parsing_size"
    assert _problem(error) == {"field": "count", "problem": problem, "type": "int_parsing_size"}
