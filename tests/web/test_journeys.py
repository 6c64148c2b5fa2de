"""Whole jobs done through the pages only, in Chromium, against a real service process."""

from __future__ import annotations

import re

import pytest

from tests.service.test_delivery_photo import png
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    right_answers,
    screenshot,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.browser

OPERATOR = "operator@demo.crowdship.dev"
# A corner of the city north of the demo's orders and trips, so this test's trip is the
# only one that can carry this test's parcels, whatever the demo holds.
TRIP = ((60.2520, 24.9400), (60.2420, 24.9600))
PARCELS = {
    "+358405550001": ((60.2510, 24.9420), (60.2440, 24.9580)),
    "+358405550002": ((60.2512, 24.9425), (60.2445, 24.9575)),
}


def expect_text(locator, pattern: str, timeout: float = 15_000) -> None:
    from playwright.sync_api import expect

    expect(locator).to_contain_text(re.compile(pattern), timeout=timeout)


def post_order(page, receiver: str, phone: str, pickup, delivery) -> None:
    page.get_by_role("button", name="New order").click()
    page.get_by_label("Pickup latitude").fill(str(pickup[0]))
    page.get_by_label("Pickup longitude").fill(str(pickup[1]))
    page.get_by_label("Delivery latitude").fill(str(delivery[0]))
    page.get_by_label("Delivery longitude").fill(str(delivery[1]))
    page.get_by_label("Pickup address").fill("Maunulantie 1, Helsinki")
    page.get_by_label("Delivery address").fill("Oulunkyläntie 5, Helsinki")
    page.get_by_label("Receiver's name").fill(receiver)
    page.get_by_label("Receiver's phone").fill(phone)
    expect_text(page.get_by_test_id("quote"), r"€")  # the live quote before confirming
    page.get_by_role("button", name="Post order").click()
    page.get_by_role("button", name=re.compile(r"My orders")).wait_for()
    expect_text(page.locator("main"), receiver)


def pass_assessment(page) -> None:
    answers = right_answers()
    # The paper loads after sign-in; ``all()`` does not wait, so wait for the whole paper.
    submit = page.get_by_role("button", name="Submit answers")
    submit.wait_for()
    groups = page.locator("fieldset").all()
    assert groups, "the assessment shows no question"
    for group in groups:
        question = group.locator("legend").inner_text()
        group.get_by_label(answers[question], exact=True).check()
    submit.click()
    page.get_by_role("heading", name="Courier").wait_for(timeout=10_000)


def order_card(page, order_id: int):
    heading = page.get_by_role("heading", name=re.compile(rf"^Order {order_id}\b"))
    return page.locator(".card", has=heading)


def test_a_courier_and_a_sender_do_an_order_from_posting_to_delivery(server, pages, tmp_path):
    from playwright.sync_api import expect

    sender = pages(DESKTOP)
    sign_up(sender, "customer", "Test Sender", "sender.journey@example.com", "+358405550100")
    for n, (phone, (pickup, delivery)) in enumerate(PARCELS.items(), start=1):
        post_order(sender, f"Receiver {n}", phone, pickup, delivery)
    # A posted order can be cancelled, not reported (the service takes a report only while
    # a courier carries it or after delivery: the form would only meet a refusal).
    first = sender.locator(".card").first
    first.get_by_role("button", name="Details").click()
    first.get_by_role("button", name="Cancel order").wait_for()
    expect(first.get_by_role("form", name="Report a problem")).to_have_count(0)
    first.get_by_role("button", name="Hide").click()

    courier = pages(PHONE)
    sign_up(courier, "courier", "Test Courier", "courier.journey@example.com", "+358405550200")
    expect_text(courier.locator("main"), "Before your first parcel")
    screenshot(courier, "courier-assessment-phone")
    check_accessibility(courier, "courier assessment")
    pass_assessment(courier)

    # A trip, typed in; and the map click sets the first point (checked on its field).
    courier.get_by_role("button", name="My trips").click()
    courier.get_by_test_id("map").click(position={"x": 150, "y": 120})
    assert courier.get_by_label("Start latitude").input_value() != ""
    for label, value in [
        ("Start latitude", TRIP[0][0]),
        ("Start longitude", TRIP[0][1]),
        ("End latitude", TRIP[1][0]),
        ("End longitude", TRIP[1][1]),
    ]:
        courier.get_by_label(label).fill(str(value))
    courier.get_by_role("button", name="Register trip").click()
    expect_text(courier.locator("main"), r"Trip \d+ registered")
    screenshot(courier, "courier-trips-phone")

    # The operator runs a matching batch; the offer reaches the courier's open page live.
    operator = pages(DESKTOP)
    sign_in(operator, OPERATOR)
    operator.get_by_role("button", name="Matching").click()
    operator.get_by_role("button", name="Run matching now").click()
    courier.get_by_role("button", name=re.compile(r"^Offers")).click()
    accept = courier.get_by_role("button", name="Accept")
    accept.first.wait_for(timeout=30_000)  # a matching run, then the live event
    expect_text(courier.locator("main"), r"expires in \d+:\d\d")
    screenshot(courier, "courier-offers-phone")
    check_accessibility(courier, "courier offers")
    accept.first.click()
    expect_text(courier.get_by_test_id("notice"), r"Accepted order \d+")

    # Withdraw within the window: the countdown is shown on the button.
    courier.get_by_role("button", name="On board").click()
    withdraw = courier.get_by_role("button", name=re.compile(r"Withdraw"))
    expect_text(withdraw, r"\d+:\d\d")
    withdraw.click()
    expect_text(courier.get_by_test_id("notice"), r"back in the pool")

    # Grab an open order that fits the trip.
    courier.get_by_role("button", name="Open orders").click()
    grab = courier.get_by_role("button", name="Grab")
    grab.first.wait_for()
    screenshot(courier, "courier-open-orders-phone")
    grab.first.click()
    expect_text(courier.get_by_test_id("notice"), r"Order \d+ is yours")
    notice = courier.get_by_test_id("notice").inner_text()
    order_id = int(re.search(r"Order (\d+) is yours", notice)[1])
    courier.get_by_role("button", name="On board").click()
    code = courier.get_by_test_id("pickup-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    screenshot(courier, "courier-on-board-phone")
    check_accessibility(courier, "courier on board")

    # The courier writes to the sender through the order's thread (no numbers shown).
    courier.get_by_text("Messages and calls").click()
    courier.get_by_role("textbox", name="Message").fill("On my way, five minutes")
    courier.get_by_role("button", name="Send").click()
    expect_text(courier.locator(".messages"), "On my way")

    # The sender confirms the pickup with the courier's code; the state changes on its own.
    card = order_card(sender, order_id)
    expect_text(card, "accepted")
    card.get_by_role("button", name="Details").click()
    expect_text(card.locator(".messages"), "courier: On my way, five minutes")
    expect(card.get_by_role("form", name="Report a problem")).to_have_count(1)
    card.get_by_label("Courier's pickup code").fill(code)
    card.get_by_role("button", name="Confirm pickup").click()
    expect_text(card, "picked up")

    # The receiver's code comes by SMS; the courier types it in.
    sms = next(
        text
        for phone in PARCELS
        for text in server.sms_to(phone)
        if f"(order {order_id}) has been picked up" in text
    )
    delivery_code = re.search(r"(\d{6})$", sms)[1]

    # The receiver's tracking link (from the texts) shows the code to give at the door, and
    # follows the delivery live.
    receiver_phone = next(
        p for p in PARCELS if any(f"(order {order_id})" in t for t in server.sms_to(p))
    )
    links = [re.search(r"(https?://\S+/track/\S+)", t) for t in server.sms_to(receiver_phone)]
    link = next(m[1] for m in links if m)
    receiver = pages(PHONE)
    receiver.goto(link)
    expect_text(receiver.get_by_test_id("door-code"), delivery_code)
    assert "Test Sender" not in receiver.locator("body").inner_text()
    screenshot(receiver, "receiver-tracking-phone")
    check_accessibility(receiver, "receiver tracking")
    expect_text(courier.locator("main"), "Receiver's code")
    wrong = "000000" if delivery_code != "000000" else "111111"
    courier.get_by_label("Receiver's code").fill(wrong)
    courier.get_by_role("button", name="Deliver", exact=True).click()
    # A wrong code is refused in words, next to the field.
    expect_text(courier.locator('.field-error[data-field="code"]'), r"wrong|attempt")
    courier.get_by_label("Receiver's code").fill(delivery_code)
    photo = tmp_path / "parcel.png"
    photo.write_bytes(png(640, 480))
    courier.get_by_label("Photo of the delivered parcel (optional)").set_input_files(photo)
    expect_text(courier.locator("main"), r"Photo ready \(\d+ kB\)")
    courier.get_by_role("button", name="Deliver", exact=True).click()
    expect_text(courier.get_by_test_id("notice"), rf"Order {order_id} delivered")

    # The sender's open page shows the delivery without a reload, and the photo.
    expect_text(order_card(sender, order_id), "delivered", timeout=5_000)
    proof = order_card(sender, order_id).get_by_role("img", name=re.compile("Proof of delivery"))
    proof.wait_for()
    # The photo loads (a picture, not a broken image): waited for, as a loaded machine may
    # show the element before its bytes arrive (naturalWidth 0 until then).
    sender.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=proof.element_handle(), timeout=10_000
    )
    screenshot(sender, "sender-orders-desktop")
    check_accessibility(sender, "sender orders")

    # The receiver's page changed on its own; the code is gone with the hand-over.
    expect_text(receiver.locator("main"), "delivered")
    assert receiver.get_by_test_id("door-code").count() == 0
    for page in (sender, courier, operator, receiver):
        assert page.errors == [], page.errors


def test_a_grab_made_offline_is_kept_and_sent_once_when_the_connection_returns(server, pages):
    sender = pages(DESKTOP)
    sign_up(sender, "customer", "Offline Sender", "sender.offline@example.com", "+358405550500")
    post_order(sender, "Offline Receiver", "+358405550501", (60.2710, 24.9200), (60.2660, 24.9350))
    courier = pages(PHONE)
    sign_up(courier, "courier", "Offline Rider", "rider.offline@example.com", "+358405550502")
    pass_assessment(courier)
    courier.get_by_role("button", name="My trips").click()
    for label, value in [
        ("Start latitude", "60.2720"),
        ("Start longitude", "24.9180"),
        ("End latitude", "60.2650"),
        ("End longitude", "24.9370"),
    ]:
        courier.get_by_label(label).fill(value)
    courier.get_by_role("button", name="Register trip").click()
    expect_text(courier.locator("main"), r"Trip \d+ registered")
    courier.get_by_role("button", name="Open orders").click()
    card = courier.locator(".card", has=courier.get_by_role("button", name="Grab")).first
    order_id = int(re.search(r"Order (\d+)", card.inner_text())[1])

    courier.context.set_offline(True)  # the phone loses its connection
    card.get_by_role("button", name="Grab").click()
    expect_text(courier.get_by_test_id("notice"), "No connection")
    expect_text(courier.locator(".banner", has_text="Offline"), r"1 action saved")
    screenshot(courier, "courier-offline-phone")
    mine = order_card(sender, order_id)
    expect_text(mine, "posted")  # nothing reached the service

    courier.context.set_offline(False)  # back: the kept grab is sent, with its key
    expect_text(courier.get_by_test_id("notice"), r"Back online: sent 1 saved action")
    expect_text(mine, "accepted", timeout=5_000)
    mine.get_by_role("button", name="Details").click()
    timeline = mine.locator(".timeline").inner_text()
    assert timeline.count("grab") == 1, timeline
