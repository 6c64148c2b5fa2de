"""Pickup points over HTTP on SQLite and PostgreSQL: the operator defines a point with
opening hours and its staff; orders go there only when every possible arrival finds it open;
the staff confirm the arrival (the courier's delivery) and hand the parcel to the receiver
who gives their code."""

from __future__ import annotations

import re
from typing import Any

from tests.service.conftest import KALLIO, PUNAVUORI, Party, Service, order_body, trip_body
from tests.service.flows import picked_up

HOURS = {day: [["07:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _point(operator: Party, **extra: Any) -> dict[str, Any]:
    answer = operator.post(
        "/pickup-points",
        json={
            "name": "Kallio Library",
            "lat": KALLIO[0],
            "lon": KALLIO[1],
            "address": "Viides linja 11",
            "opening_hours": HOURS,
            **extra,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _to_point(point_id: int, receiver_phone: str, latest: float = 240.0) -> dict[str, Any]:
    body = order_body(receiver_phone=receiver_phone, latest=latest)
    for key in ("delivery_lat", "delivery_lon", "delivery_address"):
        body.pop(key)
    return {**body, "pickup_point_id": point_id}


def _staff(service: Service, operator: Party, point_id: int, n: int) -> Party:
    email = f"desk{n}-{point_id}@test.crowdship.dev"
    made = operator.post(
        f"/pickup-points/{point_id}/staff",
        json={"email": email, "password": "correct-horse-1", "name": "Desk", "phone": "+35840777"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "staff" and made.json()["point_id"] == point_id
    return Party(made.json()["id"], email, "staff", None, service.client(service.login(email)))


def test_points_are_defined_by_the_operator_with_valid_hours(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    bad = operator.post(
        "/pickup-points",
        json={
            "name": "X",
            "lat": 60.2,
            "lon": 24.9,
            "address": "Y",
            "opening_hours": {"mon": [["20:00", "08:00"]]},
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "opening_hours"
    assert "not after it opens" in bad.text
    assert merchant.post("/pickup-points", json={}).status_code == 403
    point = _point(operator)
    assert [p["id"] for p in merchant.get("/pickup-points").json()] == [point["id"]]
    closed = operator.patch(f"/pickup-points/{point['id']}", json={"active": False})
    assert closed.status_code == 200 and closed.json()["active"] is False
    assert merchant.get("/pickup-points").json() == []
    gone = merchant.post("/orders", json=_to_point(point["id"], "+358409999999"))
    assert gone.status_code == 422 and gone.json()["field"] == "pickup_point_id"


def test_a_parcel_goes_to_a_point_and_the_receiver_collects_it(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    receiver = service.party("customer", phone="+358405550004")
    courier = service.party("courier")
    point = _point(operator)
    staff = _staff(service, operator, point["id"], 1)
    other_point = _point(operator, name="Elsewhere")
    other_staff = _staff(service, operator, other_point["id"], 2)
    phone = receiver.phone or ""

    # Tests run in UTC: 08:00 + 14 h = 22:00, after the 21:00 closing.
    late = merchant.post("/orders", json=_to_point(point["id"], phone, latest=14 * 60))
    assert late.status_code == 422 and late.json()["field"] == "latest_delivery"
    assert "Kallio Library" in late.json()["detail"] and "Mon 07:00-21:00" in late.json()["detail"]
    both = {**_to_point(point["id"], phone), "delivery_lat": 60.2}
    assert merchant.post("/orders", json=both).json()["field"] == "delivery_lat"
    cod = {**_to_point(point["id"], phone), "payment_method": "cash_on_delivery"}
    assert merchant.post("/orders", json=cod).json()["field"] == "payment_method"
    nowhere = order_body(receiver_phone=phone)
    nowhere.pop("delivery_lat")
    assert merchant.post("/orders", json=nowhere).json()["field"] == "delivery_lat"

    to_point = merchant.post("/orders", json=_to_point(point["id"], phone))
    assert to_point.status_code == 201, to_point.text
    waiting_id = to_point.json()["id"]
    assert merchant.get(f"/orders/{waiting_id}").json() == to_point.json()

    order_id, code = picked_up(service, merchant, courier, _to_point(point["id"], phone))
    order = merchant.get(f"/orders/{order_id}").json()
    assert order["pickup_point_id"] == point["id"]
    assert order["delivery_address"] == "Kallio Library, Viides linja 11"
    assert (order["delivery_lat"], order["delivery_lon"]) == KALLIO
    assert "pickup point Kallio Library" in service.sms.to(phone)[-1]

    direct = courier.post(f"/orders/{order_id}/deliver", json={"code": code})
    assert direct.status_code == 409 and "pickup point" in direct.json()["detail"]
    assert other_staff.post(f"/orders/{order_id}/arrive").status_code == 404
    assert merchant.post(f"/orders/{order_id}/arrive").status_code == 403
    early = staff.post(f"/orders/{order_id}/collect", json={"code": code})
    assert early.status_code == 409 and "not arrived" in early.json()["detail"]

    arrived = staff.post(f"/orders/{order_id}/arrive")
    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["status"] == "delivered" and arrived.json()["paid_at"] is not None
    assert courier.get(f"/trips/{order['trip_id']}").json()["status"] == "completed"
    # Staff see every order addressed to their point, newest first.
    assert [o["id"] for o in staff.get("/orders").json()] == [order_id, waiting_id]
    assert other_staff.get("/orders").json() == []

    wrong = "000000" if code != "000000" else "111111"
    refused = staff.post(f"/orders/{order_id}/collect", json={"code": wrong})
    assert refused.status_code == 422
    collected = staff.post(f"/orders/{order_id}/collect", json={"code": code})
    assert collected.status_code == 200, collected.text
    assert collected.json()["collected_at"] is not None
    again = staff.post(f"/orders/{order_id}/collect", json={"code": code})
    assert again.status_code == 409
    steps = [e["action"] for e in receiver.get(f"/orders/{order_id}/events").json()]
    assert steps[-2:] == ["arrive", "collect"]
    assert re.fullmatch(r"[0-9]{6}", code)


def _from_point(point_id: int, receiver_phone: str, latest: float = 240.0) -> dict[str, Any]:
    body = order_body(receiver_phone=receiver_phone, latest=latest)
    for key in ("pickup_lat", "pickup_lon", "pickup_address"):
        body.pop(key)
    return {**body, "from_point_id": point_id}


def test_the_campus_short_leg_brings_a_parcel_from_a_point(service: Service) -> None:
    """Issue 19.1: a parcel waits at a station; the receiver (or the station's staff) posts
    "bring it from station X to me"; the matcher treats the station as the pickup; the staff
    check the courier's pickup code and hand the parcel over; the rest is unchanged."""
    operator = service.party("operator")
    receiver = service.party("customer", phone="+358405550005")
    courier = service.party("courier")
    point = _point(operator)
    staff = _staff(service, operator, point["id"], 3)
    other_staff = _staff(service, operator, _point(operator, name="Elsewhere")["id"], 4)
    phone = receiver.phone or ""

    # Bad input names the field: both a point and coordinates, a point at both ends, a
    # station closed while a courier could come (21:00 closing; delivery by 23:00).
    both = {**_from_point(point["id"], phone), "pickup_lat": 60.2}
    assert receiver.post("/orders", json=both).json()["field"] == "pickup_lat"
    two_points = {**_from_point(point["id"], phone), "pickup_point_id": point["id"]}
    for key in ("delivery_lat", "delivery_lon", "delivery_address"):
        two_points.pop(key)
    assert receiver.post("/orders", json=two_points).json()["field"] == "from_point_id"
    late = receiver.post("/orders", json=_from_point(point["id"], phone, latest=15 * 60))
    assert late.status_code == 422 and late.json()["field"] == "earliest_pickup", late.text
    nowhere = order_body(receiver_phone=phone)
    nowhere.pop("pickup_lat")
    assert receiver.post("/orders", json=nowhere).json()["field"] == "pickup_lat"
    foreign = other_staff.post("/orders", json=_from_point(point["id"], phone))
    assert foreign.status_code == 422 and foreign.json()["field"] == "from_point_id"

    posted = receiver.post("/orders", json=_from_point(point["id"], phone))
    assert posted.status_code == 201, posted.text
    order = posted.json()
    assert order["from_point_id"] == point["id"]
    assert (order["pickup_lat"], order["pickup_lon"]) == KALLIO
    assert order["pickup_address"] == "Kallio Library, Viides linja 11"

    # The matcher treats the station as the pickup: a trip from there gets the offer.
    courier.post("/trips", json=trip_body(origin=KALLIO, destination=PUNAVUORI))
    run = operator.post("/matching/run").json()
    assert run["offers"] == 1, run
    offer = courier.get("/offers").json()[0]
    assert offer["order"]["id"] == order["id"]
    accepted = courier.post(f"/offers/{offer['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    code = accepted.json()["pickup_code"]

    # The station's staff may post the short leg of a parcel waiting with them, and see
    # every parcel waiting at their point.
    by_staff = staff.post("/orders", json=_from_point(point["id"], phone))
    assert by_staff.status_code == 201, by_staff.text
    assert {o["id"] for o in staff.get("/orders").json()} == {order["id"], by_staff.json()["id"]}

    assert other_staff.post(f"/orders/{order['id']}/pickup", json={"code": code}).status_code == 404
    handed = staff.post(f"/orders/{order['id']}/pickup", json={"code": code})
    assert handed.status_code == 200 and handed.json()["status"] == "picked_up", handed.text
    delivery_code = re.search(r"([0-9]{6})$", service.sms.to(phone)[-1])
    assert delivery_code is not None
    done = courier.post(f"/orders/{order['id']}/deliver", json={"code": delivery_code.group(1)})
    assert done.status_code == 200 and done.json()["status"] == "delivered"
