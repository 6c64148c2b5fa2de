"""Rate limits on signing in and on entering handover codes: per account (or email) and per
client address, answered 429 with ``Retry-After`` and the usual error body."""

from __future__ import annotations

import pytest

from crowdship.service.errors import TooManyRequests
from crowdship.service.ratelimit import Limits, SlidingWindow
from tests.service.conftest import PASSWORD, running_service


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides():
    window = SlidingWindow(limit=2, window_s=60)
    window.record("a", 0.0)
    window.record("a", 10.0)
    assert window.wait("a", 20.0) == 40.0  # the first attempt leaves the window at 60
    assert window.wait("b", 20.0) == 0.0  # another key counts on its own
    assert window.wait("a", 60.0) == 0.0
    assert SlidingWindow(limit=0, window_s=60).wait("a", 0.0) == 0.0  # 0: no limit


def test_either_key_over_its_limit_refuses_and_a_refusal_does_not_count():
    clock = FakeTime()
    limits = Limits(sign_in=2, sign_in_address=2, code=1, code_address=1, window_s=60, clock=clock)
    limits.sign_in("Ann@Example.com", "10.0.0.1")
    limits.sign_in("ann@example.com", "10.0.0.2")  # the email is the same account
    with pytest.raises(TooManyRequests) as refused:
        limits.sign_in("ann@example.com", "10.0.0.3")
    assert refused.value.status_code == 429
    assert refused.value.headers() == {"Retry-After": "60"}
    limits.sign_in("bob@example.com", "10.0.0.1")  # the address's second
    clock.now += 30
    with pytest.raises(TooManyRequests) as refused:
        limits.sign_in("cy@example.com", "10.0.0.1")  # the address's third
    assert refused.value.retry_after == 30
    clock.now += 30
    limits.sign_in("ann@example.com", "10.0.0.1")  # the window moved on
    limits.code_entry(7, "10.0.0.1")
    with pytest.raises(TooManyRequests):
        limits.code_entry(8, "10.0.0.1")  # another account, the same address


def refused_with_retry(answer) -> None:
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["detail"].startswith("too many")


def test_sign_in_is_limited_per_email_and_per_address(database_url):
    with running_service(database_url, sign_in_limit=3, sign_in_address_limit=5) as service:
        courier = service.party("courier", assessed=False)  # one sign-in
        client = service.client()
        wrong = {"username": courier.email, "password": "wrong-password"}
        for _ in range(2):
            assert client.post("/auth/token", data=wrong).status_code == 401
        refused_with_retry(client.post("/auth/token", data=wrong))
        # Now even the right password waits: guessing gains nothing by being right.
        right = {"username": courier.email, "password": PASSWORD}
        refused_with_retry(client.post("/auth/token", data=right))
        # The pages' sign-in counts the same way.
        cookie = {"email": courier.email.upper(), "password": PASSWORD}
        refused_with_retry(client.post("/auth/session", json=cookie))
        # Other emails from this address: two more, then the address is over its five.
        for k in range(2):
            other = {"username": f"nobody{k}@example.com", "password": "x"}
            assert client.post("/auth/token", data=other).status_code == 401
        refused_with_retry(client.post("/auth/session", json={"email": "x@y.z", "password": "x"}))


def test_code_entry_is_limited_per_account(database_url):
    with running_service(database_url, code_limit=2) as service:
        sender = service.party("merchant")
        for _ in range(2):
            assert sender.post("/orders/999999/pickup", json={"code": "123456"}).status_code == 404
        refused_with_retry(sender.post("/orders/999999/pickup", json={"code": "123456"}))
        courier = service.party("courier")
        assert courier.post("/orders/999999/deliver", json={"code": "123456"}).status_code == 404


def test_code_entry_is_limited_per_address(database_url):
    with running_service(database_url, code_address_limit=2) as service:
        sender, courier = service.party("merchant"), service.party("courier")
        assert sender.post("/orders/999999/pickup", json={"code": "123456"}).status_code == 404
        assert courier.post("/orders/999999/deliver", json={"code": "123456"}).status_code == 404
        refused_with_retry(courier.post("/orders/999999/deliver", json={"code": "123456"}))
        staff_refused = sender.post("/orders/999999/collect", json={"code": "123456"})
        refused_with_retry(staff_refused)


def test_the_contract_declares_429_with_retry_after(service):
    spec = service.client().get("/openapi.json").json()
    for path, method in [
        ("/auth/token", "post"),
        ("/auth/session", "post"),
        ("/orders/{order_id}/pickup", "post"),
        ("/orders/{order_id}/deliver", "post"),
        ("/orders/{order_id}/collect", "post"),
    ]:
        answer = spec["paths"][path][method]["responses"]["429"]
        assert answer["headers"]["Retry-After"]["required"] is True
