"""The courier's trips and the refusals around them, in Chromium: the next trips to leave
are on the page however many trips lie behind (GET /trips listed the oldest 100), the
older ones a button away; the register-trip and change-trip forms check their fields
before posting (by the service's clock); "Someone else changed it first" is said of a
lost race only, as a sentence of its own; a wide table on a phone shows that it scrolls
sideways; the register-trip map shows the courier's coming trips whole."""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.web.conftest import (
    DESKTOP,
    PASSWORD,
    PHONE,
    field_error,
    screenshot,
    serving,
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

pytestmark = pytest.mark.browser

# Short trips in the demo's part of Helsinki (a few hundred metres).
START, END = (60.1700, 24.9400), (60.1730, 24.9450)


class ServiceTime:
    """The service's now from its rules, moved on with real time at the clock's speed."""

    def __init__(self, client: httpx.Client) -> None:
        rules = client.get("/service/rules").json()
        self.base = datetime.fromisoformat(rules["now"].replace("Z", "+00:00"))
        self.speed = float(rules["clock_speed"])
        self.real = time.monotonic()

    def now(self) -> datetime:
        return self.base + timedelta(seconds=(time.monotonic() - self.real) * self.speed)


def api_as(url: str, email: str) -> httpx.Client:
    token = httpx.post(f"{url}/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def trip(leave: datetime, arrive: datetime, start=START, end=END) -> dict:
    return {
        "origin_lat": start[0],
        "origin_lon": start[1],
        "destination_lat": end[0],
        "destination_lon": end[1],
        "earliest_departure": leave.isoformat(),
        "latest_arrival": arrive.isoformat(),
    }


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    """A still demo city on a clock a minute per second: trips get behind a courier fast."""
    with serving(tmp_path_factory.mktemp("web-fast"), "--no-live", "--speed", "60") as running:
        yield running


def test_the_next_trips_to_leave_show_with_150_trips_behind_and_a_departed_trip_is_no_race(
    browser, fast
):
    context = browser.new_context(viewport=PHONE, base_url=fast.url, timezone_id="UTC")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_up(page, "courier", "Busy Courier", "busy.courier@example.com", "+358405558001")
        pass_assessment(page)
        api = api_as(fast.url, "busy.courier@example.com")
        clock = ServiceTime(api)
        # 150 trips that each leave two service minutes after they are registered and
        # arrive three after (the drive takes one): all behind the courier within seconds.
        last = clock.now()
        for _ in range(150):
            leave = clock.now() + timedelta(minutes=2)
            answer = api.post("/trips", json=trip(leave, leave + timedelta(minutes=3)))
            assert answer.status_code == 201, answer.text
            last = leave + timedelta(minutes=3)
        # One that has left but not yet arrived: the operator's dispatch board offers it.
        leave = clock.now() + timedelta(minutes=2)
        departed = api.post("/trips", json=trip(leave, leave + timedelta(hours=8))).json()["id"]
        while clock.now() < last + timedelta(minutes=1):
            time.sleep(0.5)
        # The coming trips, registered latest-leaving first.
        soon = clock.now()
        coming = [
            api.post(
                "/trips", json=trip(soon + timedelta(hours=h), soon + timedelta(hours=h + 1))
            ).json()["id"]
            for h in (30, 10, 20)
        ]

        page.reload()  # the trips came by the API, not through this page
        page.get_by_role("button", name="My trips").click()
        page.get_by_role("heading", name="Coming trips, the next to leave first").wait_for()
        titles = lambda: [  # noqa: E731
            int(m[1])
            for t in page.locator("h3").all_inner_texts()
            if (m := re.match(r"Trip (\d+), leaves", t))
        ]
        shown = titles()
        assert shown[:4] == [departed, coming[1], coming[2], coming[0]], shown[:6]
        assert len(shown) == 100  # the first page: the coming ones, then the latest past
        expect_text(page.locator("main"), "Done, cancelled and past")
        # The older ones, a page at a time.
        page.get_by_role("button", name="Show older trips").click()
        page.wait_for_function("() => document.querySelectorAll('h3').length >= 155")
        assert len(titles()) == 154
        expect_text(page.locator("main"), "Trip 1,|Trip \\d+, leaves")
        assert page.get_by_role("button", name="Show older trips").count() == 0
        screenshot(page, "courier-trips-with-150-behind-phone")
        api.close()

        # The operator offers an open order onto the trip that has left: refused by a rule,
        # the trip's state unchanged. No "someone else changed it first".
        desk = browser.new_context(viewport=DESKTOP, base_url=fast.url, timezone_id="UTC")
        desk.set_default_timeout(15_000)
        operator = desk.new_page()
        sign_in(operator, OPERATOR)
        operator.get_by_role("button", name="Dispatch", exact=True).click()
        ticket = operator.locator('[data-order]:has-text("posted")').first
        ticket.wait_for()
        ticket.locator("select").select_option(str(departed))
        ticket.get_by_role("button", name="Offer").click()
        refusal = operator.locator(".form-error")
        expect_text(refusal, rf"trip {departed} departed at \d\d:\d\d")
        assert "Someone else" not in refusal.inner_text()
        screenshot(operator, "dispatch-departed-trip-desktop")
        desk.close()
    finally:
        context.close()


def test_a_grab_that_lost_the_race_says_so_in_a_sentence_of_its_own(pages, server):
    sender = pages(DESKTOP)
    sign_up(sender, "customer", "Race Sender", "race.sender@example.com", "+358405558010")
    start, end = (60.2310, 24.9010), (60.2210, 24.9260)
    post_order(sender, "Race Receiver", "+358405558011", start, (60.2250, 24.9160))
    mine = sender.locator(".card", has_text="Race Receiver").inner_text()
    order_id = int(re.search(r"Order (\d+)", mine)[1])
    courier = pages(PHONE)
    # No live updates on this phone: it goes on showing the order as open.
    courier.route("**/events/stream", lambda route: route.abort())
    sign_up(courier, "courier", "Race Courier", "race.courier@example.com", "+358405558012")
    pass_assessment(courier)
    api = api_as(server.url, "race.courier@example.com")
    now = datetime.now(UTC)
    trips = [
        api.post(
            "/trips", json=trip(now + timedelta(minutes=m), now + timedelta(hours=3), start, end)
        ).json()["id"]
        for m in (20, 25)
    ]
    courier.reload()
    courier.get_by_role("button", name="Open orders").click()
    courier.get_by_label("For trip").select_option(str(trips[0]))
    # Its own order: others that tests on this server posted may fit the trip too.
    card = order_card(courier, order_id)
    card.wait_for()
    # The other session takes it first, onto the other trip.
    taken = api.post(f"/orders/{order_id}/grab", json={"trip_id": trips[1]})
    assert taken.status_code == 200, taken.text
    api.close()
    card.get_by_role("button", name="Grab").click()
    refusal = courier.locator(".form-error")
    expect_text(refusal, r"Someone else changed it first")
    assert re.search(
        rf"^Order {order_id} is accepted, not open\. Someone else changed it first; the list "
        r"has been refreshed\.$",
        refusal.inner_text().strip(),
    ), refusal.inner_text()


def test_the_trip_forms_check_their_fields_before_posting(pages):
    page = pages(PHONE)
    # The browser's clock is three hours behind the service's: "an hour ago" by the service
    # is two hours ahead to the browser.
    page.clock.set_system_time(datetime.now(UTC) - timedelta(hours=3))
    sign_up(page, "courier", "Check Courier", "check.courier@example.com", "+358405558020")
    pass_assessment(page)
    page.get_by_role("button", name="My trips").click()
    sent = []
    page.on(
        "request",
        lambda r: sent.append(r.method) if "/trips" in r.url and r.method != "GET" else None,
    )
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    page.get_by_label("Start latitude").fill("60.17")
    page.get_by_label("Start longitude").fill("")
    page.get_by_label("End latitude").fill("95")
    page.get_by_label("End longitude").fill("east")
    page.get_by_label("Leave at").fill(hour_ago.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Arrive by").fill(
        (hour_ago - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("Parcels you can carry").fill("5")
    page.get_by_role("button", name="Register trip").click()
    field = functools.partial(field_error, page)
    expect_text(field("origin_lon"), r"is required")
    expect_text(field("destination_lat"), r"between -90 and 90")
    expect_text(field("destination_lon"), r"should be a number")
    expect_text(field("earliest_departure"), r"is in the past: it is now")
    expect_text(field("latest_arrival"), r"is in the past")
    expect_text(field("capacity"), r"whole number from 1 to 4")
    assert page.get_by_label("Parcels you can carry").get_attribute("aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.id") == "f-origin_lon"
    screenshot(page, "register-trip-checks-phone")
    # Mended one by one, the messages go; an arrival before the leave time is flagged.
    later = datetime.now(UTC) + timedelta(hours=1)
    page.get_by_label("Start longitude").fill("24.94")
    page.get_by_label("End latitude").fill("60.18")
    page.get_by_label("End longitude").fill("24.95")
    page.get_by_label("Leave at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Arrive by").fill((later - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Parcels you can carry").fill("2")
    page.get_by_role("button", name="Register trip").click()
    expect_text(field("latest_arrival"), r"is not after “Leave at”")
    from playwright.sync_api import expect

    for name in ("origin_lon", "destination_lat", "destination_lon", "earliest_departure"):
        expect(field(name)).to_have_count(0)
    expect(field("capacity")).to_have_count(0)
    assert sent == []
    # Now right: posted, and the trip is listed.
    page.get_by_label("Arrive by").fill((later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Register trip").click()
    expect_text(page.locator("main"), r"Trip \d+ registered")
    trip_id = int(re.search(r"Trip (\d+) registered", page.locator("main").inner_text())[1])
    assert sent == ["POST"]
    # The change-trip form checks the same way: nothing is sent while a check fails.
    card = page.locator(
        ".card", has=page.get_by_role("heading", name=re.compile(rf"^Trip {trip_id}\b"))
    )
    card.get_by_role("button", name="Change").click()
    card.get_by_label(f"Leave at (trip {trip_id})").fill(hour_ago.strftime("%Y-%m-%dT%H:%M"))
    card.get_by_role("button", name="Save trip").click()
    expect_text(card.locator('.field-error[data-field="earliest_departure"]'), r"in the past")
    card.get_by_label(f"Leave at (trip {trip_id})").fill(later.strftime("%Y-%m-%dT%H:%M"))
    card.get_by_label(f"Arrive by (trip {trip_id})").fill(later.strftime("%Y-%m-%dT%H:%M"))
    card.get_by_role("button", name="Save trip").click()
    expect_text(card.locator('.field-error[data-field="latest_arrival"]'), r"is not after")
    assert sent == ["POST"]


def test_a_wide_table_on_a_phone_shows_that_it_scrolls_sideways(pages):
    page = pages(PHONE)
    sign_in(page, OPERATOR)
    page.get_by_role("button", name="Matching", exact=True).click()
    box = page.locator('.table-scroll[aria-label="Matching runs"]')
    box.wait_for()
    frame = page.locator(".table-frame", has=box)
    fade = lambda side: frame.evaluate(  # noqa: E731
        f"e => getComputedStyle(e, '::{side}').opacity"
    )
    hint = page.locator(".scroll-hint")
    expect_text(hint, r"Scroll sideways")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.table-frame'), '::after').opacity === '1'"
    )
    assert fade("before") == "0"  # nothing to the left yet
    screenshot(page, "matching-scroll-hint-phone")
    # Scrolled to its end: the fade moves to the left edge.
    box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.table-frame'), '::before').opacity === '1'"
    )
    # (Both fades change over 0.15 s: the right one may end its fade a frame after the
    # left one's, so it is waited for, not read at once: CI once read 2.6e-08.)
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.table-frame'), '::after').opacity === '0'",
        timeout=5000,
    )
    assert fade("after") == "0"
    # On a desktop the table fits: no hint, no fade.
    wide = pages({"width": 1366, "height": 800})
    sign_in(wide, OPERATOR)
    wide.get_by_role("button", name="Matching", exact=True).click()
    wide.locator('.table-scroll[aria-label="Matching runs"]').wait_for()
    wide.wait_for_timeout(500)
    assert wide.locator(".scroll-hint").count() == 0
    assert wide.locator(".table-frame").first.get_attribute("data-overflows") == "false"


def server_city(page) -> list[tuple[float, float]]:
    """The corners of the offline base map's extent (the city the pages show)."""
    south, west, north, east = page.evaluate(
        "async () => (await (await fetch('/map/base.json')).json()).bbox"
    )
    return [(south, west), (north, east)]


def test_the_register_trip_map_shows_the_city_and_the_coming_trips_whole(pages, server):
    page = pages(PHONE)
    sign_up(page, "courier", "Far Courier", "far.courier@example.com", "+358405558030")
    pass_assessment(page)
    api = api_as(server.url, "far.courier@example.com")
    now = datetime.now(UTC)
    # A trip from the far north-east of the city to the far south-west.
    far = [(60.2400, 25.0400), (60.1500, 24.8800)]
    api.post("/trips", json=trip(now + timedelta(hours=2), now + timedelta(hours=4), *far))
    api.close()
    page.reload()
    page.get_by_role("button", name="My trips").click()
    page.wait_for_timeout(1000)  # the base map loads, then the view is fitted
    view = page.get_by_role("application", name="Pick the trip's start and end")
    south, west, north, east = map(float, view.get_attribute("data-view").split(","))
    city = server_city(page)
    for lat, lon in [*far, *city]:
        assert south <= lat <= north and west <= lon <= east, (lat, lon, south, west, north, east)
    # Fitted, not merely zoomed out: the trip spans a good part of the view (the fit leaves
    # room for labels and the attribution, and zooms in half steps).
    spans = (far[0][0] - far[1][0]) / (north - south), (far[0][1] - far[1][1]) / (east - west)
    assert max(spans) > 0.3, spans
    screenshot(page, "register-trip-map-fitted-phone")
