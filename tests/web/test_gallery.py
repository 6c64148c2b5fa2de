"""Every page of every role, at desktop (1280 px) and phone (375 px) width: a screenshot
of each (tests/web/screenshots/), axe-core on each, and nothing wider than the screen on
the phone (no sideways scrolling)."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import DESKTOP, PHONE, check_accessibility, screenshot, sign_in

pytestmark = pytest.mark.browser

PAGES = {
    "operator@demo.crowdship.dev": ("console", []),  # its tabs: test_pages
    "courier1@demo.crowdship.dev": (
        "courier",
        ["Offers", "My trips", "Open orders", "On board", "Wallet"],
    ),
    "courier25@demo.crowdship.dev": ("courier-assessment", []),
    "shop1@demo.crowdship.dev": ("sender", ["My orders", "New order"]),
    "staff1@demo.crowdship.dev": ("staff", []),
}


def no_sideways_scroll(page, name: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{name}: {width} px wide on a phone"


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
@pytest.mark.parametrize("email", list(PAGES))
def test_every_page_at_both_widths(pages, email, width, viewport):
    name, tabs = PAGES[email]
    page = pages(viewport)
    sign_in(page, email)
    page.wait_for_timeout(800)  # first loads
    shots = [(name, None)] + [(f"{name}-{t.lower().replace(' ', '-')}", t) for t in tabs]
    for shot, tab in shots:
        if tab is not None:
            page.get_by_role("button", name=re.compile(rf"^{tab}")).first.click()
            page.wait_for_timeout(400)
        screenshot(page, f"gallery-{shot}-{width}")
        check_accessibility(page, f"{shot} at {width}")
        if width == "phone":
            no_sideways_scroll(page, shot)
    assert page.errors == []


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_tracking_page_and_sign_in_at_both_widths(server, pages, width, viewport):
    page = pages(viewport)
    page.goto("/")
    screenshot(page, f"gallery-sign-in-{width}")
    check_accessibility(page, f"sign in at {width}")
    link = server.wait_for_sms("+358402000001", "/track/")
    page.goto(re.search(r"(https?://\S+/track/\S+)", link)[1])
    page.get_by_role("heading", name="Your parcel").wait_for()
    screenshot(page, f"gallery-tracking-{width}")
    check_accessibility(page, f"tracking at {width}")
    if width == "phone":
        no_sideways_scroll(page, "tracking")
