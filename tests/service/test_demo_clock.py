"""The demo clock (issue 19.7): service time that runs faster than real time, with every
time rule holding under it: the withdrawal window, offer expiry, which days are over for
settlement, payouts not due yet. Login tokens keep real time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from crowdship.service.clock import DemoClock, SystemClock
from crowdship.service.context import clock_for
from crowdship.service.settings import Settings
from tests.service.conftest import START, Service, order_body, running_service, trip_body

SPEED = 60.0  # one service minute per real second


class RealSeconds:
    """A real-time source the test moves by hand, so the demo clock's scaling is exact."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def pass_(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def seconds() -> RealSeconds:
    return RealSeconds()


@pytest.fixture
def demo(database_url: str, seconds: RealSeconds) -> Iterator[Service]:
    with running_service(database_url, clock=DemoClock(START, SPEED, monotonic=seconds)) as up:
        yield up


def test_the_demo_clock_scales_real_time(seconds: RealSeconds) -> None:
    clock = DemoClock(START, SPEED, monotonic=seconds)
    assert clock.now() == START
    seconds.pass_(90)
    assert clock.now() == START + timedelta(minutes=90)
    assert abs((clock.wall() - datetime.now(UTC)).total_seconds()) < 5
    with pytest.raises(ValueError, match="speed must be > 0"):
        DemoClock(START, 0)


def test_it_really_runs_faster() -> None:
    clock = DemoClock(START, 6000)
    time.sleep(0.2)
    assert clock.now() - START >= timedelta(minutes=19)


def test_settings_choose_the_clock() -> None:
    base = {"secret_key": "x" * 40, "scheduler": False}
    assert isinstance(clock_for(Settings(**base)), SystemClock)
    fast = clock_for(Settings(**base, clock_speed=60, clock_start=START))
    assert isinstance(fast, DemoClock) and fast.speed == 60
    assert abs((fast.now() - START).total_seconds()) < 60


def test_withdrawal_window_and_offers_under_the_demo_clock(
    demo: Service, seconds: RealSeconds
) -> None:
    operator, merchant = demo.party("operator"), demo.party("merchant")
    courier = demo.party("courier")
    order_id = merchant.post("/orders", json=order_body()).json()["id"]
    trip_id = courier.post("/trips", json=trip_body()).json()["id"]
    assert courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id}).status_code == 200
    seconds.pass_(4 * 60 / SPEED)  # 4 service minutes: still inside the window
    assert courier.post(f"/orders/{order_id}/withdraw").status_code == 200
    assert courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id}).status_code == 200
    seconds.pass_(6 * 60 / SPEED)  # 6 service minutes: the window has closed
    late = courier.post(f"/orders/{order_id}/withdraw")
    assert late.status_code == 409 and "withdrawal window" in late.text
    assert courier.post(f"/trips/{trip_id}/cancel").status_code == 409

    # An offer expires after 10 service minutes, that is 10 real seconds here.
    other_order = merchant.post("/orders", json=order_body()).json()["id"]
    other = demo.party("courier")
    other.post("/trips", json=trip_body(depart=60))
    assert operator.post("/matching/run").json()["offers"] == 1
    offer = other.get("/offers").json()[0]
    assert offer["order"]["id"] == other_order
    seconds.pass_(10.5 * 60 / SPEED)
    expired = other.post(f"/offers/{offer['id']}/accept")
    assert expired.status_code == 409 and "expired" in expired.text

    # Two service hours later the login tokens still work: they keep real time.
    seconds.pass_(120 * 60 / SPEED)
    assert merchant.get("/me").status_code == 200


def test_days_end_and_payouts_fall_due_under_the_demo_clock(
    demo: Service, seconds: RealSeconds
) -> None:
    operator = demo.party("operator")
    early = operator.post("/settlement/runs", json={"day": "2026-11-23"})
    assert early.status_code == 409 and "not over yet" in early.text
    until_midnight = datetime(2026, 11, 24, 0, 1, tzinfo=UTC) - START  # the tests run in UTC
    seconds.pass_(until_midnight.total_seconds() / SPEED)
    settled = operator.post("/settlement/runs", json={"day": "2026-11-23"})
    assert settled.status_code == 200, settled.text
    not_due = operator.post("/payouts/runs", json={"day": "2026-11-25"})
    assert not_due.status_code == 409 and not_due.json()["status"] == "not_due"
    seconds.pass_(2 * 24 * 3600 / SPEED)
    due = operator.post("/payouts/runs", json={"day": "2026-11-25"})
    assert due.status_code == 200, due.text
