"""People who can reach each other (issue 19.2, in part): the order's thread between its
courier, sender and receiver while a courier carries it, kept with the order and read by the
operator; the shop recognises the courier at pickup. No phone number crosses."""

from __future__ import annotations

import re

from tests.service.conftest import Service, order_body, trip_body


def test_the_parties_write_through_the_order(service: Service) -> None:
    operator = service.party("operator")
    shop = service.party("merchant")
    receiver = service.party("customer", phone="+358405550006")
    courier = service.party("courier")
    stranger = service.party("courier")
    order_id = shop.post("/orders", json=order_body(receiver_phone=receiver.phone or "")).json()[
        "id"
    ]
    early = shop.post(f"/orders/{order_id}/messages", json={"body": "hello?"})
    assert early.status_code == 409 and early.json()["status"] == "posted"
    assert shop.get(f"/orders/{order_id}/courier").status_code == 404

    trip = courier.post("/trips", json={**trip_body(), "vehicle": "blue cargo bike"})
    assert trip.status_code == 201 and trip.json()["vehicle"] == "blue cargo bike"
    grabbed = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip.json()["id"]})
    assert grabbed.status_code == 200

    card = shop.get(f"/orders/{order_id}/courier").json()
    assert card == {
        "first_name": "courier",
        "rating": 4.0,
        "ratings": 0,
        "vehicle": "blue cargo bike",
    }
    written = [
        (courier, "On my way, at the door in 20 min"),
        (shop, "Ring the side door please"),
        (receiver, "I am home after 15:00"),
    ]
    for party, text in written:
        answer = party.post(f"/orders/{order_id}/messages", json={"body": text})
        assert answer.status_code == 201, answer.text
    empty = courier.post(f"/orders/{order_id}/messages", json={"body": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"
    assert stranger.get(f"/orders/{order_id}/messages").status_code == 404
    assert stranger.post(f"/orders/{order_id}/messages", json={"body": "x"}).status_code == 404

    for party in (courier, shop, receiver, operator):
        thread = party.get(f"/orders/{order_id}/messages").json()
        assert [(m["author_role"], m["body"]) for m in thread] == [
            ("courier", written[0][1]),
            ("sender", written[1][1]),
            ("receiver", written[2][1]),
        ]
        text = str(thread)
        assert not re.search(r"\+358", text)  # no numbers cross

    # The thread closes with the delivery; the operator still reads it (disputes).
    code = grabbed.json()["pickup_code"]
    assert shop.post(f"/orders/{order_id}/pickup", json={"code": code}).status_code == 200
    delivery_code = re.search(r"([0-9]{6})$", service.sms.to(receiver.phone or "")[-1])
    assert delivery_code is not None
    done = courier.post(f"/orders/{order_id}/deliver", json={"code": delivery_code.group(1)})
    assert done.status_code == 200
    late = courier.post(f"/orders/{order_id}/messages", json={"body": "thanks"})
    assert late.status_code == 409
    assert len(operator.get(f"/orders/{order_id}/messages").json()) == 3


def test_calls_go_through_masked_numbers(database_url: str) -> None:
    """Where a telephony provider is configured, the parties call each other through a
    masked number; without one the service says to write instead."""
    from tests.service.conftest import running_service

    with running_service(database_url, telephony_provider="log") as service:
        shop = service.party("merchant", phone="+358405550020")
        receiver = service.party("customer", phone="+358405550021")
        courier = service.party("courier", phone="+358405550022")
        order_id = shop.post(
            "/orders", json=order_body(receiver_phone=receiver.phone or "")
        ).json()["id"]
        early = courier.post(f"/orders/{order_id}/call", json={"to": "receiver"})
        assert early.status_code == 404  # not theirs yet
        trip = courier.post("/trips", json=trip_body()).json()["id"]
        assert courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip}).status_code == 200
        for caller, callee in ((courier, "receiver"), (courier, "sender"), (shop, "courier")):
            answer = caller.post(f"/orders/{order_id}/call", json={"to": callee})
            assert answer.status_code == 200, answer.text
            number = answer.json()["masked_number"]
            assert number.startswith("+358400000") and number not in {
                shop.phone,
                receiver.phone,
                courier.phone,
            }
        wrong = receiver.post(f"/orders/{order_id}/call", json={"to": "sender"})
        assert wrong.status_code == 422 and wrong.json()["field"] == "to"


def test_without_telephony_the_thread_is_the_way(service: Service) -> None:
    shop = service.party("merchant")
    courier = service.party("courier")
    order_id = shop.post("/orders", json=order_body()).json()["id"]
    trip = courier.post("/trips", json=trip_body()).json()["id"]
    courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip})
    answer = courier.post(f"/orders/{order_id}/call", json={"to": "sender"})
    assert answer.status_code == 409 and answer.json()["status"] == "no_telephony"
