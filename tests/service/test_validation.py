"""Bad input answers 422 naming the field (never 500, never a half-written row), on SQLite
and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crowdship.service.entities.pricing.schemas import TariffPublic
from tests.service.conftest import (
    BACKENDS,
    Party,
    Service,
    order_body,
    postgres_schema_url,
    start_service,
    trip_body,
)


@dataclass
class Setup:
    service: Service
    merchant: Party
    courier: Party
    order_id: int
    trip_id: int


@pytest.fixture(scope="module", params=BACKENDS)
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('v') / 'c.db'}"])
    else:
        urls = postgres_schema_url()
    url = next(urls)
    server, thread, service = start_service(url)
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
    yield Setup(service, merchant, courier, order_id, trip_id)
    server.should_exit = True
    thread.join(timeout=10)
    service.context.db.dispose()
    for _ in urls:  # finish the generator: drops the PostgreSQL schema
        pass


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = dict(base)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


ORDER = order_body()
TRIP = trip_body()
FAR = (60.45, 25.10)

# (who, path, body, field named in the answer, words that must appear)
BAD_ORDERS = [
    (with_(ORDER, latest_delivery="2026-11-23T07:00:00Z"), "latest_delivery", "earliest_pickup"),
    (with_(ORDER, pickup_lat=95), "pickup_lat", "90"),
    (with_(ORDER, delivery_lon=-181), "delivery_lon", "-180"),
    (with_(ORDER, receiver_phone="12345"), "receiver_phone", "pattern"),
    (with_(ORDER, earliest_pickup="2026-11-23T08:00:00"), "earliest_pickup", "UTC offset"),
    (with_(ORDER, earliest_pickup="tomorrow"), "earliest_pickup", "datetime"),
    # No year in UTC: converting it overflowed (500).
    (with_(ORDER, latest_delivery="9999-12-31T23:59:59-14:00"), "latest_delivery", "out of range"),
    (with_(ORDER, earliest_pickup="0001-01-01T00:00:00+01:00"), "earliest_pickup", "years 1 to"),
    (with_(ORDER, size="huge"), "size", "small"),
    (with_(ORDER, receiver_name=...), "receiver_name", "required"),
    # Text of spaces only was a name (and an address) nobody could read.
    (with_(ORDER, receiver_name="   "), "receiver_name", "only whitespace"),
    (with_(ORDER, receiver_name="\t\n\u3000"), "receiver_name", "only whitespace"),
    (with_(ORDER, pickup_address="  "), "pickup_address", "only whitespace"),
    (with_(ORDER, delivery_address=" "), "delivery_address", "only whitespace"),
    (with_(ORDER, receiver_name=" " + "x" * 121), "receiver_name", "at most 120"),
    (with_(ORDER, fee_cents=1), "fee_cents", "not permitted"),
    (with_(ORDER, pickup_address="Main St\x00 1"), "pickup_address", "NUL"),
    (with_(ORDER, pickup_address="x" * 301), "pickup_address", "300"),
    (with_(ORDER, pickup_lat="sixty"), "pickup_lat", "number"),
    (
        with_(
            ORDER, earliest_pickup="2026-11-22T05:00:00Z", latest_delivery="2026-11-22T06:00:00Z"
        ),
        "latest_delivery",
        "past",
    ),
    (
        with_(ORDER, pickup_lat=FAR[0], pickup_lon=FAR[1], latest_delivery="2026-11-23T08:20:00Z"),
        "latest_delivery",
        "cannot be met",
    ),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_ORDERS)
def test_bad_orders(setup: Setup, body: dict[str, Any], field: str, words: str) -> None:
    """Each bad order is refused with 422 naming the field, and nothing is stored."""
    before = len(setup.merchant.get("/orders").json())
    answer = setup.merchant.post("/orders", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(field) or f"; {field}" in detail, detail
    assert words in detail, detail
    assert len(setup.merchant.get("/orders").json()) == before


BAD_TRIPS = [
    (with_(TRIP, latest_arrival="2026-11-23T08:10:00Z"), "latest_arrival", "earliest_departure"),
    (with_(TRIP, capacity=5), "capacity", "4"),
    (with_(TRIP, capacity=0), "capacity", "1"),
    (with_(TRIP, earliest_departure="2026-11-23T07:00:00Z"), "earliest_departure", "past"),
    (with_(TRIP, origin_lon=200), "origin_lon", "180"),
    (with_(TRIP, earliest_departure="0001-01-01T00:00:00+14:00"), "earliest_departure", "range"),
    (
        with_(
            TRIP,
            destination_lat=FAR[0],
            destination_lon=FAR[1],
            latest_arrival="2026-11-23T08:45:00Z",
        ),
        "latest_arrival",
        "drive",
    ),
    (with_(TRIP, origin_address=None), "origin_address", "string"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_TRIPS)
def test_bad_trips(setup: Setup, body: dict[str, Any], field: str, words: str) -> None:
    """Each bad trip is refused with 422 naming the field."""
    answer = setup.courier.post("/trips", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(field), detail
    assert words in detail, detail


def test_bad_requests_elsewhere(setup: Setup) -> None:
    """Sign-up, queries, paths, codes and raw bodies: 422 naming the field, never 500."""
    client = setup.service.client()
    operator = setup.service.party("operator")
    signup = {
        "email": "a@b.dev",
        "password": "long-enough-1",
        "role": "courier",
        "name": "A",
        "phone": "+358401112233",
    }
    cases = [
        (client.post("/auth/register", json=with_(signup, email="not-an-email")), "email"),
        (client.post("/auth/register", json=with_(signup, password="short")), "password"),
        (client.post("/auth/register", json=with_(signup, role="operator")), "role"),
        (client.post("/auth/register", json=with_(signup, name="")), "name"),
        (setup.merchant.get("/orders", params={"status": "bogus"}), "status"),
        (setup.merchant.get("/orders", params={"limit": 0}), "limit"),
        (setup.merchant.get("/orders", params={"offset": 10**12}), "offset"),
        (setup.merchant.get("/orders/99999999999999999999"), "order_id"),
        (setup.merchant.get("/orders/0"), "order_id"),
        (operator.get("/couriers", params={"ids": 510557864430306510907552598851584}), "ids"),
        (operator.get("/notifications", params={"order_id": 10**30}), "order_id"),
        (setup.courier.post(f"/orders/{setup.order_id}/grab", json={"trip_id": "x"}), "trip_id"),
        (setup.courier.post(f"/orders/{setup.order_id}/deliver", json={"code": "12"}), "code"),
        (
            setup.merchant.post(
                "/orders", content=b"{not json", headers={"content-type": "application/json"}
            ),
            "body",
        ),
        (
            setup.merchant.post(
                "/orders",
                content=b'{"pickup_lat": NaN}',
                headers={"content-type": "application/json"},
            ),
            "pickup_lat",
        ),
    ]
    for answer, field in cases:
        assert answer.status_code == 422, (field, answer.status_code, answer.text)
        assert field in answer.json()["detail"], (field, answer.text)
    duplicate = client.post("/auth/register", json=with_(signup, email=setup.merchant.email))
    assert duplicate.status_code == 409 and "already registered" in duplicate.json()["detail"]
    nul_login = client.post("/auth/token", data={"username": "a\x00@b.dev", "password": "x" * 8})
    assert nul_login.status_code == 401


def test_strict_input(setup: Setup) -> None:
    """Issue 18.3: no booleans or strings as numbers, finite numbers, dates within the
    horizon (30 days by default), text limits in characters, large bodies refused unread."""
    courier, merchant = setup.courier, setup.merchant
    operator = setup.service.party("operator")
    cases = [
        (courier.post("/trips", json={**trip_body(), "origin_lat": True}), "origin_lat", "number"),
        (
            courier.post("/trips", json={**trip_body(), "origin_lon": "24.9"}),
            "origin_lon",
            "number",
        ),
        (
            courier.post(f"/orders/{setup.order_id}/grab", json={"trip_id": True}),
            "trip_id",
            "integer",
        ),
        (
            merchant.post(
                "/orders", json={**order_body(), "latest_delivery": "9999-12-31T23:59:59Z"}
            ),
            "latest_delivery",
            "more than 30 days ahead",
        ),
        (
            courier.post("/trips", json=trip_body(depart=60, arrive=60 * 24 * 365 * 10)),
            "latest_arrival",
            "more than 30 days ahead",
        ),
        (
            merchant.post("/orders", json={**order_body(), "pickup_address": "x" * 301}),
            "pickup_address",
            "at most 300 characters, not 301",
        ),
        (
            merchant.post("/quotes", json={**order_body(), "earliest_pickup": 0}),
            "earliest_pickup",
            "written as text",
        ),
        (
            merchant.post("/orders", json={**order_body(), "description": "a\x00b"}),
            "description",
            "must not contain NUL characters",
        ),
        (courier.post("/assessment", json={"answers": {"q": True}}), "answers.q", "integer"),
        (
            operator.get("/ledger/balances", params={"prefix": "payable:\x00"}),
            "prefix",
            "must not contain NUL characters",
        ),
        (
            operator.post(
                "/pickup-points",
                json={
                    "name": "Desk",
                    "lat": 60.2,
                    "lon": 24.96,
                    "address": "Gustaf Hällströmin katu 2",
                    "opening_hours": {"monday": [["08:00", "16:00"]]},
                },
            ),
            "opening_hours.monday",
            "'mon'",
        ),
    ]
    for answer, field, words in cases:
        assert answer.status_code == 422, (field, answer.text)
        body = answer.json()
        named = body["errors"][0]["field"] if "errors" in body else body["field"]
        assert named == field, answer.text
        assert words in body["detail"], (field, answer.text)
    nan = merchant.post(
        "/orders",
        content=b'{"pickup_lat": NaN}',
        headers={"content-type": "application/json"},
    )
    assert "finite number" in nan.text, nan.text
    huge = merchant.post(
        "/orders", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413 and huge.json()["field"] == "body", huge.text
    assert "2000000 bytes is more than the 1000000 allowed" in huge.json()["detail"]
    # Without a Content-Length (chunked), the body is counted as it arrives.
    chunked = merchant.post(
        "/orders",
        content=(b"x" * 100_000 for _ in range(20)),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413, chunked.text
    assert "more than the 1000000 bytes allowed" in chunked.json()["detail"]


def test_required_text_of_whitespace_is_refused_and_text_is_kept_stripped(setup: Setup) -> None:
    """A receiver, a sender's or a courier's name, a pickup point's name and address, a
    message: each made of spaces only was accepted and stored as spaces. Text is stored
    without the whitespace around it; a password is kept exactly as typed."""
    client, merchant, courier = setup.service.client(), setup.merchant, setup.courier
    operator = setup.service.party("operator")
    signup = {
        "email": "blank@b.dev",
        "password": "long-enough-1",
        "role": "merchant",
        "name": "   ",
        "phone": "+358401112299",
    }
    point = {
        "name": "Desk",
        "lat": 60.2,
        "lon": 24.96,
        "address": "Gustaf Hällströmin katu 2",
        "opening_hours": {"mon": [["08:00", "16:00"]]},
    }
    cases = [
        (client.post("/auth/register", json=signup), "name"),
        (operator.post("/pickup-points", json=with_(point, name=" \t ")), "name"),
        (operator.post("/pickup-points", json=with_(point, address="\n")), "address"),
        (courier.post(f"/orders/{setup.order_id}/messages", json={"body": "  \n "}), "body"),
    ]
    for answer, field in cases:
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["detail"] == f"{field}: is only whitespace: it needs some text"
        assert answer.json()["errors"][0]["field"] == field, answer.text

    posted = merchant.post(
        "/orders",
        json={**order_body(), "receiver_name": "  Rita Receiver \n", "description": "   "},
    )
    assert posted.status_code == 201, posted.text
    stored = merchant.get(f"/orders/{posted.json()['id']}").json()
    assert (stored["receiver_name"], stored["description"]) == ("Rita Receiver", "")
    assert stored["pickup_address"] == "Töölönkatu 4"

    padded = {**signup, "email": "padded@b.dev", "name": " Pat ", "password": " pass word 9 "}
    assert client.post("/auth/register", json=padded).json()["name"] == "Pat"
    login = {"username": "padded@b.dev", "password": " pass word 9 "}
    assert client.post("/auth/token", data=login).status_code == 200
    stripped = {**login, "password": "pass word 9"}
    assert client.post("/auth/token", data=stripped).status_code == 401


def test_a_peak_window_names_each_weekday_once(setup: Setup) -> None:
    """PUT /pricing took a peak window whose weekdays repeated one day 1,000 times."""
    operator = setup.service.party("operator")
    before = operator.get("/pricing").json()
    window = {"start": "07:00", "end": "09:00", "weekdays": [1] * 1000}
    tariff = {
        **{k: v for k, v in before.items() if k not in ("version", "currency")},
        "peak_windows": [window],
    }
    answer = operator.client.put("/pricing", json=tariff)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "peak_windows.0.weekdays: repeats 1 (Tuesday): give each day at most once"
    )
    repeats = {**window, "weekdays": [0, 6, 2, 6, 0]}
    answer = operator.client.put("/pricing", json={**tariff, "peak_windows": [repeats]})
    assert answer.status_code == 422, answer.text
    assert "repeats 0 (Monday), 6 (Sunday)" in answer.json()["detail"], answer.text
    answer = operator.client.put(
        "/pricing", json={**tariff, "peak_windows": [{**window, "weekdays": [7]}]}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "peak_windows.0.weekdays.0", answer.text
    assert operator.get("/pricing").json() == before
    schema = setup.service.client().get("/openapi.json").json()["components"]["schemas"]
    assert schema["PeakWindowIn"]["properties"]["weekdays"]["uniqueItems"] is True
    # A tariff stored before the refusal still reads (GET /pricing), each day once.
    stored = {**before, "peak_windows": [{**window, "weekdays": [1, 1, 2, 1]}]}
    assert TariffPublic.model_validate(stored).peak_windows[0].weekdays == [1, 2]


def test_a_body_that_is_not_json_or_cannot_be_read_says_why(setup: Setup) -> None:
    """A body sent as another Content-Type was validated as raw bytes ("body: Input should
    be a valid dictionary"); one FastAPI could not read got "There was an error parsing the
    body", whatever the reason. Each answer now names the body and the reason."""
    merchant, courier = setup.merchant, setup.courier
    before = len(merchant.get("/orders").json())
    for kind in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        answer = merchant.post(
            "/orders", content=json.dumps(order_body()), headers={"content-type": kind}
        )
        assert answer.status_code == 415, (kind, answer.text)
        assert answer.json() == {
            "detail": f"body: Content-Type {kind} is not JSON; send it as application/json",
            "field": "body",
        }
    assert merchant.post("/orders", files={"a": b"b"}).status_code == 415
    assert len(merchant.get("/orders").json()) == before
    unreadable = [
        (b'{"trip_id": 1' + b"0" * 5000 + b"}", "has a number of more than 4300 digits"),
        (b"[" * 100_000 + b"]" * 100_000, "is JSON nested too deeply to read"),
        (b'{"trip_id": "\xe4"}', "is not UTF-8 text (byte 13 cannot be read)"),
    ]
    for content, reason in unreadable:
        answer = courier.post(
            f"/orders/{setup.order_id}/grab",
            content=content,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"detail": f"body: {reason}", "field": "body"}
