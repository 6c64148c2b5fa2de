"""An accepted order leaves its courier's trip by one rule on every path (issue 19.3).

After the withdrawal window the courier cannot shed it: not by withdrawing, cancelling or
changing the trip, from a second session, or by being suspended. It stays theirs until they
report an incident or the operator releases or reassigns it; a late release counts against
them. Within the window, cancelling the trip counts as a withdrawal."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import Party, Service, order_body, trip_body


def _accepted(service: Service, sender: Party, courier: Party) -> tuple[int, int]:
    order_id = sender.post("/orders", json=order_body()).json()["id"]
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    grabbed = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
    assert grabbed.status_code == 200, grabbed.text
    return order_id, trip_id


def _reliability(operator: Party, courier: Party) -> dict[str, Any]:
    found = operator.get("/couriers", params={"ids": courier.id}).json()
    return dict(found[0])


def test_after_the_window_no_courier_path_sheds_the_order(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    courier = service.party("courier")
    order_id, trip_id = _accepted(service, merchant, courier)
    service.clock.advance(6)  # the 5-minute window has closed

    refusals = {
        "withdraw": courier.post(f"/orders/{order_id}/withdraw"),
        "cancel the trip": courier.post(f"/trips/{trip_id}/cancel"),
        "change the trip": courier.patch(
            f"/trips/{trip_id}", json={"destination_address": "elsewhere"}
        ),
    }
    second_session = service.client(service.login(courier.email))
    refusals["withdraw from a second session"] = second_session.post(f"/orders/{order_id}/withdraw")
    for path, answer in refusals.items():
        assert answer.status_code == 409, (path, answer.text)
        assert answer.json()["status"] in ("accepted", "assigned"), (path, answer.text)
    assert "withdrawal window" in refusals["cancel the trip"].json()["detail"]
    assert "ask the operator to release it" in refusals["withdraw"].json()["detail"]

    suspended = operator.post(f"/couriers/{courier.id}/suspend", json={"reason": "no-show"})
    assert suspended.status_code == 200, suspended.text
    order = operator.get(f"/orders/{order_id}").json()
    assert order["status"] == "accepted" and order["trip_id"] == trip_id  # still theirs
    assert operator.get(f"/trips/{trip_id}").json()["status"] == "assigned"
    assert _reliability(operator, courier)["withdrawals"] == 0

    # The operator releases it: back in the pool, and it counts against the courier.
    released = operator.post(f"/orders/{order_id}/release", json={"note": "courier unreachable"})
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "posted" and released.json()["trip_id"] is None
    assert operator.get(f"/trips/{trip_id}").json()["status"] == "open"
    record = _reliability(operator, courier)
    assert record["late_releases"] == 1 and record["withdrawals"] == 0
    events = [e["action"] for e in operator.get(f"/orders/{order_id}/events").json()]
    assert events[-1] == "late_release"
    assert courier.get(f"/orders/{order_id}").status_code == 404  # no longer theirs


def test_within_the_window_cancelling_the_trip_is_a_withdrawal(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    courier = service.party("courier")
    order_id, trip_id = _accepted(service, merchant, courier)
    service.clock.advance(2)
    cancelled = courier.post(f"/trips/{trip_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "posted"
    assert _reliability(operator, courier)["withdrawals"] == 1


def test_only_an_incident_or_the_operator_moves_it(service: Service) -> None:
    """The courier's own way out after the window is an incident; the operator may instead
    hand the order to another courier's trip that can carry it."""
    operator = service.party("operator")
    merchant = service.party("merchant")
    courier, other = service.party("courier"), service.party("courier")
    order_id, trip_id = _accepted(service, merchant, courier)
    service.clock.advance(10)
    service.relogin(operator, merchant, courier, other)

    # A trip that cannot carry it is refused, naming the field; a busy one too.
    far = other.post(
        "/trips", json=trip_body(origin=(60.30, 25.30), destination=(60.31, 25.31), arrive=60)
    ).json()["id"]
    refused = operator.post(f"/orders/{order_id}/reassign", json={"trip_id": far})
    assert refused.status_code == 422 and refused.json()["field"] == "trip_id", refused.text
    assert operator.get(f"/orders/{order_id}").json()["trip_id"] == trip_id  # unchanged

    other_trip = other.post("/trips", json=trip_body(depart=40)).json()["id"]
    moved = operator.post(f"/orders/{order_id}/reassign", json={"trip_id": other_trip})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "accepted" and moved.json()["trip_id"] == other_trip
    assert operator.get(f"/trips/{trip_id}").json()["status"] == "open"
    assert _reliability(operator, courier)["late_releases"] == 1
    code = other.post(f"/orders/{order_id}/pickup-code")
    assert code.status_code == 200 and len(code.json()["pickup_code"]) == 6
    assert courier.post(f"/orders/{order_id}/withdraw").status_code == 404

    # The new courier, after their window, has the incident as their way out.
    service.clock.advance(10)
    service.relogin(operator, merchant, other)
    assert other.post(f"/orders/{order_id}/withdraw").status_code == 409
    reported = other.post(
        f"/orders/{order_id}/incidents", json={"kind": "other", "note": "flat tyre"}
    )
    assert reported.status_code == 201, reported.text
    assert operator.get(f"/orders/{order_id}").json()["status"] == "failed"
    assert operator.get(f"/trips/{other_trip}").json()["status"] == "open"


def test_release_is_for_operators_and_accepted_orders(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    courier = service.party("courier")
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    assert courier.post(f"/orders/{order_id}/release").status_code == 403
    assert merchant.post(f"/orders/{order_id}/release").status_code == 403
    posted = operator.post(f"/orders/{order_id}/release")
    assert posted.status_code == 409 and posted.json()["status"] == "posted"
