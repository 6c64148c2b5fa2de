"""Retries never duplicate: a request sent again with the same Idempotency-Key and the same
body gets the first answer and changes nothing; the same key with another body is 422."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from crowdship.service.scheduler import tick
from tests.service.conftest import Party, Service, order_body, trip_body


def _key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


def _count_orders(party: Party) -> int:
    return len(party.get("/orders").json())


def test_each_step_of_an_order_retried_gets_its_first_answer(service: Service) -> None:
    merchant, courier = service.party("merchant"), service.party("courier")
    phone = "+358405550101"
    body = order_body(receiver_phone=phone)

    posted = merchant.post("/orders", json=body, headers=_key("post-1"))
    again = merchant.post("/orders", json=body, headers=_key("post-1"))
    assert posted.status_code == again.status_code == 201, again.text
    assert again.json() == posted.json()
    assert _count_orders(merchant) == 1
    order_id = posted.json()["id"]

    other = merchant.post("/orders", json={**body, "size": "large"}, headers=_key("post-1"))
    assert other.status_code == 422, other.text
    assert other.json()["field"] == "Idempotency-Key"
    assert other.json()["detail"].startswith("Idempotency-Key: ")
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count_orders(merchant) == 1
    # Keys are per account: the courier's "post-1" is a key of its own.
    trip = courier.post("/trips", json=trip_body(), headers=_key("post-1"))
    assert trip.status_code == 201, trip.text
    assert courier.post("/trips", json=trip_body(), headers=_key("post-1")).json() == trip.json()
    assert len(courier.get("/trips").json()) == 1

    grab = {"trip_id": trip.json()["id"]}
    grabbed = courier.post(f"/orders/{order_id}/grab", json=grab, headers=_key("grab-1"))
    regrabbed = courier.post(f"/orders/{order_id}/grab", json=grab, headers=_key("grab-1"))
    assert grabbed.status_code == regrabbed.status_code == 200, regrabbed.text
    assert regrabbed.json() == grabbed.json()  # the same pickup code, not a new one
    # Without the key the same grab is a second grab: refused, the order is taken.
    assert courier.post(f"/orders/{order_id}/grab", json=grab).status_code == 409

    code = {"code": grabbed.json()["pickup_code"]}
    picked = merchant.post(f"/orders/{order_id}/pickup", json=code, headers=_key("pickup-1"))
    repicked = merchant.post(f"/orders/{order_id}/pickup", json=code, headers=_key("pickup-1"))
    assert picked.status_code == repicked.status_code == 200, repicked.text
    assert repicked.json() == picked.json()
    assert len(service.sms.to(phone)) == 1  # one delivery code, not two

    delivery_code = re.search(r"([0-9]{6})$", service.sms.to(phone)[0]).group(1)  # type: ignore[union-attr]
    wrong = {"code": "123456" if delivery_code != "123456" else "654321"}
    refused = courier.post(f"/orders/{order_id}/deliver", json=wrong, headers=_key("deliver-1"))
    retried = courier.post(f"/orders/{order_id}/deliver", json=wrong, headers=_key("deliver-1"))
    assert refused.status_code == retried.status_code == 422
    assert retried.json() == refused.json()  # "4 attempts left" both times: counted once
    assert "4 attempts left" in retried.json()["detail"]

    right = {"code": delivery_code}
    done = courier.post(f"/orders/{order_id}/deliver", json=right, headers=_key("deliver-2"))
    redone = courier.post(f"/orders/{order_id}/deliver", json=right, headers=_key("deliver-2"))
    assert done.status_code == redone.status_code == 200, redone.text
    assert redone.json() == done.json() and done.json()["status"] == "delivered"
    actions = [e["action"] for e in merchant.get(f"/orders/{order_id}/events").json()]
    assert actions == ["post", "grab", "pickup", "deliver"]


def test_an_accepted_offer_retried_gets_the_first_answer(service: Service) -> None:
    operator, merchant = service.party("operator"), service.party("merchant")
    courier = service.party("courier")
    courier.post("/trips", json=trip_body())
    merchant.post("/orders", json=order_body())
    assert operator.post("/matching/run").json()["offers"] == 1
    offer_id = courier.get("/offers", params={"status": "pending"}).json()[0]["id"]

    accepted = courier.post(f"/offers/{offer_id}/accept", headers=_key("accept-1"))
    again = courier.post(f"/offers/{offer_id}/accept", headers=_key("accept-1"))
    assert accepted.status_code == again.status_code == 200, again.text
    assert again.json() == accepted.json()
    assert courier.post(f"/offers/{offer_id}/accept").status_code == 409  # without the key
    # The key belongs to that request: used on another path it is refused.
    elsewhere = courier.post(f"/offers/{offer_id + 1}/accept", headers=_key("accept-1"))
    assert elsewhere.status_code == 422 and elsewhere.json()["field"] == "Idempotency-Key"


def test_a_bad_key_names_the_header(service: Service) -> None:
    merchant = service.party("merchant")
    answer = merchant.post("/orders", json=order_body(), headers=_key("x" * 256))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count_orders(merchant) == 0


def test_a_connection_cut_after_the_commit_loses_nothing_and_doubles_nothing(
    service: Service,
) -> None:
    """The client sends the order and drops the connection before reading the answer (the
    server commits anyway); its retry with the same key gets the order that was posted."""
    merchant = service.party("merchant")
    body = json.dumps(order_body()).encode()
    address = urlparse(service.url)
    request = (
        f"POST /orders HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: {merchant.client.headers['Authorization']}\r\n"
        "Content-Type: application/json\r\nIdempotency-Key: cut-1\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((address.hostname, address.port)) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_RDWR)  # gone before any answer is read
    deadline = time.monotonic() + 30
    while _count_orders(merchant) == 0:  # the server finished and committed without us
        assert time.monotonic() < deadline, "the order sent before the cut was never posted"
        time.sleep(0.05)
    [posted] = merchant.get("/orders").json()

    retry = merchant.post("/orders", json=order_body(), headers=_key("cut-1"))
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == posted["id"]
    assert retry.json() == merchant.get(f"/orders/{posted['id']}").json()
    assert _count_orders(merchant) == 1


def test_the_same_key_sent_twice_at_once_posts_once(service: Service) -> None:
    """Two copies of one request at the same moment (a client that retried too soon): the
    second waits for the first and gets its answer."""
    merchant = service.party("merchant")
    barrier = threading.Barrier(4)

    def post(_: int) -> tuple[int, dict[str, Any]]:
        with service.client(merchant.client.headers["Authorization"].split()[1]) as client:
            barrier.wait()
            answer = client.post("/orders", json=order_body(), headers=_key("twice-1"))
            return answer.status_code, answer.json()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({body["id"] for _, body in answers}) == 1
    assert _count_orders(merchant) == 1


def test_a_key_is_forgotten_after_its_hours(service: Service) -> None:
    """After CROWDSHIP_IDEMPOTENCY_HOURS (24) the scheduler drops a key: the same request
    sent again is a new request."""
    merchant = service.party("merchant")
    first = merchant.post("/orders", json=order_body(), headers=_key("old-1"))
    assert first.status_code == 201, first.text
    service.clock.advance(23 * 60)
    tick(service.context)
    service.relogin(merchant)
    kept = merchant.post("/orders", json=order_body(), headers=_key("old-1"))
    assert kept.json()["id"] == first.json()["id"]
    service.clock.advance(2 * 60)  # 25 hours after the first
    tick(service.context)
    service.relogin(merchant)
    later = order_body(earliest=26 * 60, latest=28 * 60)
    again = merchant.post("/orders", json=later, headers=_key("old-1"))
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]
