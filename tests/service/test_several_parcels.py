"""Several parcels per trip in the service (issue 15): a trip's capacity, offers and grabs
checked on the whole route, the route's stops for the courier, re-planning when an order
leaves, and the matching job adding an order to a trip that carries one.

Every route the service answers is re-checked here by an independent checker: the rule
written out again from DESIGN.md (leave the start, drive leg by leg with great-circle
minutes computed here, wait where early, each pickup before its delivery, every delivery
and the arrival in time, the load never above capacity)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from crowdship.service.workflows.invariants import check
from tests.service.conftest import (
    KALLIO,
    KAMPPI,
    PUNAVUORI,
    TOOLO,
    Party,
    Service,
    order_body,
    trip_body,
)

SPEED_KMH, DETOUR_FACTOR = 30.0, 1.3  # the service's default travel model
# Far enough east that a courier cannot be there and in Töölö within a quarter hour.
ITAKESKUS = (60.2100, 25.0800)
HERTTONIEMI = (60.1950, 25.0300)


def drive(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle minutes, written apart from crowdship.core."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371.0088 * math.asin(math.sqrt(h))
    return km * DETOUR_FACTOR / SPEED_KMH * 60


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def route_problems(route: dict[str, Any], trip: dict[str, Any], orders: dict[int, Any]) -> list:
    """Everything wrong with a route the service answered, by the rule alone."""
    problems: list[str] = []
    stops = route["stops"]
    if stops[0]["kind"] != "start" or stops[-1]["kind"] != "end":
        problems.append("a route runs from its start to its end")
    picked: set[int] = {o for o in route["order_ids"] if orders[o]["status"] == "picked_up"}
    delivered: set[int] = set()
    load = len(picked)
    if stops[0]["load"] != load:
        problems.append(f"the start carries {stops[0]['load']}, expected {load}")
    clock = when(stops[0]["leave_at"])
    here = (stops[0]["lat"], stops[0]["lon"])
    for stop in stops[1:]:
        there = (stop["lat"], stop["lon"])
        minutes = drive(here, there)
        arrive = clock.timestamp() + minutes * 60
        if abs(when(stop["arrive_at"]).timestamp() - arrive) > 1:
            problems.append(f"{stop['kind']} {stop['order_id']}: arrival {stop['arrive_at']}")
        leave = arrive
        order = orders.get(stop["order_id"] or -1)
        if stop["kind"] == "pickup":
            assert order is not None
            if stop["order_id"] in picked:
                problems.append(f"order {stop['order_id']} is picked up twice")
            picked.add(stop["order_id"])
            if (order["pickup_lat"], order["pickup_lon"]) != there:
                problems.append(f"order {stop['order_id']} is picked up elsewhere")
            leave = max(leave, when(order["earliest_pickup"]).timestamp())  # wait if early
            load += 1
        elif stop["kind"] == "delivery":
            assert order is not None
            if stop["order_id"] not in picked:
                problems.append(f"order {stop['order_id']} is delivered before its pickup")
            delivered.add(stop["order_id"])
            if (order["delivery_lat"], order["delivery_lon"]) != there:
                problems.append(f"order {stop['order_id']} is delivered elsewhere")
            if arrive > when(order["latest_delivery"]).timestamp() + 1:
                problems.append(f"order {stop['order_id']} is delivered late")
            load -= 1
        elif arrive > when(trip["latest_arrival"]).timestamp() + 1:
            problems.append("the trip arrives late")
        if abs(when(stop["leave_at"]).timestamp() - leave) > 1:
            problems.append(f"{stop['kind']} {stop['order_id']}: leaves {stop['leave_at']}")
        if stop["kind"] != "end" and stop["load"] != load:
            problems.append(f"{stop['kind']} {stop['order_id']}: load {stop['load']} not {load}")
        if load > trip["capacity"]:
            problems.append(f"load {load} above capacity {trip['capacity']}")
        clock, here = datetime.fromtimestamp(leave, tz=clock.tzinfo), there
    if delivered != set(route["order_ids"]):
        problems.append(f"delivered {sorted(delivered)}, carried {route['order_ids']}")
    return problems


def checked_route(courier: Party, sender: Party, trip_id: int) -> dict[str, Any]:
    answer = courier.get(f"/trips/{trip_id}/route")
    assert answer.status_code == 200, answer.text
    route = answer.json()
    trip = courier.get(f"/trips/{trip_id}").json()
    orders = {o: sender.get(f"/orders/{o}").json() for o in route["order_ids"]}
    assert route["feasible"], route
    assert route_problems(route, trip, orders) == []
    return route


def post(sender: Party, body: dict[str, Any]) -> int:
    answer = sender.post("/orders", json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def new_trip(courier: Party, capacity: int, **kw: Any) -> int:
    answer = courier.post("/trips", json={**trip_body(**kw), "capacity": capacity})
    assert answer.status_code == 201, answer.text
    assert answer.json()["capacity"] == capacity
    return int(answer.json()["id"])


def grab(courier: Party, order_id: int, trip_id: int) -> Any:
    return courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})


def kinds(route: dict[str, Any]) -> list[tuple[str, int | None]]:
    return [(s["kind"], s["order_id"]) for s in route["stops"]]


def invariants_hold(service: Service) -> None:
    with service.context.db.snapshot() as session:
        verdict = check(session)
    assert verdict.ok, verdict.violations


def test_a_trip_of_capacity_two_carries_two_orders_on_one_checked_route(
    service: Service,
) -> None:
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = new_trip(courier, 2, origin=KAMPPI, destination=KALLIO, arrive=240)
    first = post(merchant, order_body(TOOLO, PUNAVUORI))
    second = post(merchant, order_body(PUNAVUORI, KALLIO, receiver_phone="+358408888888"))
    assert grab(courier, first, trip_id).status_code == 200
    fitting = courier.get(f"/trips/{trip_id}/fitting-orders").json()
    assert [f["order"]["id"] for f in fitting] == [second]  # the whole route with the first
    grabbed = grab(courier, second, trip_id)
    assert grabbed.status_code == 200, grabbed.text
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "assigned"

    route = checked_route(courier, merchant, trip_id)
    assert sorted(route["order_ids"]) == [first, second]
    assert route["load"] == 2 and route["capacity"] == 2
    assert route["starts_from"] == "origin"
    assert route["stops"][0]["leave_at"].startswith("2026-11-23T08:30")
    assert len(route["stops"]) == 6
    # A parcel picked up stays on board: only its delivery is left, loading from the start.
    code = grabbed.json()["pickup_code"]
    assert merchant.post(f"/orders/{second}/pickup", json={"code": code}).status_code == 200
    route = checked_route(courier, merchant, trip_id)
    assert ("pickup", second) not in kinds(route)
    assert ("delivery", second) in kinds(route)
    assert route["stops"][0]["load"] == 1
    # The operator reads the same route; a third order does not fit: the trip is full.
    operator = service.party("operator")
    assert operator.get(f"/trips/{trip_id}/route").json()["stops"] == route["stops"]
    third = post(merchant, order_body(TOOLO, KALLIO, receiver_phone="+358407777777"))
    refused = grab(courier, third, trip_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith(f"capacity: trip {trip_id} carries 2 of its 2")
    assert refused.json()["status"] == "assigned"
    assert merchant.get(f"/orders/{third}").json()["status"] == "posted"
    invariants_hold(service)


def test_a_grab_that_breaks_the_route_is_refused_naming_the_bound(service: Service) -> None:
    """Each order fits the trip alone; together one of them would be delivered late."""
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = new_trip(courier, 2, origin=KAMPPI, destination=KALLIO, arrive=240)
    west = post(merchant, order_body(TOOLO, PUNAVUORI, earliest=60, latest=75))
    east = post(
        merchant,
        order_body(ITAKESKUS, HERTTONIEMI, earliest=60, latest=75, receiver_phone="+3584055"),
    )
    alone = new_trip(courier, 1, origin=KAMPPI, destination=KALLIO, arrive=240)
    fitting = courier.get(f"/trips/{alone}/fitting-orders").json()
    assert {f["order"]["id"] for f in fitting} == {west, east}
    assert grab(courier, west, trip_id).status_code == 200
    assert courier.get(f"/trips/{trip_id}/fitting-orders").json() == []
    refused = grab(courier, east, trip_id)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("route: "), detail
    assert f"and order {east}, trip {trip_id} would deliver order" in detail, detail
    assert "after its latest delivery 09:15" in detail, detail
    assert merchant.get(f"/orders/{east}").json()["status"] == "posted"
    assert checked_route(courier, merchant, trip_id)["order_ids"] == [west]
    # A trip of capacity one that carries an order is full.
    assert grab(courier, east, alone).status_code == 200
    other = post(merchant, order_body(receiver_phone="+358406666666"))
    full = grab(courier, other, alone)
    assert full.status_code == 409 and full.json()["detail"].startswith("capacity: "), full.text
    invariants_hold(service)


def test_the_matching_job_puts_a_second_order_on_a_trip_carrying_one(service: Service) -> None:
    merchant, courier = service.party("merchant"), service.party("courier")
    operator = service.party("operator")
    trip_id = new_trip(courier, 2, origin=KAMPPI, destination=KALLIO, arrive=240)
    first = post(merchant, order_body(TOOLO, PUNAVUORI))
    assert grab(courier, first, trip_id).status_code == 200
    second = post(merchant, order_body(PUNAVUORI, KALLIO, receiver_phone="+358408888888"))
    run = operator.post("/matching/run")
    assert run.status_code == 200, run.text
    assert run.json()["offers"] == 1
    offers = courier.get("/offers", params={"status": "pending"}).json()
    assert [(o["trip_id"], o["order_id"]) for o in offers] == [(trip_id, second)]
    accepted = courier.post(f"/offers/{offers[0]['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    route = checked_route(courier, merchant, trip_id)
    assert sorted(route["order_ids"]) == [first, second]
    assert merchant.get(f"/orders/{first}").json()["status"] == "accepted"  # kept
    # Full now: the next batch offers it nothing.
    post(merchant, order_body(TOOLO, KALLIO, receiver_phone="+358407777777"))
    assert operator.post("/matching/run").json()["offers"] == 0
    invariants_hold(service)


def test_withdrawing_or_cancelling_one_order_replans_the_rest(service: Service) -> None:
    merchant, courier = service.party("merchant"), service.party("courier")
    trip_id = new_trip(courier, 3, origin=KAMPPI, destination=KALLIO, arrive=240)
    first = post(merchant, order_body(TOOLO, PUNAVUORI))
    second = post(merchant, order_body(PUNAVUORI, KALLIO, receiver_phone="+358408888888"))
    third = post(merchant, order_body(KAMPPI, TOOLO, receiver_phone="+358407777777"))
    for order_id in (first, second, third):
        assert grab(courier, order_id, trip_id).status_code == 200
    assert len(checked_route(courier, merchant, trip_id)["stops"]) == 8

    withdrawn = courier.post(f"/orders/{second}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    route = checked_route(courier, merchant, trip_id)
    assert sorted(route["order_ids"]) == [first, third]
    assert {o for _, o in kinds(route) if o is not None} == {first, third}
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "assigned"
    for order_id in (first, third):
        assert merchant.get(f"/orders/{order_id}").json()["status"] == "accepted"
    assert merchant.get(f"/orders/{second}").json()["status"] == "posted"

    cancelled = merchant.post(f"/orders/{first}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    route = checked_route(courier, merchant, trip_id)
    assert kinds(route) == [("start", None), ("pickup", third), ("delivery", third), ("end", None)]
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "assigned"

    assert courier.post(f"/orders/{third}/withdraw").status_code == 200
    route = checked_route(courier, merchant, trip_id)
    assert kinds(route) == [("start", None), ("end", None)] and route["load"] == 0
    assert courier.get(f"/trips/{trip_id}").json()["status"] == "open"
    invariants_hold(service)


def test_the_route_is_for_its_courier_and_operators(service: Service) -> None:
    merchant, courier = service.party("merchant"), service.party("courier")
    other, operator = service.party("courier"), service.party("operator")
    trip_id = new_trip(courier, 2)
    assert courier.get(f"/trips/{trip_id}/route").status_code == 200
    assert operator.get(f"/trips/{trip_id}/route").status_code == 200
    # Another courier's trip is not revealed (404, as GET /trips/{id}); other roles: 403.
    assert other.get(f"/trips/{trip_id}/route").status_code == 404
    refused = merchant.get(f"/trips/{trip_id}/route")
    assert refused.status_code == 403, refused.text
    assert courier.get("/trips/999999/route").status_code == 404


def test_capacity_outside_one_to_four_is_refused_naming_the_field(service: Service) -> None:
    courier = service.party("courier")
    for capacity in (0, 5, -1):
        answer = courier.post("/trips", json={**trip_body(), "capacity": capacity})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith("capacity"), answer.text
    trip_id = new_trip(courier, 1)
    changed = courier.patch(f"/trips/{trip_id}", json={"capacity": 4})
    assert changed.status_code == 200 and changed.json()["capacity"] == 4, changed.text
    refused = courier.patch(f"/trips/{trip_id}", json={"capacity": 5})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("capacity")


def test_cancelling_a_trip_gives_back_every_order_and_its_pending_offer(service: Service) -> None:
    merchant, courier = service.party("merchant"), service.party("courier")
    operator = service.party("operator")
    trip_id = new_trip(courier, 3, origin=KAMPPI, destination=KALLIO, arrive=240)
    first = post(merchant, order_body(TOOLO, PUNAVUORI))
    second = post(merchant, order_body(PUNAVUORI, KALLIO, receiver_phone="+358408888888"))
    for order_id in (first, second):
        assert grab(courier, order_id, trip_id).status_code == 200
    offered = post(merchant, order_body(KAMPPI, TOOLO, receiver_phone="+358407777777"))
    assert operator.post("/matching/run").json()["offers"] == 1
    assert merchant.get(f"/orders/{offered}").json()["status"] == "offered"
    # A pending offer: the courier answers it before grabbing more.
    another = post(merchant, order_body(TOOLO, KALLIO, receiver_phone="+358406666666"))
    assert grab(courier, another, trip_id).status_code == 409

    cancelled = courier.post(f"/trips/{trip_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    for order_id in (first, second, offered):
        assert merchant.get(f"/orders/{order_id}").json()["status"] == "posted"
    assert courier.get("/offers", params={"status": "pending"}).json() == []
    invariants_hold(service)


def test_a_batch_matches_trips_that_carry_orders_and_empty_ones_together(service: Service) -> None:
    """An order that only the loaded trip can carry goes to it; the one an empty trip can
    carry goes there: both are served (the most matches), each on a route that fits."""
    merchant, operator = service.party("merchant"), service.party("operator")
    loaded_courier, east_courier = service.party("courier"), service.party("courier")
    loaded = new_trip(loaded_courier, 2, origin=KAMPPI, destination=KALLIO, arrive=240)
    carried = post(merchant, order_body(TOOLO, PUNAVUORI))
    assert grab(loaded_courier, carried, loaded).status_code == 200
    east = new_trip(east_courier, 1, origin=ITAKESKUS, destination=HERTTONIEMI, arrive=70)
    both = post(merchant, order_body(ITAKESKUS, HERTTONIEMI, receiver_phone="+358408888888"))
    west_only = post(merchant, order_body(PUNAVUORI, KALLIO, receiver_phone="+358407777777"))
    fitting = east_courier.get(f"/trips/{east}/fitting-orders").json()
    assert {f["order"]["id"] for f in fitting} == {both}
    fitting = loaded_courier.get(f"/trips/{loaded}/fitting-orders").json()
    assert {f["order"]["id"] for f in fitting} == {both, west_only}

    assert operator.post("/matching/run").json()["offers"] == 2
    offered = {
        (o["trip_id"], o["order_id"])
        for party in (loaded_courier, east_courier)
        for o in party.get("/offers", params={"status": "pending"}).json()
    }
    assert offered == {(loaded, west_only), (east, both)}
    for party in (loaded_courier, east_courier):
        offer = party.get("/offers", params={"status": "pending"}).json()[0]
        assert party.post(f"/offers/{offer['id']}/accept").status_code == 200
    route = checked_route(loaded_courier, merchant, loaded)
    assert sorted(route["order_ids"]) == [carried, west_only]
    invariants_hold(service)


def test_an_offer_accepted_after_its_trip_departed_is_checked_from_now(service: Service) -> None:
    """An offer waits up to its time to live; if the (empty) trip departed meanwhile, the
    route is planned again from now on acceptance: an order it would now deliver late is
    refused naming the bound (it was taken, and the route then said infeasible) and goes
    back to the pool; one that still fits is taken."""
    merchant, courier = service.party("merchant"), service.party("courier")
    operator = service.party("operator")
    leave = KAMPPI, TOOLO, PUNAVUORI, KALLIO
    on_time = 30 + drive(leave[0], leave[1]) + drive(leave[1], leave[2])  # leaving at 08:30
    tight = post(merchant, order_body(TOOLO, PUNAVUORI, latest=on_time + 2))
    loose = post(merchant, order_body(TOOLO, PUNAVUORI, latest=180, receiver_phone="+3584011"))
    late_trip = new_trip(courier, 1, origin=KAMPPI, destination=KALLIO, arrive=240)
    fine_trip = new_trip(courier, 1, origin=KAMPPI, destination=KALLIO, arrive=240)
    service.clock.advance(26)  # 08:26: the offers live 10 minutes, past the departure
    offered = {}
    for order_id, trip_id in ((tight, late_trip), (loose, fine_trip)):
        made = operator.post("/matching/offers", json={"order_id": order_id, "trip_id": trip_id})
        assert made.status_code == 201, made.text
        offered[order_id] = made.json()["id"]
    service.clock.advance(8)  # 08:34: both trips departed 4 minutes ago
    refused = courier.post(f"/offers/{offered[tight]}/accept")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith(f"offer {offered[tight]} no longer fits: trip")
    assert "planned from now, route: " in refused.json()["detail"], refused.text
    assert refused.json()["status"] == "withdrawn"
    # The offer is taken back (not held against the courier), the order back in the pool at
    # once instead of waiting offered until the offer expires; the trip carries nothing.
    assert merchant.get(f"/orders/{tight}").json()["status"] == "posted"
    mine = courier.get("/offers", params={"status": "withdrawn"}).json()
    assert [o["id"] for o in mine] == [offered[tight]]
    assert courier.get(f"/trips/{late_trip}").json()["status"] == "open"
    taken = courier.post(f"/offers/{offered[loose]}/accept")
    assert taken.status_code == 200, taken.text
    route = checked_route(courier, merchant, fine_trip)
    assert route["order_ids"] == [loose] and route["feasible"]
    invariants_hold(service)
