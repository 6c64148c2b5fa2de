"""Steps of the order flow over HTTP that many tests need."""

from __future__ import annotations

import re
from typing import Any

from tests.service.conftest import Party, Service, trip_body


def picked_up(
    service: Service, sender: Party, courier: Party, order: dict[str, Any]
) -> tuple[int, str]:
    """Post ``order``, let ``courier`` grab it on a new trip, confirm the pickup; returns the
    order id and the delivery code texted to the receiver."""
    posted = sender.post("/orders", json=order)
    assert posted.status_code == 201, posted.text
    order_id = posted.json()["id"]
    trip = courier.post("/trips", json=trip_body())
    assert trip.status_code == 201, trip.text
    grabbed = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip.json()["id"]})
    assert grabbed.status_code == 200, grabbed.text
    code = grabbed.json()["pickup_code"]
    confirmed = sender.post(f"/orders/{order_id}/pickup", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    texts = service.sms.to(order["receiver_phone"])
    match = re.search(r"([0-9]{6})$", texts[-1])
    assert match is not None, texts
    return order_id, match.group(1)


def delivered(
    service: Service, sender: Party, courier: Party, order: dict[str, Any], **body: Any
) -> int:
    order_id, code = picked_up(service, sender, courier, order)
    answer = courier.post(f"/orders/{order_id}/deliver", json={"code": code, **body})
    assert answer.status_code == 200, answer.text
    return order_id
