"""The dispatch board (issue 17): the operator offers an open order to a trip by hand. The
same rule, expiry and answer as a matching run's offer; a pair that does not fit is refused
with the part of the rule it breaks."""

from __future__ import annotations

from tests.service.conftest import order_body, trip_body


def test_an_offer_by_hand_is_answered_like_any_other(service):
    operator, sender, courier = (service.party(r) for r in ("operator", "merchant", "courier"))
    order_id = sender.post("/orders", json=order_body()).json()["id"]
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    made = operator.post("/matching/offers", json={"order_id": order_id, "trip_id": trip_id})
    assert made.status_code == 201, made.text
    offer = made.json()
    assert offer["status"] == "pending" and offer["courier_id"] == courier.id
    assert offer["order"]["status"] == "offered" and offer["detour_min"] >= 0
    mine = courier.get("/offers?status=pending").json()
    assert [o["id"] for o in mine] == [offer["id"]]
    events = operator.get(f"/orders/{order_id}/events").json()
    assert events[-1]["action"] == "offer" and events[-1]["actor_id"] == operator.id
    assert "offered by hand" in events[-1]["note"]
    accepted = courier.post(f"/offers/{offer['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    # Once offered or taken, it cannot be offered again.
    again = operator.post("/matching/offers", json={"order_id": order_id, "trip_id": trip_id})
    assert again.status_code == 409 and "accepted" in again.json()["detail"]


def test_a_pair_that_does_not_fit_is_refused_with_the_reason(service):
    operator, sender, courier = (service.party(r) for r in ("operator", "merchant", "courier"))
    # The trip ends long before the parcel may even be picked up.
    order_id = sender.post("/orders", json=order_body(earliest=200, latest=400)).json()["id"]
    trip_id = courier.post("/trips", json=trip_body(depart=10, arrive=60)).json()["id"]
    refused = operator.post("/matching/offers", json={"order_id": order_id, "trip_id": trip_id})
    assert refused.status_code == 422
    problem = refused.json()["errors"][0]
    assert problem["field"] == "trip_id"
    assert "after its latest arrival" in problem["problem"], problem
    assert sender.get(f"/orders/{order_id}").json()["status"] == "posted"


def test_only_the_operator_offers_by_hand(service):
    sender, courier = service.party("merchant"), service.party("courier")
    order_id = sender.post("/orders", json=order_body()).json()["id"]
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    for party in (sender, courier):
        answer = party.post("/matching/offers", json={"order_id": order_id, "trip_id": trip_id})
        assert answer.status_code == 403


def test_each_run_shows_what_became_of_its_offers(service):
    operator, sender = service.party("operator"), service.party("merchant")
    couriers = [service.party("courier") for _ in range(2)]
    for _ in couriers:
        sender.post("/orders", json=order_body())
    for courier in couriers:
        courier.post("/trips", json=trip_body())
    assert operator.post("/matching/run").json()["offers"] == 2
    answers = []
    for courier, how in zip(couriers, ("accept", "reject"), strict=True):
        (offer,) = courier.get("/offers?status=pending").json()
        answers.append(courier.post(f"/offers/{offer['id']}/{how}").status_code)
    assert answers == [200, 200]
    (run,) = operator.get("/matching/runs").json()
    assert (run["accepted"], run["rejected"], run["expired"]) == (1, 1, 0)


def test_a_suspended_courier_is_refused_with_the_orders_state(service):
    """Handing an order to a suspended courier's trip (an offer by hand or a reassignment) is
    409 naming why, and its ``status`` is the order's state, unchanged (as in every 409; it
    said "refused", which is no state)."""
    operator, sender, courier = (service.party(r) for r in ("operator", "merchant", "courier"))
    order_id = sender.post("/orders", json=order_body()).json()["id"]
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    suspended = operator.post(f"/couriers/{courier.id}/suspend", json={"reason": "checks"})
    assert suspended.status_code == 200, suspended.text
    for path, body in (
        ("/matching/offers", {"order_id": order_id, "trip_id": trip_id}),
        (f"/orders/{order_id}/reassign", {"trip_id": trip_id}),
    ):
        refused = operator.post(path, json=body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"].startswith(f"courier {courier.id} cannot take orders")
        assert refused.json()["status"] == "posted"
    assert sender.get(f"/orders/{order_id}").json()["status"] == "posted"


def test_a_pair_offered_before_is_never_offered_again(service):
    """A pair has one offer (the table's unique key). A pair whose offer was withdrawn (the
    courier gave the order back, or the platform took the offer back from a courier since
    suspended and reinstated) was proposed again by the next run, whose insert broke the
    key (500); one rejected, offered by hand again, too. Neither a run nor the operator
    offers a pair twice; the courier may still grab the order."""
    operator, sender = service.party("operator"), service.party("merchant")
    for way in ("withdraw", "suspend", "reject"):
        courier = service.party("courier")
        trip_id = courier.post("/trips", json=trip_body()).json()["id"]
        order_id = sender.post("/orders", json=order_body()).json()["id"]
        pair = {"order_id": order_id, "trip_id": trip_id}
        made = operator.post("/matching/offers", json=pair)
        assert made.status_code == 201, made.text
        offer_id = made.json()["id"]
        if way == "withdraw":
            assert courier.post(f"/offers/{offer_id}/accept").status_code == 200
            assert courier.post(f"/orders/{order_id}/withdraw").status_code == 200
        elif way == "suspend":  # the offer is taken back
            assert operator.post(f"/couriers/{courier.id}/suspend", json={"reason": "x"})
            assert operator.post(f"/couriers/{courier.id}/reinstate").status_code == 200
        else:
            assert courier.post(f"/offers/{offer_id}/reject").status_code == 200
        assert sender.get(f"/orders/{order_id}").json()["status"] == "posted", way

        run = operator.post("/matching/run")
        assert run.status_code == 200, (way, run.text)
        assert (run.json()["open_orders"], run.json()["offers"]) == (1, 0), (way, run.text)
        again = operator.post("/matching/offers", json=pair)
        assert again.status_code == 409, (way, again.text)
        status = "withdrawn" if way != "reject" else "rejected"
        assert again.json() == {
            "detail": f"order {order_id} was offered to trip {trip_id} before (offer "
            f"{offer_id}, {status}); a pair is offered once: offer it to another trip",
            "status": "posted",
        }
        # Grabbed, the order fills the trip: the next way starts on its own.
        grabbed = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
        assert grabbed.status_code == 200, (way, grabbed.text)
