"""Several parcels per trip through the pages (issue 15): a courier registers a trip that
carries two parcels, grabs two orders onto it, and sees the route's stops in order."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    screenshot,
    sign_in,
    sign_up,
)
from tests.web.test_journeys import OPERATOR, expect_text, pass_assessment

pytestmark = pytest.mark.browser

# A corner of the city far north of the demo and of the other browser tests' parcels.
TRIP = ((60.2960, 24.8800), (60.2860, 24.9000))
PARCELS = [
    ("Receiver North", "+358405550701", (60.2955, 24.8820), (60.2870, 24.8980), "Kuusikkotie 1"),
    ("Receiver South", "+358405550702", (60.2950, 24.8830), (60.2875, 24.8970), "Kuusikkotie 9"),
]


def post_parcel(page, receiver: str, phone: str, pickup, delivery, address: str) -> None:
    page.get_by_role("button", name="New order").click()
    page.get_by_label("Pickup latitude").fill(str(pickup[0]))
    page.get_by_label("Pickup longitude").fill(str(pickup[1]))
    page.get_by_label("Delivery latitude").fill(str(delivery[0]))
    page.get_by_label("Delivery longitude").fill(str(delivery[1]))
    page.get_by_label("Pickup address").fill(address)
    page.get_by_label("Delivery address").fill(f"{address} B")
    page.get_by_label("Receiver's name").fill(receiver)
    page.get_by_label("Receiver's phone").fill(phone)
    expect_text(page.get_by_test_id("quote"), r"€")
    page.get_by_role("button", name="Post order").click()
    page.get_by_role("button", name=re.compile(r"My orders")).wait_for()
    expect_text(page.locator("main"), receiver)


def register_trip(courier, trip, capacity: int) -> int:
    courier.get_by_role("button", name="My trips").click()
    for label, value in [
        ("Start latitude", trip[0][0]),
        ("Start longitude", trip[0][1]),
        ("End latitude", trip[1][0]),
        ("End longitude", trip[1][1]),
    ]:
        courier.get_by_label(label).fill(str(value))
    courier.get_by_label("Parcels you can carry").fill(str(capacity))
    courier.get_by_role("button", name="Register trip").click()
    expect_text(courier.locator("main"), r"Trip \d+ registered")
    return int(re.search(r"Trip (\d+) registered", courier.locator("main").inner_text())[1])


def grab(courier, address: str) -> int:
    """Grab the open order picked up at ``address`` (the "Open orders" tab is shown); its id."""
    card = courier.locator(".card", has_text=f"{address} →")
    card.get_by_role("button", name="Grab").click()
    expect_text(courier.get_by_test_id("notice"), r"Order \d+ is yours")
    notice = courier.get_by_test_id("notice").inner_text()
    return int(re.search(r"Order (\d+) is yours", notice)[1])


def test_a_courier_with_room_for_two_sees_both_parcels_stops_in_order(server, pages):
    sender = pages(DESKTOP)
    sign_up(sender, "customer", "Two Parcels", "two.parcels@example.com", "+358405550700")
    for receiver, phone, pickup, delivery, address in PARCELS:
        post_parcel(sender, receiver, phone, pickup, delivery, address)

    courier = pages(PHONE)
    sign_up(courier, "courier", "Cargo Bike", "cargo.bike@example.com", "+358405550710")
    pass_assessment(courier)
    trip_id = register_trip(courier, TRIP, 2)
    expect_text(courier.locator("main"), "2 parcels")

    # Grab both parcels onto the one trip (it stays in the list while it has room).
    order_ids = []
    courier.get_by_role("button", name="Open orders").click()
    for _, _, _, _, address in PARCELS:
        order_ids.append(grab(courier, address))
        expect_text(courier.get_by_label("For trip"), f"Trip {trip_id}")

    courier.get_by_role("button", name="My trips").click()
    route = courier.get_by_test_id(f"route-{trip_id}")
    expect_text(route, rf"Deliver order {order_ids[1]}")
    expect_text(courier.locator("main"), "Carrying 2 of 2 parcels")
    stops = [item.inner_text() for item in route.locator("li").all()]
    assert len(stops) == 6, stops
    assert stops[0].startswith("Start") and stops[-1].startswith("End"), stops

    def at(text: str) -> int:
        return next(i for i, stop in enumerate(stops) if stop.startswith(text))

    for order_id in order_ids:
        assert at(f"Pick up order {order_id}") < at(f"Deliver order {order_id}"), stops
    assert "(late)" not in " ".join(stops), stops
    screenshot(courier, "courier-route-two-parcels-phone")
    check_accessibility(courier, "courier trip route")
    assert courier.errors == [], courier.errors


# Another corner: west of the two parcels above, so neither test's orders fit the other's trip.
WEST_TRIP = ((60.2960, 24.8400), (60.2860, 24.8600))
WEST_PARCELS = [
    ("Receiver Grabbed", "+358405550721", (60.2955, 24.8420), (60.2870, 24.8580), "Lehtotie 2"),
    ("Receiver Offered", "+358405550722", (60.2950, 24.8430), (60.2875, 24.8570), "Lehtotie 8"),
]


def test_the_operator_offers_a_second_parcel_to_a_trip_that_carries_one(server, pages):
    """The dispatch board lists assigned trips with room beside open ones; dropping an
    order on one offers it, and the courier sees the offer."""
    sender = pages(DESKTOP)
    sign_up(sender, "customer", "West Sender", "west.sender@example.com", "+358405550720")
    for receiver, phone, pickup, delivery, address in WEST_PARCELS:
        post_parcel(sender, receiver, phone, pickup, delivery, address)
    courier = pages(PHONE)
    sign_up(courier, "courier", "West Rider", "west.rider@example.com", "+358405550730")
    pass_assessment(courier)
    trip_id = register_trip(courier, WEST_TRIP, 2)
    courier.get_by_role("button", name="Open orders").click()
    grab(courier, WEST_PARCELS[0][4])

    operator = pages(DESKTOP)
    sign_in(operator, OPERATOR)
    operator.get_by_role("button", name="Dispatch", exact=True).click()
    column = operator.locator(f".column.drop[data-trip='{trip_id}']")
    expect_text(column, "carries orders · capacity 2")
    ticket = operator.locator(".ticket", has_text=f"{WEST_PARCELS[1][4]} →")
    order_id = int(ticket.get_attribute("data-order"))
    ticket.drag_to(column)
    expect_text(
        operator.get_by_test_id("notice"), rf"Order {order_id} is offered to trip {trip_id}"
    )
    screenshot(operator, "console-dispatch-second-parcel-desktop")
    courier.get_by_role("button", name=re.compile(r"^Offers")).click()
    expect_text(courier.locator("main"), rf"Order {order_id}:")
    assert operator.errors == [] and courier.errors == [], (operator.errors, courier.errors)
