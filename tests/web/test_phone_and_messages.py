"""What a person meets on a phone and in a refusal: nothing wider than the screen, tap
targets a finger can hit, whole dates and whole names in the fields, the top bar on one
line; the new-order form's own checks beside its fields (by the service's clock), the
service's refusals in words and local time; the courier's trips in the order they leave,
route labels that do not cover each other, and a map whose colours tell the states apart."""

from __future__ import annotations

import functools
import itertools
import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.web.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    field_error,
    screenshot,
    sign_in,
    sign_up,
)
from tests.web.test_journeys import (
    OPERATOR,
    expect_text,
    order_card,
    pass_assessment,
    post_order,
)
from tests.web.test_pages import CONSOLE_TABS

pytestmark = pytest.mark.browser

# Everything a finger or a pointer can hit, as it is on screen; the skip link is off screen
# until it is focused.
TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
  .filter((e) => e.offsetParent !== null && !e.classList.contains('skip'))
  .map((e) => ({name: `${e.tagName} ${(e.innerText || e.getAttribute('aria-label') || e.id)
    .trim().slice(0, 30)}`, rect: e.getBoundingClientRect()}))
  .filter(({rect}) => rect.width > 0 && rect.right > 0)
  .map(({name, rect}) => [name, Math.round(rect.width * 10) / 10,
    Math.round(rect.height * 10) / 10])"""

# Elements reaching past the right edge of the screen, unless a box that fits the screen
# clips them (a wide table's own scrolling box, the map, a name cut with an ellipsis).
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
  .filter((e) => { // not clipped by a box that itself fits (it scrolls or cuts with "…")
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible'
          && a.getBoundingClientRect().right <= innerWidth + 1) return false;
    }
    return true;
  })
  .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
  .slice(0, 5)"""


def no_sideways_scroll(page, name: str) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{name}: the page is {width[0]} px wide on a {width[1]} px screen"
    assert page.evaluate(TOO_WIDE) == [], f"{name}: wider than the screen"


def small_targets(page, least: float = 24) -> list:
    return [t for t in page.evaluate(TARGETS) if t[1] < least or t[2] < least]


def test_no_console_tab_is_wider_than_a_phone(pages):
    page = pages(PHONE)
    sign_in(page, OPERATOR)
    for tab in CONSOLE_TABS:
        page.get_by_role("button", name=tab, exact=True).click()
        page.wait_for_timeout(500)
        no_sideways_scroll(page, f"console {tab}")
        assert small_targets(page) == [], f"console {tab}"
        check_accessibility(page, f"console {tab} on a phone")  # the cards, the boxes
    # The dispatch board's trips are under the orders, whole, not cut off at the right.
    page.get_by_role("button", name="Dispatch", exact=True).click()
    trip = page.locator("[data-trip]").first
    trip.wait_for()
    box = trip.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # The orders are one card per order: each value under its column's name.
    page.get_by_role("button", name="Orders", exact=True).click()
    cell = page.locator('td[data-label="Deliver by"]').first
    expect_text(cell, r"\d\d:\d\d")
    assert cell.bounding_box()["width"] <= PHONE["width"]
    screenshot(page, "phone-console-orders")


@pytest.mark.parametrize("email", ["courier1@demo.crowdship.dev", "shop1@demo.crowdship.dev"])
def test_phone_pages_fit_and_their_targets_are_big_enough(pages, email):
    page = pages(PHONE)
    page.goto("/")
    assert small_targets(page) == [], "sign in"  # "Create an account" was 23 px high
    page.get_by_role("button", name="Create an account").click()
    assert small_targets(page) == [], "create an account"
    sign_in(page, email)
    page.wait_for_timeout(500)
    tabs = page.get_by_role("navigation").get_by_role("button").all()
    for tab in tabs:
        tab.click()
        page.wait_for_timeout(400)
        no_sideways_scroll(page, f"{email} {tab.inner_text()}")
        assert small_targets(page) == [], f"{email} {tab.inner_text()}"


def test_the_top_bar_keeps_a_long_name_on_one_line(pages):
    page = pages(PHONE)
    sign_up(
        page,
        "customer",
        "Maria-Josefina Esperanza Lindqvist-Korhonen",
        "long.name@example.com",
        "+358405557001",
    )
    who = page.locator(".topbar .who")
    line = who.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert who.bounding_box()["height"] < 1.5 * line
    assert page.locator(".topbar").bounding_box()["height"] < 52
    # The name is cut with an ellipsis (the whole of it in the title), clear of the buttons.
    assert "Lindqvist-Korhonen" in who.get_attribute("title")
    name = who.locator(".name")
    assert name.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    assert name.evaluate("e => e.scrollWidth > e.clientWidth")
    shown = name.bounding_box()
    password = page.get_by_role("button", name="Password").bounding_box()
    assert shown["width"] > 40 and shown["x"] + shown["width"] <= password["x"]
    for name in ("Password", "Sign out"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, name
    no_sideways_scroll(page, "sender with a long name")


# The widest a datetime-local shows its value in Chromium (en-US): its text must fit whole,
# with the calendar button; and the pickup points' names in their dropdowns.
FITS = """([selector, sample]) => {
  const canvas = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll(selector)].map((e) => {
    const style = getComputedStyle(e);
    canvas.font = `${style.fontSize} ${style.fontFamily}`;
    const texts = e.tagName === 'SELECT' ? [...e.options].map((o) => o.text) : [sample];
    const need = Math.max(...texts.map((t) => canvas.measureText(t).width))
      + parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) + 28;
    return [e.id, Math.round(need), e.clientWidth];
  }).filter(([, need, has]) => need > has);
}"""


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 800}])
def test_dates_and_pickup_points_show_whole_in_their_fields(pages, viewport):
    page = pages(viewport)
    sign_in(page, "shop1@demo.crowdship.dev")
    page.get_by_role("button", name="New order").click()
    page.get_by_label("Deliver to a pickup point").wait_for()
    cut = page.evaluate(FITS, ['input[type="datetime-local"]', "12/31/2026, 12:00 PM"])
    assert cut == [], f"dates cut off at {viewport['width']} px: {cut}"
    cut = page.evaluate(FITS, ["#f-from_point_id, #f-pickup_point_id", ""])
    assert cut == [], f"pickup points cut off at {viewport['width']} px: {cut}"
    screenshot(page, f"new-order-fields-{viewport['width']}")


def test_the_new_order_form_checks_its_fields_by_the_services_clock(pages, server):
    page = pages(PHONE)
    # The browser's clock is three hours behind the service's (a demo clock runs ahead):
    # a pickup an hour before the service's now is still "in two hours" to the browser.
    page.clock.set_system_time(datetime.now(UTC) - timedelta(hours=3))
    sign_in(page, "customer1@demo.crowdship.dev")
    page.get_by_role("button", name="New order").click()
    posted = []
    page.on(
        "request",
        lambda r: (
            posted.append(r.url) if r.method == "POST" and r.url.endswith("/orders") else None
        ),
    )
    hour_ago = datetime.now(UTC) - timedelta(hours=1)  # the browser runs in UTC
    page.get_by_label("Ready for pickup from").fill(hour_ago.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Pickup latitude").fill("60.17")
    page.get_by_label("Pickup longitude").fill("")
    page.get_by_label("Delivery latitude").fill("95")
    page.get_by_label("Delivery longitude").fill("east")
    page.get_by_role("button", name="Post order").click()
    field = functools.partial(field_error, page)
    expect_text(field("earliest_pickup"), r"is in the past: it is now")
    expect_text(field("pickup_lon"), r"is required")
    expect_text(field("delivery_lat"), r"between -90 and 90")
    expect_text(field("delivery_lon"), r"should be a number")
    expect_text(field("receiver_phone"), r"international format")
    assert page.get_by_label("Ready for pickup from").get_attribute("aria-invalid") == "true"
    # The first field in error has the focus; nothing was posted.
    assert page.evaluate("() => document.activeElement.id") == "f-pickup_lon"
    screenshot(page, "new-order-client-checks-phone")
    # "Ready now" moves both times forward; the fields' messages go as they are mended.
    page.get_by_role("button", name=re.compile("Ready now")).click()
    page.get_by_label("Pickup longitude").fill("24.94")
    page.get_by_label("Delivery latitude").fill("60.18")
    page.get_by_label("Delivery longitude").fill("24.95")
    from playwright.sync_api import expect

    for name in ("earliest_pickup", "pickup_lon", "delivery_lat", "delivery_lon"):
        expect(field(name)).to_have_count(0)
    assert posted == []


def test_the_services_refusals_are_in_words_and_local_time(browser, server):
    helsinki = ZoneInfo("Europe/Helsinki")
    context = browser.new_context(
        viewport=PHONE, base_url=server.url, timezone_id="Europe/Helsinki"
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        # A phone number the service will not take, at sign-up (no check of the page's own).
        page.goto("/")
        page.get_by_role("button", name="Create an account").click()
        page.get_by_label("I want to").select_option("customer")
        page.get_by_label("Name").fill("Words Tester")
        page.get_by_label("Email").fill("words.tester@example.com")
        page.get_by_label("Phone").fill("0401234567")
        page.get_by_label("Password").fill("demo-pass-1")
        page.get_by_role("button", name="Create account").click()
        phone = page.locator('.field-error[data-field="phone"]')
        expect_text(phone, r"international format")
        assert "pattern" not in phone.inner_text() and "^" not in phone.inner_text()

        page.get_by_label("Phone").fill("+358405557002")
        page.get_by_role("button", name="Create account").click()
        page.get_by_role("button", name="Sign out").wait_for()
        page.get_by_role("button", name="New order").click()
        # The live quote for a window that ends before it starts: the service's sentence
        # names the field by its label and gives its times in Helsinki time.
        start = datetime.now(UTC).astimezone(helsinki) + timedelta(hours=2)
        for label, value in [
            ("Pickup latitude", "60.17"),
            ("Pickup longitude", "24.94"),
            ("Delivery latitude", "60.24"),
            ("Delivery longitude", "24.96"),
            ("Ready for pickup from", start.strftime("%Y-%m-%dT%H:%M")),
            ("Deliver by", (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")),
        ]:
            page.get_by_label(label).fill(value)
        quote = page.get_by_test_id("quote")
        expect_text(quote, r"Deliver by: .* is not after “Ready for pickup from”")
        text = quote.inner_text()
        assert f"{start:%H:%M}" in text and "UTC" not in text and "earliest_pickup" not in text
        # A window too short for the drive: refused by the service only, beside its field.
        deliver_by = start + timedelta(minutes=2)
        page.get_by_label("Deliver by").fill(deliver_by.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Pickup address").fill("Mannerheimintie 1")
        page.get_by_label("Delivery address").fill("Käpyläntie 1")
        page.get_by_label("Receiver's name").fill("R")
        page.get_by_label("Receiver's phone").fill("+358405557003")
        page.get_by_role("button", name="Post order").click()
        refusal = page.locator('.field-error[data-field="latest_delivery"]')
        expect_text(refusal, r"cannot be met")
        text = refusal.inner_text()
        assert f"{deliver_by:%H:%M}" in text, text  # Helsinki time, not UTC
        utc = deliver_by.astimezone(UTC)
        assert "UTC" not in text and f"{utc:%H:%M}" not in text, text
        screenshot(page, "refusal-in-words-phone")
    finally:
        context.close()


def test_a_couriers_trips_are_listed_by_departure_and_the_route_labels_do_not_overlap(
    pages,
):
    sender = pages(DESKTOP)
    sign_up(sender, "customer", "Label Sender", "label.sender@example.com", "+358405557010")
    # The parcel is picked up where the courier's trip starts: "start" and "1 pick up" at
    # one point. A corner of the city where no demo order is.
    start, end = (60.2300, 24.9000), (60.2200, 24.9250)
    post_order(sender, "Label Receiver", "+358405557011", start, (60.2240, 24.9150))
    mine = sender.locator(".card", has_text="Label Receiver").inner_text()
    order_id = int(re.search(r"Order (\d+)", mine)[1])

    courier = pages(PHONE)
    sign_up(courier, "courier", "Label Courier", "label.courier@example.com", "+358405557012")
    pass_assessment(courier)
    courier.get_by_role("button", name="My trips").click()
    now = datetime.now(UTC)  # the browser runs in UTC
    ids = []
    # Registered in the order 3 h, 20 min, 2 h from now: listed as 20 min, 2 h, 3 h.
    for later in (timedelta(hours=3), timedelta(minutes=20), timedelta(hours=2)):
        for label, value in [
            ("Start latitude", start[0]),
            ("Start longitude", start[1]),
            ("End latitude", end[0]),
            ("End longitude", end[1]),
            ("Leave at", (now + later).strftime("%Y-%m-%dT%H:%M")),
            ("Arrive by", (now + later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")),
        ]:
            courier.get_by_label(label).fill(str(value))
        courier.get_by_role("button", name="Register trip").click()
        # The card of the new trip is listed (one card more), then its notice is read.
        courier.wait_for_function(
            "n => document.querySelectorAll('h3').length >= n", arg=len(ids) + 2
        )
        expect_text(courier.locator("main"), r"Trip \d+ registered")
        ids.append(
            int(re.search(r"Trip (\d+) registered", courier.locator("main").inner_text())[1])
        )
    titles = lambda: [  # noqa: E731
        int(m[1])
        for t in courier.locator("h3").all_inner_texts()
        if (m := re.match(r"Trip (\d+), leaves", t))
    ]
    assert titles() == [ids[1], ids[2], ids[0]]
    # A cancelled trip goes under "Done, cancelled and past".
    card = courier.locator(
        ".card", has=courier.get_by_role("heading", name=re.compile(rf"^Trip {ids[2]}\b"))
    )
    card.get_by_role("button", name="Cancel trip").click()
    expect_text(card, "cancelled")
    assert titles() == [ids[1], ids[0], ids[2]]
    expect_text(courier.locator("main"), "Done, cancelled and past")
    screenshot(courier, "courier-trips-in-order-phone")

    # Grab the parcel on the trip that leaves first.
    courier.get_by_role("button", name="Open orders").click()
    courier.get_by_label("For trip").select_option(str(ids[1]))
    # Its own order: others that tests on this server posted may fit the trip too.
    order_card(courier, order_id).get_by_role("button", name="Grab").click()
    expect_text(courier.get_by_test_id("notice"), rf"Order {order_id} is yours")
    dismiss = courier.get_by_role("button", name="Dismiss").bounding_box()
    assert dismiss["width"] >= 24 and dismiss["height"] >= 24
    courier.get_by_role("button", name="On board").click()
    labels = courier.locator(".leaflet-tooltip")
    expect_text(labels.first, r".")
    courier.wait_for_timeout(500)  # the map fits the route, then labels again
    # Boxes and texts read at one moment (the labels are laid out again as the map moves:
    # read one by one, one may be gone between the count and its box). A label laid out
    # again leaves its old one fading out for 200 ms (Leaflet's fade: opacity 0, then
    # removed), unseen: only the labels one can see count (CI once read both).
    shown = labels.evaluate_all(
        "els => els.filter(e => parseFloat(getComputedStyle(e).opacity) > 0)"
        ".map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom, e.innerText]; })"
    )
    boxes = [tuple(item[:4]) for item in shown]
    texts = [item[4] for item in shown]
    for (a, ta), (b, tb) in itertools.combinations(zip(boxes, texts, strict=True), 2):
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, f"the labels {ta!r} and {tb!r} overlap"
    assert "start · 1 pick up" in texts, texts
    screenshot(courier, "courier-route-labels-phone")


def _lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c / 255) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def test_the_maps_colours_tell_every_state_apart_and_the_legend_names_them(pages):
    page = pages(DESKTOP)
    sign_in(page, OPERATOR)
    legend = page.get_by_test_id("legend")
    expect_text(legend, "offered")
    items = legend.locator("li")
    colours = {}
    for i in range(items.count()):
        item = items.nth(i)
        colour = item.locator(".swatch").evaluate("e => getComputedStyle(e).borderTopColor")
        rgb = tuple(int(v) for v in re.findall(r"\d+", colour)[:3])
        colours[f"{item.get_attribute('data-kind')} {item.get_attribute('data-state')}"] = rgb
    assert {"order posted", "order offered", "order accepted", "order picked_up"} <= set(colours)
    assert {"trip open", "trip assigned"} <= set(colours)
    # Every pair far apart (CIE76 ΔE; "posted" and "offered" were 19 apart, alike on a map).
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert math.dist(_lab(ca), _lab(cb)) > 25, f"{a} and {b} look alike: {ca} {cb}"
    # Every state on the map has its entry in the legend.
    states = page.evaluate(
        "async () => { const m = await (await fetch('/console/map?limit=20000')).json();"
        " return [...new Set(m.orders.status.map((s) => 'order ' + s)"
        ".concat(m.trips.status.map((s) => 'trip ' + s)))]; }"
    )
    assert set(states) <= set(colours), set(states) - set(colours)
