"""Pickup points over HTTP on SQLite and PostgreSQL: the operator defines a point with
opening hours and its staff; orders go there only when every possible arrival finds it open;
the staff confirm the arrival (the courier's delivery) and hand the parcel to the receiver
who gives their code."""

from __future__ import annotations

import re
from typing import Any

from tests.service.conftest import KALLIO, Party, Service, order_body
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
