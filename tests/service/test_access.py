"""Every party acts only on what is theirs: forbidden access answers 403 or 404, never
leaks data and never changes anything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.service.conftest import Party, Service, order_body, start_service, trip_body


@dataclass
class World:
    operator: Party
    merchant: Party
    other_merchant: Party
    receiver: Party
    stranger: Party  # a customer who neither sent nor receives the order
    courier: Party
    other_courier: Party
    order_id: int
    trip_id: int
    other_trip_id: int
    offer_id: int


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for the whole matrix (the forbidden requests change nothing, which each
    test checks); access rules do not depend on the database engine."""
    url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'crowdship.db'}"
    server, thread, running = start_service(url)
    yield running
    server.should_exit = True
    thread.join(timeout=10)
    running.context.db.dispose()


@pytest.fixture(scope="module")
def world(shared_service: Service) -> World:
    service = shared_service
    operator = service.party("operator")
    merchant, other_merchant = service.party("merchant"), service.party("merchant")
    receiver = service.party("customer", phone="+358405551234")
    stranger = service.party("customer")
    courier, other_courier = service.party("courier"), service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body(receiver_phone="+358405551234")).json()[
        "id"
    ]
    operator.post("/matching/run")
    offer_id = courier.get("/offers").json()[0]["id"]
    other_trip_id = other_courier.post("/trips", json=trip_body(depart=50)).json()["id"]
    return World(
        operator,
        merchant,
        other_merchant,
        receiver,
        stranger,
        courier,
        other_courier,
        order_id,
        trip_id,
        other_trip_id,
        offer_id,
    )


# (who, method, path template, body) -> must answer 403 or 404
FORBIDDEN = [
    ("other_merchant", "get", "/orders/{order}", None),
    ("other_merchant", "get", "/orders/{order}/events", None),
    ("other_merchant", "post", "/orders/{order}/cancel", None),
    ("other_merchant", "post", "/orders/{order}/pickup", {"code": "123456"}),
    ("stranger", "get", "/orders/{order}", None),
    ("stranger", "get", "/orders/{order}/events", None),
    ("receiver", "post", "/orders/{order}/cancel", None),
    ("receiver", "post", "/orders/{order}/pickup", {"code": "123456"}),
    ("other_courier", "get", "/orders/{order}", None),
    ("other_courier", "post", "/offers/{offer}/accept", None),
    ("other_courier", "post", "/offers/{offer}/reject", None),
    ("other_courier", "get", "/trips/{trip}", None),
    ("other_courier", "patch", "/trips/{trip}", {"origin_address": "mine now"}),
    ("other_courier", "post", "/trips/{trip}/cancel", None),
    ("other_courier", "get", "/trips/{trip}/fitting-orders", None),
    ("other_courier", "post", "/orders/{order}/grab", {"trip_id": "{trip}"}),
    ("courier", "post", "/orders/{order}/withdraw", None),  # offered, not carried
    ("courier", "post", "/orders", "order"),
    ("courier", "post", "/matching/run", None),
    ("courier", "get", "/matching/runs", None),
    ("courier", "post", "/orders/{order}/unlock", None),
    ("merchant", "post", "/trips", "trip"),
    ("merchant", "get", "/trips", None),
    ("merchant", "get", "/offers", None),
    ("merchant", "post", "/offers/{offer}/accept", None),
    ("merchant", "post", "/orders/{order}/grab", {"trip_id": "{trip}"}),
    ("merchant", "post", "/matching/run", None),
    ("merchant", "post", "/orders/{order}/fail", {"note": "x"}),
    ("receiver", "post", "/trips", "trip"),
    ("operator", "post", "/trips", "trip"),
    ("operator", "post", "/orders", "order"),
    ("operator", "post", "/offers/{offer}/accept", None),
    # Money and trust.
    ("merchant", "put", "/pricing", {"base_cents": 1}),
    ("courier", "put", "/pricing", {"base_cents": 1}),
    ("merchant", "get", "/wallet", None),
    ("operator", "get", "/wallet", None),
    ("courier", "post", "/settlement/runs", {"day": "2026-11-20"}),
    ("merchant", "get", "/settlement/runs", None),
    ("courier", "post", "/payouts/runs", {"day": "2026-11-20"}),
    ("courier", "get", "/payouts/runs", None),
    ("courier", "get", "/payouts/runs/1/csv", None),
    ("merchant", "get", "/ledger/balances", None),
    ("courier", "get", "/couriers", None),
    ("other_courier", "post", "/couriers/{courier}/suspend", {"reason": "x"}),
    ("merchant", "post", "/couriers/{courier}/reinstate", None),
    ("merchant", "get", "/assessment", None),
    ("merchant", "put", "/me/payout-account", {"iban": "FI2112345600000785"}),
    ("stranger", "post", "/orders/{order}/rating", {"stars": 1}),
    ("other_courier", "post", "/orders/{order}/rating", {"stars": 5}),
    ("stranger", "post", "/orders/{order}/incidents", {"kind": "other"}),
    ("other_courier", "post", "/orders/{order}/incidents", {"kind": "lost"}),
    ("other_merchant", "get", "/orders/{order}/incidents", None),
    ("merchant", "get", "/incidents", None),
    ("merchant", "post", "/incidents/1/resolve", {"resolution": "pay"}),
    ("merchant", "post", "/pickup-points", {"name": "x"}),
    ("courier", "patch", "/pickup-points/1", {"active": False}),
    ("merchant", "post", "/pickup-points/1/staff", {"email": "a@b.cd"}),
    ("merchant", "post", "/orders/{order}/arrive", None),
    ("courier", "post", "/orders/{order}/collect", {"code": "123456"}),
]


def _fill(value: object, world: World) -> object:
    if value == "order":
        return order_body()
    if value == "trip":
        return trip_body()
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, str) and "{" in value:
        text = value.format(
            order=world.order_id,
            trip=world.trip_id,
            offer=world.offer_id,
            courier=world.courier.id,
        )
        return int(text) if text.isdigit() else text
    return value


@pytest.mark.parametrize(("who", "method", "path", "body"), FORBIDDEN)
def test_forbidden(world: World, who: str, method: str, path: str, body: object) -> None:
    """The request is refused with 403 or 404 and the order and offer are unchanged."""
    party: Party = getattr(world, who)
    url = str(_fill(path, world))
    kwargs = {} if body is None else {"json": _fill(body, world)}
    answer = getattr(party, method)(url, **kwargs)
    assert answer.status_code in (403, 404), (answer.status_code, answer.text)
    assert "receiver_phone" not in answer.text
    assert world.merchant.get(f"/orders/{world.order_id}").json()["status"] == "offered"
    offers = world.courier.get("/offers").json()
    assert offers[0]["status"] == "pending"


def test_without_a_token_everything_but_login_is_401(world: World, shared_service: Service) -> None:
    """No token, a forged token: 401 with a WWW-Authenticate header."""
    anonymous = shared_service.client()
    for path in ("/me", "/orders", f"/orders/{world.order_id}", "/offers", "/trips"):
        answer = anonymous.get(path)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    forged = shared_service.client("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
    assert forged.get("/me").status_code == 401


def test_each_party_sees_only_its_own(world: World) -> None:
    """Lists are scoped: sender, receiver and operator see the order; others do not."""
    assert [o["id"] for o in world.merchant.get("/orders").json()] == [world.order_id]
    assert [o["id"] for o in world.receiver.get("/orders").json()] == [world.order_id]
    assert [o["id"] for o in world.operator.get("/orders").json()] == [world.order_id]
    assert world.other_merchant.get("/orders").json() == []
    assert world.stranger.get("/orders").json() == []
    assert world.courier.get("/orders").json() == []  # offered, not yet carried
    assert world.other_courier.get("/offers").json() == []
    assert [t["id"] for t in world.other_courier.get("/trips").json()] == [world.other_trip_id]
    assert len(world.operator.get("/trips").json()) == 2


def test_wrong_password_and_unknown_email_look_the_same(
    world: World, shared_service: Service
) -> None:
    """Login does not reveal which accounts exist."""
    merchant = world.merchant
    client = shared_service.client()
    wrong = client.post("/auth/token", data={"username": merchant.email, "password": "nope-nope"})
    unknown = client.post("/auth/token", data={"username": "who@x.dev", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
