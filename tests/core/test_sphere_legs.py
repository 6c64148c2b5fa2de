"""Great-circle pairs from chords (no trigonometry per pair): within their error bound of the
haversine legs, and the same pairs, rounded costs and matches as the haversine rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from crowdship.core.costs import CostFunction, DetourTerm, RatingTerm
from crowdship.core.feasibility import (
    TIME_TOLERANCE,
    DirectTimes,
    Limits,
    _radians,
    _tangent_frame,
    all_pairs,
    feasible_pairs,
)
from crowdship.core.flow import max_matching_min_cost, to_units
from crowdship.core.matcher import match
from crowdship.core.model import Requests, Trips
from crowdship.core.policies import MaxMatches
from crowdship.core.travel import EARTH_RADIUS_KM, GreatCircleTravel
from tests.conftest import random_instance
from tests.core.numba_reference import (
    LEG_ERROR_LEGS,
    LEG_ERROR_RADII,
    ROUNDOFF,
    _series_leg,
    haversine_minutes,
)


@njit(cache=False)
def _both_legs(
    e_a: np.ndarray, e_b: np.ndarray, ll_a: np.ndarray, ll_b: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the leg from the chord as ``sphere_pairs`` computes it, and the haversine
    leg of the same points."""
    n = len(e_a)
    series, haversine = np.empty(n), np.empty(n)
    inv_4r2 = 1.0 / (4.0 * EARTH_RADIUS_KM * EARTH_RADIUS_KM)
    for i in range(n):
        vx = e_a[i, 0] - e_b[i, 0]
        vy = e_a[i, 1] - e_b[i, 1]
        vz = e_a[i, 2] - e_b[i, 2]
        series[i] = _series_leg(vx * vx + vy * vy + vz * vz, inv_4r2, scale)
        haversine[i] = haversine_minutes(ll_a, i, ll_b, i, EARTH_RADIUS_KM, scale)
    return series, haversine


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    latitude=st.floats(-89.9, 89.9),
    longitude=st.floats(-180.0, 180.0),
    spread_km=st.sampled_from([1e-6, 0.01, 1.0, 20.0, 60.0]),
    speed_kmh=st.sampled_from([5.0, 30.0, 120.0]),
)
def test_series_legs_lie_well_within_their_bound(seed, latitude, longitude, spread_km, speed_kmh):
    """Legs from the turned embedding's chords differ from the haversine legs by less than
    a tenth of the bound the kernel trusts (about 3.5 roundoffs of the earth's radius at
    most, where the bound allows 256 plus 64 roundoffs of the leg)."""
    rng = np.random.default_rng(seed)
    n = 4000
    travel = GreatCircleTravel(speed_kmh=speed_kmh, detour_factor=1.3)
    scale = 1.3 / speed_kmh * 60.0
    step = np.degrees(spread_km / EARTH_RADIUS_KM)
    squeeze = max(np.cos(np.radians(latitude)), 1e-3)

    def points() -> np.ndarray:
        lat = np.clip(latitude + rng.uniform(-step, step, n), -90.0, 90.0)
        lon = (longitude + rng.uniform(-step, step, n) / squeeze + 180.0) % 360.0 - 180.0
        return np.column_stack((lat, lon))

    a, b = points(), points()
    e_a, e_b = travel.embed(a), travel.embed(b)
    turn = _tangent_frame(e_b)
    series, haversine = _both_legs(
        np.ascontiguousarray(e_a @ turn.T),
        np.ascontiguousarray(e_b @ turn.T),
        _radians(a),
        _radians(b),
        scale,
    )
    near = series <= 127.0 * scale  # the series' range (longer legs take the formula)
    bound = (
        LEG_ERROR_RADII * ROUNDOFF * EARTH_RADIUS_KM * scale + LEG_ERROR_LEGS * ROUNDOFF * series
    )
    assert np.all(np.abs(series - haversine)[near] <= bound[near] / 10)


def _around_helsinki(rng: np.random.Generator, n: int, spread: float) -> tuple[Trips, Requests]:
    trips, requests = random_instance(rng, n, n, 1.0)
    centre = np.array([60.17, 24.94])
    return (
        Trips.from_columns(
            trips.ids,
            centre + (trips.origin - 0.5) * spread,
            centre + (trips.destination - 0.5) * spread,
            trips.earliest_departure,
            trips.latest_arrival * 3,
        ),
        Requests.from_columns(
            requests.ids,
            centre + (requests.pickup - 0.5) * spread,
            centre + (requests.delivery - 0.5) * spread,
            requests.earliest_pickup,
            requests.latest_delivery * 3,
        ),
    )


def _on_the_limits(
    rng: np.random.Generator, n: int, spread: float, travel: GreatCircleTravel
) -> tuple[Trips, Requests]:
    """Each trip's latest arrival, and each request's latest delivery, set to where the
    haversine legs put them for one partner, give or take the last bits: many pairs sit
    on a limit of the rule to within its rounding."""
    trips, requests = _around_helsinki(rng, n, spread)
    direct = DirectTimes.of(trips, requests, travel)
    partner = rng.integers(0, n, n)
    to_pickup = travel.pairwise(trips.origin, requests.pickup[partner])
    from_delivery = travel.pairwise(requests.delivery[partner], trips.destination)
    at_pickup = np.maximum(trips.earliest_departure + to_pickup, requests.earliest_pickup[partner])
    delivery = at_pickup + direct.request[partner]
    nudge = rng.choice([-1e-12, -1e-13, 0.0, 1e-13, 1e-12], size=n) - TIME_TOLERANCE
    arrival = delivery + from_delivery + nudge
    latest_delivery = requests.latest_delivery.copy()
    latest_delivery[partner] = delivery + nudge
    return (
        Trips.from_columns(
            trips.ids, trips.origin, trips.destination, trips.earliest_departure, arrival
        ),
        Requests.from_columns(
            requests.ids,
            requests.pickup,
            requests.delivery,
            requests.earliest_pickup,
            np.maximum(latest_delivery, requests.earliest_pickup),
        ),
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    spread=st.sampled_from([0.002, 0.05, 0.3, 3.0]),  # 3 degrees: legs past the series
    on_limits=st.booleans(),
    max_detour=st.sampled_from([None, 5.0]),
    units=st.sampled_from([None, 1e3, 1e7, 1e9]),
)
def test_pairs_and_rounded_detours_equal_the_haversine_rules(
    seed, spread, on_limits, max_detour, units
):
    """With and without ``units``, the index finds exactly the haversine rule's pairs, on
    days whose pairs sit on the rule's limits to the last bits; with ``units`` every
    detour rounds as the haversine one (at 1e7 units per minute some detours, at 1e9 most, lie
    within the chords' error of a step, so the formula decides them), and lies within 1e-9
    minutes of it."""
    travel = GreatCircleTravel(speed_kmh=40.0, detour_factor=1.2)
    rng = np.random.default_rng(seed)
    if on_limits:
        trips, requests = _on_the_limits(rng, 40, spread, travel)
    else:
        trips, requests = _around_helsinki(rng, 40, spread)
    limits = Limits(max_detour_min=max_detour)
    reference = all_pairs(trips, requests, travel, limits=limits)
    found = feasible_pairs(trips, requests, travel, limits=limits, units=units)
    mine = np.lexsort((found.request, found.trip))
    theirs = np.lexsort((reference.request, reference.trip))
    assert found.trip[mine].tolist() == reference.trip[theirs].tolist()
    assert found.request[mine].tolist() == reference.request[theirs].tolist()
    if units is None:
        assert found.detour[mine].tolist() == reference.detour[theirs].tolist()
    else:
        np.testing.assert_array_equal(
            np.rint(found.detour[mine] * units), np.rint(reference.detour[theirs] * units)
        )
        np.testing.assert_allclose(found.detour[mine], reference.detour[theirs], atol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_match_gives_the_haversine_answer_bit_for_bit(seed: int) -> None:
    """``match`` on great-circle travel (the paper's policy and cost: detours from chords)
    chooses the pairs the haversine detours give, reports their haversine detours and costs
    bit for bit, and reaches OR-Tools' optimum on all pairs."""
    travel = GreatCircleTravel()
    trips, requests = _around_helsinki(np.random.default_rng(seed), 300, 0.1)
    fast = match(trips, requests, travel, policy=MaxMatches(certify_above=0))
    # A zero-weight term makes the cost function other than the bare detour: every
    # detour then comes from the haversine formula.
    exact_cost = CostFunction((DetourTerm(), RatingTerm(weight=0.0)))
    exact = match(trips, requests, travel, cost=exact_cost, policy=MaxMatches(certify_above=0))
    a, b = fast.assignment, exact.assignment
    assert a.trip_ids.tolist() == b.trip_ids.tolist()
    assert a.request_ids.tolist() == b.request_ids.tolist()
    assert a.detour.tolist() == b.detour.tolist()
    assert a.cost.tolist() == b.cost.tolist()
    assert fast.stats.objective == exact.stats.objective
    pairs = all_pairs(trips, requests, travel)
    reference = max_matching_min_cost(pairs.trip, pairs.request, to_units(pairs.detour))
    assert fast.matched == len(reference.selected) > 100
    assert round(fast.stats.objective * 1000) == reference.total_cost


def test_tangent_frame_turns_the_mean_to_the_third_axis() -> None:
    """The rotation is orthonormal and takes the points' mean direction to (0, 0, 1), also
    at a pole."""
    travel = GreatCircleTravel()
    for centre in ((60.17, 24.94), (-33.9, 151.2), (90.0, 0.0), (0.0, -180.0)):
        points = travel.embed(np.array([centre, centre]))
        turn = _tangent_frame(points)
        np.testing.assert_allclose(turn @ turn.T, np.eye(3), atol=1e-12)
        up = points[0] / np.linalg.norm(points[0])
        np.testing.assert_allclose(turn @ up, [0.0, 0.0, 1.0], atol=1e-12)
