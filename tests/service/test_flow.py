"""The whole order flow over real HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

from tests.service.conftest import Service, order_body, trip_body


def test_order_from_posting_to_delivery(service: Service) -> None:
    """Post, match, offer, accept, pick up with the code, SMS to the receiver, deliver."""
    operator = service.party("operator")
    merchant = service.party("merchant")
    receiver = service.party("customer", phone="+358405550001")
    courier = service.party("courier")

    trip = courier.post("/trips", json=trip_body())
    assert trip.status_code == 201, trip.text
    trip_id = trip.json()["id"]

    quote = merchant.post(
        "/quotes",
        json={
            k: v
            for k, v in order_body().items()
            if k
            in {
                "pickup_lat",
                "pickup_lon",
                "delivery_lat",
                "delivery_lon",
                "earliest_pickup",
                "latest_delivery",
                "size",
            }
        },
    )
    assert quote.status_code == 200, quote.text
    posted = merchant.post("/orders", json=order_body(receiver_phone=receiver.phone or ""))
    assert posted.status_code == 201, posted.text
    order = posted.json()
    assert order["status"] == "posted"
    assert order["fee_cents"] == quote.json()["fee_cents"] > 0
    order_id = order["id"]
    # The answer is built from the inserted row, not read back: it must equal what is stored.
    assert merchant.get(f"/orders/{order_id}").json() == order
    events = merchant.get(f"/orders/{order_id}/events").json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("post", None, "posted")
    ]

    run = operator.post("/matching/run")
    assert run.status_code == 200, run.text
    assert run.json()["offers"] == 1

    offers = courier.get("/offers", params={"status": "pending"}).json()
    assert [(o["order_id"], o["trip_id"]) for o in offers] == [(order_id, trip_id)]
    assert "receiver_phone" not in offers[0]["order"]  # no contact before accepting
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "offered"

    accepted = courier.post(f"/offers/{offers[0]['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    pickup_code = accepted.json()["pickup_code"]
    assert re.fullmatch(r"[0-9]{6}", pickup_code)
    assert accepted.json()["order"]["status"] == "accepted"
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "assigned"
    assert service.sms.to(receiver.phone or "") == []  # no delivery code before pickup

    picked = merchant.post(f"/orders/{order_id}/pickup", json={"code": pickup_code})
    assert picked.status_code == 200, picked.text
    assert picked.json()["status"] == "picked_up"
    texts = service.sms.to(receiver.phone or "")
    assert len(texts) == 1
    delivery_code = re.search(r"([0-9]{6})$", texts[0]).group(1)  # type: ignore[union-attr]

    assert receiver.get(f"/orders/{order_id}").json()["status"] == "picked_up"
    assert [o["id"] for o in receiver.get("/orders").json()] == [order_id]

    delivered = courier.post(f"/orders/{order_id}/deliver", json={"code": delivery_code})
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "completed"

    for party in (merchant, receiver, courier, operator):
        events = party.get(f"/orders/{order_id}/events")
        assert events.status_code == 200, events.text
        steps = [(e["action"], e["from_status"], e["to_status"]) for e in events.json()]
        assert steps == [
            ("post", None, "posted"),
            ("offer", "posted", "offered"),
            ("accept", "offered", "accepted"),
            ("pickup", "accepted", "picked_up"),
            ("deliver", "picked_up", "delivered"),
        ]
    actors = [e["actor_id"] for e in merchant.get(f"/orders/{order_id}/events").json()]
    assert actors == [merchant.id, None, courier.id, merchant.id, courier.id]


def test_grab_flow_and_fitting_orders(service: Service) -> None:
    """A courier lists orders that fit a trip and grabs one; it is then theirs to carry."""
    merchant = service.party("merchant")
    courier = service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    near = merchant.post("/orders", json=order_body()).json()["id"]
    # Too far for this trip's 90-minute window: pickup 40 km away.
    merchant.post("/orders", json=order_body(pickup=(60.45, 25.10)))

    fitting = courier.get(f"/trips/{trip_id}/fitting-orders")
    assert fitting.status_code == 200, fitting.text
    assert [f["order"]["id"] for f in fitting.json()] == [near]
    assert fitting.json()[0]["detour_min"] >= 0

    grabbed = courier.post(f"/orders/{near}/grab", json={"trip_id": trip_id})
    assert grabbed.status_code == 200, grabbed.text
    assert grabbed.json()["order"]["status"] == "accepted"
    assert grabbed.json()["order"]["trip_id"] == trip_id
    assert [o["id"] for o in courier.get("/orders").json()] == [near]


def test_health_and_openapi(service: Service) -> None:
    """/health reports the database; /docs and the OpenAPI schema are served."""
    client = service.client()
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/orders", "/trips", "/offers", "/matching/run", "/auth/token"} <= set(paths)
