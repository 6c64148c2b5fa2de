"""A simulated day: the clock, the pool, rejections and the offline bound."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdship.core.feasibility import FeasiblePairs, all_pairs
from crowdship.core.matcher import match
from crowdship.core.model import FloatArray, Requests, Trips
from crowdship.core.response import AlwaysAccept, LogitResponse, PaperResponse
from crowdship.sim.day import (
    Anticipation,
    Instant,
    JustInTime,
    Offline,
    Operations,
    RollingHorizon,
    simulate_day,
    strategy_named,
)
from crowdship.sim.scenarios import ScenarioParams, generate
from tests.conftest import make_requests, make_trips


@dataclass
class Recording:
    """A courier response that remembers every offer and answers with a fixed probability."""

    accept: float = 1.0
    offers: list[tuple[str, str]] = field(default_factory=list)
    name: str = "recording"

    def accept_probability(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs
    ) -> FloatArray:
        self.offers += list(
            zip(trips.ids[pairs.trip].tolist(), requests.ids[pairs.request].tolist(), strict=True)
        )
        return np.full(len(pairs), self.accept)


def _line_day(trip_departure: float, announced: float) -> tuple[Trips, Requests]:
    """One trip along a line at 60 km/h and one request on its way: feasible with detour 0."""
    trips = make_trips([("t", (0, 0), (10, 0), trip_departure, trip_departure + 40)])
    requests = make_requests([("r", (2, 0), (8, 0), announced, 1140)], announced_at=[announced])
    return trips, requests


def test_a_trip_that_has_departed_takes_no_part(minute_per_km) -> None:
    # Request known at 08:45; the trip leaves at 08:30: gone before anyone knew.
    trips, requests = _line_day(510, 525)
    for strategy in (RollingHorizon(60), Instant()):
        result = simulate_day(trips, requests, minute_per_km, strategy, response=AlwaysAccept())
        assert result.matched == 0
    # Offline knows everything in advance and matches it.
    assert simulate_day(trips, requests, minute_per_km, Offline()).matched == 1


def test_instant_matches_in_the_minute_of_the_announcement(minute_per_km) -> None:
    trips, requests = _line_day(550, 525.5)  # announced 08:45:30, trip leaves 09:10
    result = simulate_day(trips, requests, minute_per_km, Instant(), response=AlwaysAccept())
    assert [a.clock for a in result.assignments] == [526.0]
    assert result.assignments[0].wait_min == pytest.approx(0.5)
    # A 60-minute horizon only looks at 08:00 and 09:00, by then the trip is still there.
    rolling = simulate_day(trips, requests, minute_per_km, RollingHorizon(60))
    assert [a.clock for a in rolling.assignments] == [540.0]
    assert [b.clock for b in rolling.batches] == [540.0]  # 08:00 had nobody to match


def test_rolling_clock_runs_over_the_operating_hours(minute_per_km) -> None:
    params = ScenarioParams(trips=100, requests=40)
    trips, requests = generate(params, 5)
    result = simulate_day(
        trips, requests, params.travel, RollingHorizon(90), operations=Operations(480, 900)
    )
    clocks = sorted({b.clock for b in result.batches})
    assert set(clocks) <= {480.0 + 90 * k for k in range(5)}  # 08:00 ... 14:00, never after


def test_a_rejected_pair_is_never_offered_again_and_instant_rematches_at_once() -> None:
    params = ScenarioParams(trips=150, requests=60)
    trips, requests = generate(params, 4)
    never = Recording(accept=0.0)
    result = simulate_day(
        trips, requests, params.travel, Instant(), response=never, rejection="exclude"
    )
    assert result.matched == 0
    assert len(never.offers) == len(set(never.offers)) == result.rejections > 0
    # After rejections the instant strategy matches again in the same minute.
    rounds = [b for b in result.batches if b.round > 0]
    assert rounds and all(
        any(first.clock == b.clock and first.round == 0 for first in result.batches) for b in rounds
    )
    # Rolling horizon waits for the next batch instead, but never repeats an offer either.
    never_rolling = Recording(accept=0.0)
    rolling = simulate_day(
        trips,
        requests,
        params.travel,
        RollingHorizon(30),
        response=never_rolling,
        rejection="exclude",
    )
    assert len(never_rolling.offers) == len(set(never_rolling.offers)) == rolling.rejections
    assert all(b.round == 0 for b in rolling.batches)


def test_by_default_a_rejected_pair_is_considered_again_at_the_next_calculation() -> None:
    # The paper: "the corresponding driver and request will be considered again in the next
    # match calculation". Not in the same minute's re-matching, but at the next moment.
    params = ScenarioParams(trips=40, requests=15)
    trips, requests = generate(params, 4)
    never = Recording(accept=0.0)
    instant = simulate_day(trips, requests, params.travel, Instant(), response=never)
    by_minute: dict[float, list[tuple[str, str]]] = {}
    offers = iter(never.offers)
    for batch in instant.batches:
        by_minute.setdefault(batch.clock, []).extend(next(offers) for _ in range(batch.proposed))
    assert all(len(o) == len(set(o)) for o in by_minute.values())  # never twice in a minute
    assert len(never.offers) > len(set(never.offers))  # but again at a later minute
    never_rolling = Recording(accept=0.0)
    simulate_day(trips, requests, params.travel, RollingHorizon(30), response=never_rolling)
    assert len(never_rolling.offers) > len(set(never_rolling.offers))
    with pytest.raises(ValueError, match="rejection must be one of"):
        simulate_day(trips, requests, params.travel, Instant(), rejection="never")  # type: ignore[arg-type]


def _two_trip_day() -> tuple[Trips, Requests]:
    """t1 serves r1 (detour 0) and r2 (the only trip that can); t2 serves r1 only (detour
    0.47). r1 is announced at 08:20, r2 at 09:10; both trips leave at 10:00."""
    trips = make_trips([("t1", (0, 0), (10, 0), 600, 640), ("t2", (0, 1), (10, 1), 600, 611.05)])
    requests = make_requests(
        [("r1", (2, 0), (8, 0), 600, 1140), ("r2", (5, 6), (6, 6), 600, 1140)],
        announced_at=[500, 550],
    )
    return trips, requests


def _pairs(result) -> set[tuple[str, str]]:
    return {(a.trip_id, a.request_id) for a in result.assignments}


def test_just_in_time_commits_late_and_keeps_the_trip_a_later_request_needs(
    minute_per_km,
) -> None:
    trips, requests = _two_trip_day()
    always = AlwaysAccept()
    instant = simulate_day(trips, requests, minute_per_km, Instant(), response=always)
    assert _pairs(instant) == {("t1", "r1")}  # t1 spent on r1 before r2 was known
    jit = simulate_day(trips, requests, minute_per_km, JustInTime(15), response=always)
    assert _pairs(jit) == {("t2", "r1"), ("t1", "r2")}
    assert {a.clock for a in jit.assignments} == {585.0}  # departure 10:00 minus 15 minutes
    # Planned at each announcement (nothing offered), offered at 09:45 from the standing plan.
    assert [(b.clock, b.solved, b.proposed) for b in jit.batches] == [
        (500.0, True, 0),
        (550.0, True, 0),
        (585.0, False, 2),
    ]
    assert jit.metrics()["batches"] == 2
    assert sorted(a.wait_min for a in jit.assignments) == [35.0, 85.0]
    # Promising an answer within 30 minutes commits r1 at 08:50, before r2 is known.
    promised = simulate_day(
        trips, requests, minute_per_km, JustInTime(15, max_wait_min=30), response=always
    )
    assert _pairs(promised) == {("t1", "r1")}
    assert [a.clock for a in promised.assignments] == [530.0]
    assert jit.matched == simulate_day(trips, requests, minute_per_km, Offline()).matched


def test_a_trip_takes_part_from_its_announcement(minute_per_km) -> None:
    trips, requests = _two_trip_day()
    # t1 becomes known at 09:20: r1 (08:20) gets t2, and r2 gets t1 in t1's own minute.
    day = simulate_day(
        trips,
        requests,
        minute_per_km,
        Instant(),
        response=AlwaysAccept(),
        trip_announced_at=np.array([560.0, -np.inf]),
    )
    assert {(a.trip_id, a.request_id, a.clock) for a in day.assignments} == {
        ("t2", "r1", 500.0),
        ("t1", "r2", 560.0),
    }


def test_anticipation_keeps_the_trip_that_sampled_later_requests_need(minute_per_km) -> None:
    trips, requests = _two_trip_day()
    # The sample: a request like r2 (not r2 itself), announced at 09:10 too.
    future = make_requests([("p", (5, 6.2), (6, 6.2), 600, 1140)], announced_at=[550])
    rolling = RollingHorizon(60)  # 08:00, 09:00 (r1 only), 10:00 (r2 too)
    plain = simulate_day(trips, requests, minute_per_km, rolling, response=AlwaysAccept())
    assert _pairs(plain) == {("t1", "r1")}
    ahead = simulate_day(
        trips,
        requests,
        minute_per_km,
        rolling,
        response=AlwaysAccept(),
        anticipation=Anticipation(future),
    )
    assert _pairs(ahead) == {("t2", "r1"), ("t1", "r2")}
    assert ahead.policy == "anticipatory"


def _check_assignments(trips: Trips, requests: Requests, travel, result) -> None:
    trip_at = {tid: i for i, tid in enumerate(trips.ids)}
    request_at = {rid: j for j, rid in enumerate(requests.ids)}
    used_trips = [a.trip_id for a in result.assignments]
    used_requests = [a.request_id for a in result.assignments]
    assert len(set(used_trips)) == len(used_trips)
    assert len(set(used_requests)) == len(used_requests)
    reference = all_pairs(trips, requests, travel)
    detour = {
        (int(t), int(r)): d
        for t, r, d in zip(reference.trip, reference.request, reference.detour, strict=True)
    }
    for a in result.assignments:
        i, j = trip_at[a.trip_id], request_at[a.request_id]
        assert (i, j) in detour  # feasible by the exact all-pairs check
        assert a.detour_min == pytest.approx(detour[(i, j)])
        if result.strategy != "offline":
            assert trips.earliest_departure[i] >= a.clock  # not yet departed
            assert requests.announced_at[j] <= a.clock  # already announced


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    interval=st.sampled_from([10.0, 25.0, 40.0, 90.0]),
    n_trips=st.integers(5, 60),
    n_requests=st.integers(1, 40),
)
def test_online_days_are_feasible_matchings_never_above_the_offline_bound(
    seed: int, interval: float, n_trips: int, n_requests: int
) -> None:
    params = ScenarioParams(trips=n_trips, requests=n_requests, city_km=15)
    trips, requests = generate(params, seed)
    bound = simulate_day(trips, requests, params.travel, Offline())
    assert bound.matched == match(trips, requests, params.travel).matched
    _check_assignments(trips, requests, params.travel, bound)
    for strategy in (RollingHorizon(interval), Instant(), JustInTime(interval / 2, 60.0)):
        for response in (AlwaysAccept(), PaperResponse(), LogitResponse(intercept=1.0)):
            day = simulate_day(
                trips, requests, params.travel, strategy, response=response, seed=seed
            )
            _check_assignments(trips, requests, params.travel, day)
            assert day.matched <= bound.matched
            if isinstance(response, AlwaysAccept):
                assert day.rejections == 0


def test_the_same_seed_gives_the_same_day_and_responses_matter() -> None:
    params = ScenarioParams(trips=300, requests=120)
    trips, requests = generate(params, 9)
    logit = LogitResponse(intercept=0.5, slope=0.3)  # rejects often
    first = simulate_day(trips, requests, params.travel, Instant(), response=logit, seed=3)
    again = simulate_day(trips, requests, params.travel, Instant(), response=logit, seed=3)
    assert first.assignments == again.assignments and first.rejections == again.rejections > 0
    other = simulate_day(trips, requests, params.travel, Instant(), response=logit, seed=4)
    assert other.assignments != first.assignments


def test_metrics_add_up() -> None:
    params = ScenarioParams(trips=200, requests=80)
    trips, requests = generate(params, 2)
    day = simulate_day(trips, requests, params.travel, RollingHorizon(40), seed=1)
    metrics = day.metrics()
    assert metrics["matched"] == len(day.assignments)
    assert metrics["match_rate"] == pytest.approx(day.matched / 80)
    assert metrics["rejections"] == sum(b.rejected for b in day.batches)
    assert day.matched == sum(b.accepted for b in day.batches)
    assert metrics["total_detour_min"] == pytest.approx(sum(a.detour_min for a in day.assignments))
    assert metrics["mean_wait_min"] >= 0


def test_unknown_strategy_and_bad_interval_are_named() -> None:
    with pytest.raises(ValueError, match="unknown strategy 'greedy'"):
        strategy_named("greedy")
    with pytest.raises(ValueError, match="planning interval must be > 0"):
        RollingHorizon(0)
    with pytest.raises(ValueError, match="start before they end"):
        Operations(600, 600)
    with pytest.raises(ValueError, match="just-in-time lead must be >= 0"):
        JustInTime(-1)
    assert strategy_named("jit", lead_min=30, max_wait_min=60) == JustInTime(30, 60)
