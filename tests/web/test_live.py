"""The pages are live: a change reaches an open page by the service's event stream, and an
idle page sends nothing. The living demo moves while the operator watches."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.web.conftest import DESKTOP, screenshot, serving, sign_in
from tests.web.test_journeys import OPERATOR

pytestmark = pytest.mark.browser


def kpi(page, label: str) -> int:
    text = page.get_by_test_id("kpis").inner_text()
    return int(re.search(rf"{label}\s*(\d+)", text)[1])


def test_an_idle_page_does_not_poll(pages):
    page = pages(DESKTOP)
    sign_in(page, OPERATOR)
    page.get_by_test_id("kpis").wait_for()
    page.wait_for_timeout(1500)  # let the first loads finish
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.wait_for_timeout(5000)
    assert sent == [], f"an idle console sent {sent}"


def test_the_living_demo_moves_while_the_operator_watches(browser, tmp_path):
    # The demo clock starts in the morning: started from now, the minute it runs (two
    # service hours) would cross midnight in a late-evening run and "today" would start over.
    morning = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    with serving(tmp_path, "--speed", "120", CROWDSHIP_CLOCK_START=morning.isoformat()) as live:
        context = browser.new_context(viewport=DESKTOP, base_url=live.url)
        page = context.new_page()
        sign_in(page, OPERATOR)
        page.get_by_test_id("kpis").wait_for()
        start = {label: kpi(page, label) for label in ("Orders today", "Delivered")}
        loads: list[str] = []
        page.on("framenavigated", lambda frame: loads.append(frame.url))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            page.wait_for_timeout(1000)
            if kpi(page, "Orders today") > start["Orders today"] and kpi(page, "Delivered") > 0:
                break
        assert kpi(page, "Orders today") > start["Orders today"], "no parcel was posted"
        assert kpi(page, "Delivered") > start["Delivered"], "no parcel was delivered"
        assert loads == [], "the page reloaded"
        screenshot(page, "console-living-demo-desktop")
        context.close()


def test_the_sender_form_starts_from_the_service_clock(browser, tmp_path):
    """A demo clock may run ahead of the browser's (the living demo's does, 60x): the new
    order's default times come from the service's now, not the browser's (they were in the
    service's past, and posting with them was refused)."""
    ahead = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    with serving(tmp_path, "--no-live", CROWDSHIP_CLOCK_START=ahead.isoformat()) as still:
        context = browser.new_context(viewport=DESKTOP, base_url=still.url)
        page = context.new_page()
        sign_in(page, "shop1@demo.crowdship.dev")
        page.get_by_role("button", name="New order").click()
        shown = page.get_by_label("Ready for pickup from").input_value()
        context.close()
    # The browser runs in UTC; the field is local time to the minute.
    default = datetime.fromisoformat(shown).replace(tzinfo=UTC)
    assert ahead + timedelta(minutes=9) <= default <= ahead + timedelta(minutes=15), shown
