"""The order life cycle's rules: withdrawal window, expiring and rejected offers, trip and
order cancellation, handover code limits, order expiry, illegal transitions (409)."""

from __future__ import annotations

import re

from crowdship.service.scheduler import tick
from tests.service.conftest import Party, Service, order_body, trip_body


def _offer(service: Service, operator: Party, courier: Party) -> dict:  # type: ignore[type-arg]
    assert operator.post("/matching/run").status_code == 200
    offers = courier.get("/offers", params={"status": "pending"}).json()
    assert len(offers) == 1, offers
    return offers[0]  # type: ignore[no-any-return]


def test_withdraw_within_five_minutes_then_refused(service: Service) -> None:
    """Withdrawal returns the order to the pool within 5 minutes of accepting; later, 409."""
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    assert courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id}).status_code == 200
    service.clock.advance(4.9)
    back = courier.post(f"/orders/{order_id}/withdraw")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "posted" and back.json()["trip_id"] is None
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "open"

    assert courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id}).status_code == 200
    service.clock.advance(5.1)
    late = courier.post(f"/orders/{order_id}/withdraw")
    assert late.status_code == 409
    assert late.json()["status"] == "accepted"
    assert "withdrawal window" in late.json()["detail"]


def test_expired_offer_counts_as_rejection(service: Service) -> None:
    """An unanswered offer expires after 10 minutes; the pair is not offered again."""
    operator, merchant = service.party("operator"), service.party("merchant")
    first, second = service.party("courier"), service.party("courier")
    first_trip = first.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    offer = _offer(service, operator, first)
    assert offer["trip_id"] == first_trip

    service.clock.advance(10.5)
    late = first.post(f"/offers/{offer['id']}/accept")
    assert late.status_code == 409, late.text
    assert "expired" in late.json()["detail"]
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "posted"
    assert first.get("/offers").json()[0]["status"] == "expired"

    again = operator.post("/matching/run").json()
    assert again["offers"] == 0 and again["feasible_pairs"] == 0  # the refused pair is out
    second_trip = second.post("/trips", json=trip_body(depart=45)).json()["id"]
    third = operator.post("/matching/run").json()
    assert third["offers"] == 1
    assert second.get("/offers").json()[0]["trip_id"] == second_trip
    actions = [e["action"] for e in merchant.get(f"/orders/{order_id}/events").json()]
    assert actions == ["post", "offer", "offer_expire", "offer"]


def test_rejected_pair_is_never_offered_again(service: Service) -> None:
    """Rejecting returns the order to the pool and excludes that pair from later runs."""
    operator, merchant, courier = (
        service.party("operator"),
        service.party("merchant"),
        service.party("courier"),
    )
    courier.post("/trips", json=trip_body())
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    offer = _offer(service, operator, courier)
    rejected = courier.post(f"/offers/{offer['id']}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "posted"
    assert operator.post("/matching/run").json()["offers"] == 0
    twice = courier.post(f"/offers/{offer['id']}/accept")
    assert twice.status_code == 409 and twice.json()["status"] == "rejected"


def test_cancelling_a_trip_returns_its_order_to_the_pool(service: Service) -> None:
    """A cancelled trip gives its accepted order back; the courier no longer sees it."""
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
    cancelled = courier.post(f"/trips/{trip_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    order = merchant.get(f"/orders/{order_id}").json()
    assert order["status"] == "posted" and order["trip_id"] is None
    assert courier.get(f"/orders/{order_id}").status_code == 404
    assert courier.post(f"/trips/{trip_id}/cancel").status_code == 409


def test_cancelling_a_trip_with_a_pending_offer_withdraws_it(service: Service) -> None:
    """The offer is withdrawn and the order is open again."""
    operator, merchant, courier = (
        service.party("operator"),
        service.party("merchant"),
        service.party("courier"),
    )
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    offer = _offer(service, operator, courier)
    assert (
        courier.patch(
            f"/trips/{trip_id}", json={"latest_arrival": trip_body()["latest_arrival"]}
        ).status_code
        == 409
    )
    assert courier.post(f"/trips/{trip_id}/cancel").status_code == 200
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "posted"
    assert courier.get("/offers").json()[0]["status"] == "withdrawn"
    assert courier.post(f"/offers/{offer['id']}/accept").status_code == 409


def test_trip_change_while_open(service: Service) -> None:
    """An open trip can change; the rule is checked again."""
    courier = service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    later = trip_body(depart=60, arrive=150)
    changed = courier.patch(
        f"/trips/{trip_id}",
        json={
            "earliest_departure": later["earliest_departure"],
            "latest_arrival": later["latest_arrival"],
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["earliest_departure"].startswith("2026-11-23T09:00")
    too_short = courier.patch(
        f"/trips/{trip_id}", json={"latest_arrival": trip_body(arrive=61)["latest_arrival"]}
    )
    assert too_short.status_code == 422
    assert "latest_arrival" in too_short.json()["detail"]


def test_sender_cancels_before_pickup_only(service: Service) -> None:
    """Cancelling frees the courier's trip; after pickup it is refused with the state."""
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
    cancelled = merchant.post(f"/orders/{order_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "open"
    again = merchant.post(f"/orders/{order_id}/cancel")
    assert again.status_code == 409 and again.json()["status"] == "cancelled"

    second = merchant.post("/orders", json=order_body()).json()["id"]
    code = courier.post(f"/orders/{second}/grab", json={"trip_id": trip_id}).json()["pickup_code"]
    assert merchant.post(f"/orders/{second}/pickup", json={"code": code}).status_code == 200
    late = merchant.post(f"/orders/{second}/cancel")
    assert late.status_code == 409 and late.json()["status"] == "picked_up"


def test_wrong_codes_lock_the_order_until_the_operator_reviews(service: Service) -> None:
    """Four wrong delivery codes count down, the fifth locks (423); the operator unlocks and
    a fresh code goes out; the old one no longer works."""
    operator, merchant, courier = (
        service.party("operator"),
        service.party("merchant"),
        service.party("courier"),
    )
    phone = "+358405550077"
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body(receiver_phone=phone)).json()["id"]
    pickup = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id}).json()[
        "pickup_code"
    ]
    wrong_pickup = merchant.post(
        f"/orders/{order_id}/pickup", json={"code": "000000" if pickup != "000000" else "111111"}
    )
    assert wrong_pickup.status_code == 422 and wrong_pickup.json()["field"] == "code"
    assert merchant.post(f"/orders/{order_id}/pickup", json={"code": pickup}).status_code == 200
    first_code = re.search(r"([0-9]{6})$", service.sms.to(phone)[0]).group(1)  # type: ignore[union-attr]
    wrong = "123456" if first_code != "123456" else "654321"
    for left in (4, 3, 2, 1):
        answer = courier.post(f"/orders/{order_id}/deliver", json={"code": wrong})
        assert answer.status_code == 422, answer.text
        assert f"{left} attempts left" in answer.json()["detail"]
    locked = courier.post(f"/orders/{order_id}/deliver", json={"code": wrong})
    assert locked.status_code == 423 and "locked" in locked.json()["detail"]
    assert courier.post(f"/orders/{order_id}/deliver", json={"code": first_code}).status_code == 423
    assert merchant.get(f"/orders/{order_id}").json()["locked"] is True

    assert merchant.post(f"/orders/{order_id}/unlock").status_code == 403
    unlocked = operator.post(f"/orders/{order_id}/unlock")
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    texts = service.sms.to(phone)
    assert len(texts) == 2
    fresh_code = re.search(r"([0-9]{6})$", texts[1]).group(1)  # type: ignore[union-attr]
    if fresh_code != first_code:
        assert (
            courier.post(f"/orders/{order_id}/deliver", json={"code": first_code}).status_code
            == 422
        )
    done = courier.post(f"/orders/{order_id}/deliver", json={"code": fresh_code})
    assert done.status_code == 200 and done.json()["status"] == "delivered"


def test_orders_expire_when_their_deadline_cannot_be_met(service: Service) -> None:
    """The scheduler's pass expires an open order once even a direct drive is too late."""
    merchant = service.party("merchant")
    order_id = merchant.post("/orders", json=order_body(latest=60)).json()["id"]
    service.clock.advance(30)
    tick(service.context)
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "posted"
    service.clock.advance(25)  # 5 minutes left; the drive takes longer
    tick(service.context)
    order = merchant.get(f"/orders/{order_id}").json()
    assert order["status"] == "expired"
    last = merchant.get(f"/orders/{order_id}/events").json()[-1]
    assert (last["action"], last["actor_id"]) == ("expire", None)


def test_illegal_transitions_answer_409_with_the_current_state(service: Service) -> None:
    """Delivering before pickup, picking up twice, grabbing a taken order: 409 + state."""
    merchant, courier = service.party("merchant"), service.party("courier")
    other = service.party("courier")
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    other_trip = other.post("/trips", json=trip_body()).json()["id"]
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    code = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id}).json()["pickup_code"]
    early = courier.post(f"/orders/{order_id}/deliver", json={"code": "123456"})
    assert early.status_code == 409 and early.json()["status"] == "accepted"
    taken = other.post(f"/orders/{order_id}/grab", json={"trip_id": other_trip})
    assert taken.status_code == 409 and taken.json()["status"] == "accepted"
    assert merchant.post(f"/orders/{order_id}/pickup", json={"code": code}).status_code == 200
    twice = merchant.post(f"/orders/{order_id}/pickup", json={"code": code})
    assert twice.status_code == 409 and twice.json()["status"] == "picked_up"


def test_tokens_expire(service: Service) -> None:
    """An access token stops working after its lifetime (60 minutes by default)."""
    merchant = service.party("merchant")
    assert merchant.get("/me").status_code == 200
    service.clock.advance(61)
    expired = merchant.get("/me")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
