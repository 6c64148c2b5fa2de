"""Every answer gives minutes to 2 decimals and planned times to the second, whatever
computed them: an offer's detour as the fitting orders' and the route's, and the route's
stop times as an offer's planned times (the service's schema types round them, and the
OpenAPI document says so)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.service.conftest import KALLIO, TOOLO, order_body, trip_body


def _minutes(value: Any) -> None:
    assert value is None or (isinstance(value, float | int) and value == round(value, 2)), value


def _time(text: str) -> None:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.microsecond == 0, text


def test_minutes_have_2_decimals_and_planned_times_whole_seconds(service) -> None:
    operator, sender, courier = (service.party(r) for r in ("operator", "merchant", "courier"))
    trip_id = courier.post("/trips", json={**trip_body(), "capacity": 2}).json()["id"]
    first = sender.post("/orders", json=order_body()).json()["id"]
    second = sender.post("/orders", json=order_body(TOOLO, KALLIO, receiver_phone="+3584077"))
    assert second.status_code == 201, second.text

    fitting = courier.get(f"/trips/{trip_id}/fitting-orders")
    assert fitting.status_code == 200 and len(fitting.json()) == 2, fitting.text
    for fit in fitting.json():
        _minutes(fit["detour_min"])
        _time(fit["planned_pickup"])
        _time(fit["planned_delivery"])

    made = operator.post("/matching/offers", json={"order_id": first, "trip_id": trip_id})
    assert made.status_code == 201, made.text
    pending = courier.get("/offers?status=pending").json()
    for offer in (made.json(), *pending):
        assert offer["detour_min"] > 0
        _minutes(offer["detour_min"])
        _time(offer["planned_pickup"])
        _time(offer["planned_delivery"])
    # The same pair, the same figures: the offer's as the fitting orders' (both to 2 decimals).
    by_order = {fit["order"]["id"]: fit for fit in fitting.json()}
    assert made.json()["detour_min"] == by_order[first]["detour_min"]
    assert made.json()["planned_pickup"] == by_order[first]["planned_pickup"]
    accepted = courier.post(f"/offers/{made.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text

    ran = operator.post("/matching/run")
    assert ran.status_code == 200 and ran.json()["offers"] == 1, ran.text
    for run in (ran.json(), *operator.get("/matching/runs").json()):
        _minutes(run["total_detour_min"])
    (offer,) = courier.get("/offers?status=pending").json()
    assert courier.post(f"/offers/{offer['id']}/accept").status_code == 200

    route = courier.get(f"/trips/{trip_id}/route").json()
    assert len(route["stops"]) == 6, route
    _minutes(route["driving_min"])
    _minutes(route["detour_min"])
    for stop in route["stops"]:
        _time(stop["arrive_at"])
        _time(stop["leave_at"])
    kpis = operator.get("/console/kpis").json()
    _minutes(kpis["mean_detour_min"])
    _minutes(kpis["median_minutes_to_match"])


def test_the_openapi_document_says_how_precise_they_are(service) -> None:
    schemas = service.party("merchant").get("/openapi.json").json()["components"]["schemas"]
    for model, field in (
        ("OfferPublic", "detour_min"),
        ("FittingOrder", "detour_min"),
        ("TripRoute", "detour_min"),
        ("TripRoute", "driving_min"),
        ("MatchingRunPublic", "total_detour_min"),
        ("DayKpis", "mean_detour_min"),
    ):
        assert "to 2 decimals" in schemas[model]["properties"][field]["description"]
    for model, field in (
        ("OfferPublic", "planned_pickup"),
        ("FittingOrder", "planned_delivery"),
        ("RouteStop", "arrive_at"),
        ("RouteStop", "leave_at"),
    ):
        described = schemas[model]["properties"][field]
        assert described["format"] == "date-time" and "to the second" in described["description"]


def test_the_second_is_the_nearest_one() -> None:
    from crowdship.service.entities.trips.schemas import RouteStop

    stop = {
        "kind": "pickup",
        "order_id": 1,
        "lat": 60.17,
        "lon": 24.94,
        "address": "here",
        "load": 1,
        "latest": None,
        "on_time": True,
    }
    for given, shown in (
        ("2026-11-23T08:36:02.499999+00:00", "2026-11-23T08:36:02Z"),
        ("2026-11-23T08:36:02.5+00:00", "2026-11-23T08:36:03Z"),
        ("2026-11-23T08:59:59.7+00:00", "2026-11-23T09:00:00Z"),
    ):
        planned = RouteStop.model_validate({**stop, "arrive_at": given, "leave_at": given})
        assert planned.model_dump(mode="json")["arrive_at"] == shown
