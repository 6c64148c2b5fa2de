"""The Cython great-circle search and rule (``crowdship.core._sphere``: ``sphere_pairs``,
``compact_pairs``, ``great_circle_rule``) against the numba kernels they replace
(``tests/core/numba_reference.py``): the same pairs, in the same order, with the same detours bit
for bit, through the real callers (:func:`feasible_pairs`, :func:`check_pairs`,
:func:`great_circle_detours`) on generated days (around Helsinki, at the poles, across the
antimeridian, over the whole globe; pairs on the rule's limits to the last bits; with and
without ``units`` and the row table; the rule's loops four rows at a time with AVX and one
row at a time), and called directly on a medium day and on edge cases."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdship.core import _sphere, feasibility
from crowdship.core.feasibility import (
    TIME_TOLERANCE,
    DirectTimes,
    FeasiblePairs,
    Limits,
    check_pairs,
    feasible_pairs,
    great_circle_detours,
)
from crowdship.core.model import Requests, Trips
from crowdship.core.travel import EARTH_RADIUS_KM, GreatCircleTravel
from crowdship.sim.scenarios import ScenarioParams, generate_scenario
from tests.core import numba_reference

#: The great-circle kernels ``feasibility`` calls.
NAMES = ("sphere_pairs", "compact_pairs", "great_circle_rule")
NUMBA = {name: getattr(numba_reference, name) for name in NAMES}
CYTHON = {name: getattr(_sphere, name) for name in NAMES}


@contextmanager
def _avx(on: bool) -> Iterator[None]:
    previous = _sphere._use_avx(on)
    try:
        yield
    finally:
        _sphere._use_avx(previous)


@contextmanager
def _kernels_of(kernels: dict[str, Any], avx: bool = True, row_table: bool = True) -> Iterator:
    """The callers with ``kernels`` as their great-circle kernels (and, unless
    ``row_table``, without the table of rows by delivery cell: binary searches instead)."""
    table_module = sys.modules[feasibility.delivery_row_table.__module__]
    with pytest.MonkeyPatch.context() as patch, _avx(avx):
        for name, kernel in kernels.items():
            patch.setattr(feasibility, name, kernel)
        if not row_table:
            patch.setattr(table_module, "ROW_TABLE_CELLS", 0)
        yield


def _assert_bits(expected: np.ndarray, got: np.ndarray) -> None:
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    if got.dtype == np.float64:
        assert np.array_equal(got.view(np.int64), expected.view(np.int64))
    else:
        assert np.array_equal(got, expected)


def _assert_same(expected: FeasiblePairs, got: FeasiblePairs) -> None:
    assert len(got) == len(expected)
    assert got.candidates == expected.candidates
    assert got.trip.dtype == got.request.dtype == np.int64
    for a, b in ((expected.trip, got.trip), (expected.request, got.request)):
        _assert_bits(a, b)
    _assert_bits(expected.detour, got.detour)


def _answers(
    trips: Trips,
    requests: Requests,
    travel: GreatCircleTravel,
    limits: Limits,
    units: float | None,
) -> list[Any]:
    """What the callers give: the feasible pairs, their haversine detours, and the exact
    rule on every (trip, request) pair."""
    direct = DirectTimes.of(trips, requests, travel)
    found = feasible_pairs(trips, requests, travel, direct, limits, units)
    detours = great_circle_detours(trips, requests, travel, direct, found.trip, found.request)
    ti, ri = (
        a.ravel().astype(np.int64)
        for a in np.meshgrid(np.arange(len(trips)), np.arange(len(requests)), indexing="ij")
    )
    checked = check_pairs(trips, requests, travel, direct, ti, ri, limits)
    return [found, detours, checked]


def _check_day(
    trips: Trips,
    requests: Requests,
    travel: GreatCircleTravel,
    limits: Limits = feasibility.NO_LIMITS,
    units: float | None = None,
    row_table: bool = True,
) -> FeasiblePairs:
    """The numba and the Cython kernels (both ways of running the rule) agree on a day."""
    with _kernels_of(NUMBA, row_table=row_table):
        expected = _answers(trips, requests, travel, limits, units)
    for avx in (True, False):
        with _kernels_of(CYTHON, avx=avx, row_table=row_table):
            got = _answers(trips, requests, travel, limits, units)
        _assert_same(expected[0], got[0])
        _assert_bits(expected[1], got[1])
        _assert_same(expected[2], got[2])
    return expected[0]


def _day(
    rng: np.random.Generator,
    n_trips: int,
    n_requests: int,
    centre: tuple[float, float],
    spread: float,
    window: float,
) -> tuple[Trips, Requests]:
    """Random trips and requests ``spread`` degrees of latitude around ``centre`` (as
    many km east-west; wrapped across the antimeridian, clipped at the poles), with
    windows of up to ``window`` minutes."""
    squeeze = max(np.cos(np.radians(centre[0])), 1e-3)

    def points(n: int) -> np.ndarray:
        lat = np.clip(centre[0] + rng.uniform(-spread, spread, n), -90.0, 90.0)
        lon = centre[1] + rng.uniform(-spread, spread, n) / squeeze
        return np.column_stack((lat, (lon + 180.0) % 360.0 - 180.0))

    departure = rng.uniform(0, 60, n_trips)
    opens = rng.uniform(0, 60, n_requests)
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(n_trips)],
        origin=points(n_trips),
        destination=points(n_trips),
        earliest_departure=departure,
        latest_arrival=departure + rng.uniform(0, window, n_trips),
    )
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n_requests)],
        pickup=points(n_requests),
        delivery=points(n_requests),
        earliest_pickup=opens,
        latest_delivery=opens + rng.uniform(0, window, n_requests),
    )
    return trips, requests


def _on_the_limits(
    rng: np.random.Generator, trips: Trips, requests: Requests, travel: GreatCircleTravel
) -> tuple[Trips, Requests]:
    """Each trip's latest arrival, and one request's latest delivery, set to where the
    haversine legs put them for one partner, give or take the last bits: many pairs sit on
    a limit of the rule to within its rounding."""
    n = len(trips)
    direct = DirectTimes.of(trips, requests, travel)
    partner = rng.integers(0, len(requests), n)
    to_pickup = travel.pairwise(trips.origin, requests.pickup[partner])
    from_delivery = travel.pairwise(requests.delivery[partner], trips.destination)
    at_pickup = np.maximum(trips.earliest_departure + to_pickup, requests.earliest_pickup[partner])
    delivery = at_pickup + direct.request[partner]
    nudge = rng.choice([-1e-12, -1e-13, 0.0, 1e-13, 1e-12], size=n) - TIME_TOLERANCE
    latest_delivery = requests.latest_delivery.copy()
    latest_delivery[partner] = delivery + nudge
    return (
        Trips.from_columns(
            trips.ids,
            trips.origin,
            trips.destination,
            trips.earliest_departure,
            np.maximum(delivery + from_delivery + nudge, trips.earliest_departure),
        ),
        Requests.from_columns(
            requests.ids,
            requests.pickup,
            requests.delivery,
            requests.earliest_pickup,
            np.maximum(latest_delivery, requests.earliest_pickup),
        ),
    )


limits_strategy = st.builds(
    Limits,
    max_detour_min=st.none() | st.sampled_from([0.0, 5.0, 30.0]),
    max_detour_fraction=st.none() | st.sampled_from([0.0, 0.3]),
)
#: Helsinki, a pole, the antimeridian, Sydney, the equator at Greenwich.
CENTRES = [(60.17, 24.94), (89.95, 0.0), (-89.99, 45.0), (0.0, 179.98), (-33.9, 151.2), (0, 0)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_trips=st.integers(1, 60),
    n_requests=st.integers(1, 60),
    centre=st.sampled_from(CENTRES),
    spread=st.sampled_from([0.002, 0.05, 0.3, 3.0]),  # 3 degrees: legs past the series
    on_limits=st.booleans(),
    limits=limits_strategy,
    units=st.sampled_from([None, 1e3, 1e7, 1e9]),
    row_table=st.booleans(),
    speed_kmh=st.sampled_from([30.0, 120.0]),
)
def test_generated_days(
    seed, n_trips, n_requests, centre, spread, on_limits, limits, units, row_table, speed_kmh
):
    rng = np.random.default_rng(seed)
    travel = GreatCircleTravel(speed_kmh=speed_kmh, detour_factor=1.3)
    trips, requests = _day(rng, n_trips, n_requests, centre, spread, window=240.0)
    if on_limits:
        trips, requests = _on_the_limits(rng, trips, requests, travel)
    _check_day(trips, requests, travel, limits, units, row_table)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), units=st.sampled_from([None, 1e3]))
def test_days_over_the_whole_globe(seed, units):
    """Points anywhere on the earth, trips of thousands of km (legs far past the series'
    range, some nearly antipodal: the haversine formula's clip at 1)."""
    rng = np.random.default_rng(seed)
    trips, requests = _day(rng, 40, 40, (0.0, 0.0), 90.0, window=30_000.0)
    trips = Trips.from_columns(
        trips.ids,
        _points_everywhere(rng, 40),
        _points_everywhere(rng, 40),
        trips.earliest_departure,
        trips.latest_arrival,
    )
    requests = Requests.from_columns(
        requests.ids,
        _points_everywhere(rng, 40),
        _points_everywhere(rng, 40),
        requests.earliest_pickup,
        requests.latest_delivery,
    )
    found = _check_day(trips, requests, GreatCircleTravel(speed_kmh=900.0), units=units)
    assert len(found) > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 30),
    same_place=st.booleans(),
    units=st.sampled_from([None, 1e3]),
)
def test_degenerate_days(seed, n, same_place, units):
    """Trips going nowhere, requests delivered where they are picked up, every point in a
    handful of places (ties in every leg), windows of zero length."""
    rng = np.random.default_rng(seed)
    places = np.array([[60.17, 24.94], [60.171, 24.94], [60.2, 25.0], [60.17, 24.9401]])
    if same_place:
        places = places[:1]

    def pick(k: int) -> np.ndarray:
        return places[rng.integers(0, len(places), k)]

    departure = rng.integers(0, 30, n).astype(np.float64)
    opens = rng.integers(0, 30, n).astype(np.float64)
    trips = Trips.from_columns(
        [f"t{i}" for i in range(n)],
        pick(n),
        pick(n),
        departure,
        departure + rng.integers(0, 20, n),
    )
    requests = Requests.from_columns(
        [f"r{j}" for j in range(n)], pick(n), pick(n), opens, opens + rng.integers(0, 20, n)
    )
    _check_day(trips, requests, GreatCircleTravel(), units=units)


def test_a_crowded_day_with_many_cells():
    """Many trips and requests, pickups and deliveries crowding around a few points (tight
    cell boxes, deliveries in a few cells), across a 60 km box."""
    rng = np.random.default_rng(11)
    trips, requests = _day(rng, 600, 400, (60.17, 24.94), 0.3, window=90.0)
    hubs = np.array([[60.1, 24.8], [60.25, 25.1], [60.17, 24.94]])
    around = hubs[rng.integers(0, 3, 400)] + rng.normal(0, 0.005, (400, 2))
    requests = Requests.from_columns(
        requests.ids,
        around,
        around[::-1],
        requests.earliest_pickup,
        requests.latest_delivery,
    )
    found = _check_day(trips, requests, GreatCircleTravel(speed_kmh=40.0), units=1e3)
    assert len(found) > 1000


# ---------------------------------------------------------------- the kernels called directly


def _arguments(trips: Trips, requests: Requests, travel: GreatCircleTravel) -> list:
    """The search's inputs as :func:`feasible_pairs` passes them (without the pass flag,
    offsets, counts, candidates and outputs; ``units`` last)."""
    captured = []

    def capture(*args):
        if not args[0]:
            captured.append(list(args[4:-3]))
        return NUMBA["sphere_pairs"](*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(feasibility, "sphere_pairs", capture)
        feasible_pairs(trips, requests, travel, units=1e3)
    (arguments,) = captured
    return arguments


def _run(kernel, arguments: list) -> tuple[np.ndarray, ...]:
    """Both passes, as the caller runs them: counts and candidates after counting, the
    offsets, counts after writing, and the three outputs."""
    n_trips = len(arguments[0])
    counts = np.zeros(n_trips, dtype=np.int64)
    candidates = np.zeros(n_trips, dtype=np.int64)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    assert kernel(False, offsets, counts, candidates, *arguments, none, none, np.zeros(0)) is None
    counted = counts.copy()
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    out = (np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total))
    assert kernel(True, offsets, counts, candidates, *arguments, *out) is None
    return (counted, candidates, offsets, counts, *out)


def _assert_runs_equal(expected, got) -> None:
    assert len(expected) == len(got)
    for a, b in zip(expected, got, strict=True):
        _assert_bits(a, b)


@pytest.fixture(scope="module")
def medium_day() -> list:
    params = ScenarioParams(
        trips=3000, requests=1200, bbox=(60.1, 24.75, 60.3, 25.15), speed_kmh=30.0
    )
    scenario = generate_scenario(params, seed=3)
    assert isinstance(scenario.travel, GreatCircleTravel)
    return _arguments(scenario.trips, scenario.requests, scenario.travel)


def _with_units(arguments: list, units: float) -> list:
    return [*arguments[:-1], units]


@pytest.mark.parametrize("units", [0.0, 1e3, 1e9])
@pytest.mark.parametrize("avx", [True, False])
def test_direct_call_on_a_medium_day(medium_day, units, avx):
    arguments = _with_units(medium_day, units)
    expected = _run(NUMBA["sphere_pairs"], arguments)
    assert int(expected[2][-1]) > 20_000
    with _avx(avx):
        _assert_runs_equal(expected, _run(CYTHON["sphere_pairs"], arguments))


def test_direct_call_with_read_only_and_strided_inputs(medium_day):
    """Read-only arrays are read; strided ones (copied to contiguous) give the same."""
    expected = _run(CYTHON["sphere_pairs"], medium_day)
    frozen = []
    for value in medium_day:
        if isinstance(value, np.ndarray):
            value = value.copy()
            value.setflags(write=False)
        frozen.append(value)
    _assert_runs_equal(expected, _run(CYTHON["sphere_pairs"], frozen))
    strided = [np.repeat(v, 2, axis=0)[::2] if isinstance(v, np.ndarray) else v for v in medium_day]
    assert not strided[8].flags.c_contiguous
    _assert_runs_equal(expected, _run(CYTHON["sphere_pairs"], strided))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86's conversion")
@pytest.mark.parametrize("radius", [np.inf, np.nan, 1e300, -1.0])
def test_radii_out_of_range_read_as_numba_reads_them(medium_day, radius):
    """Radii no caller passes (infinite, NaN, past int64 in cells) take the grid cells
    numba's float-to-int conversion gives them; negative ones mean no pairs."""
    arguments = [v.copy() if isinstance(v, np.ndarray) else v for v in medium_day]
    arguments[3][::7] = radius
    _assert_runs_equal(
        _run(NUMBA["sphere_pairs"], arguments), _run(CYTHON["sphere_pairs"], arguments)
    )


def test_no_trips_and_no_rows(medium_day):
    arguments = [
        v[:0] if isinstance(v, np.ndarray) and i < 8 else v for i, v in enumerate(medium_day)
    ]
    counted, candidates, offsets, counts, *out = _run(CYTHON["sphere_pairs"], arguments)
    assert counted.shape == candidates.shape == counts.shape == (0,)
    assert offsets.tolist() == [0] and all(len(o) == 0 for o in out)
    # Rows but none in any cell the trips read: every trip counts none.
    no_rows = list(medium_day)
    for i in (8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20):
        no_rows[i] = no_rows[i][:0]
    no_rows[18] = np.zeros_like(no_rows[18])
    no_rows[31], no_rows[32] = no_rows[31][:0], no_rows[32][:0]
    expected = _run(NUMBA["sphere_pairs"], no_rows)
    _assert_runs_equal(expected, _run(CYTHON["sphere_pairs"], no_rows))
    assert int(expected[2][-1]) == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_compact_pairs_closes_up_the_gaps(seed):
    rng = np.random.default_rng(seed)
    n_trips = 500
    slots = rng.integers(0, 30, n_trips)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    np.cumsum(slots, out=offsets[1:])
    counts = (slots * rng.uniform(0, 1, n_trips)).astype(np.int64)
    counts[::5] = slots[::5]
    starts = np.zeros(n_trips + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    total = int(offsets[-1])
    written = (
        rng.integers(0, 10**6, total),
        rng.integers(0, 10**6, total),
        rng.normal(0, 10, total),
    )
    results = []
    for kernel in (NUMBA["compact_pairs"], CYTHON["compact_pairs"]):
        out = (
            np.full(int(starts[-1]), -1, np.int64),
            np.full(int(starts[-1]), -1, np.int64),
            np.full(int(starts[-1]), np.nan),
        )
        assert kernel(offsets, counts, starts, *written, *out) is None
        results.append(out)
    for a, b in zip(*results, strict=True):
        _assert_bits(a, b)
    keep = np.concatenate([np.arange(o, o + c) for o, c in zip(offsets[:-1], counts, strict=True)])
    assert np.array_equal(results[1][0], written[0][keep])


def _points_everywhere(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points anywhere, at the poles, on the antimeridian, and repeated exactly."""
    lat = rng.uniform(-90, 90, n)
    lon = rng.uniform(-180, 180, n)
    lat[::11] = rng.choice([-90.0, 90.0, 0.0, 89.9999999], size=lat[::11].shape)
    lon[::13] = rng.choice([-180.0, 180.0, 179.9999999, 0.0], size=lon[::13].shape)
    return np.column_stack((lat, lon))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_great_circle_rule_direct_on_points_everywhere(seed):
    """The haversine rule on pairs of points anywhere (the same point, antipodes, poles,
    the antimeridian; legs from a millimetre to half the earth): the same truths and
    detours, bit for bit (numba's sines and arcsines are the C library's, as here)."""
    rng = np.random.default_rng(seed)
    n_trips, n_requests, n_pairs = 400, 300, 200_000
    origin = _points_everywhere(rng, n_trips)
    destination = _points_everywhere(rng, n_trips)
    destination[::3] = origin[::3]
    pickup = _points_everywhere(rng, n_requests)
    offset = rng.normal(0, 1e-5, (n_requests, 2))  # none, about a metre, about 100 km
    delivery = pickup + offset * rng.choice([0, 1, 1e5], n_requests)[:, None]
    delivery[:, 0] = np.clip(delivery[:, 0], -90, 90)
    pickup[5] = -origin[5]  # antipodal
    pickup[5, 1] = origin[5, 1] + 180.0 if origin[5, 1] < 0 else origin[5, 1] - 180.0
    trip_index = rng.integers(0, n_trips, n_pairs)
    request_index = rng.integers(0, n_requests, n_pairs)
    trip_index[:n_requests] = 5
    request_index[:n_requests] = np.arange(n_requests)
    travel = GreatCircleTravel(speed_kmh=50.0, detour_factor=1.2)
    leave = rng.uniform(0, 600, n_trips)
    direct_trip = travel.pairwise(origin, destination)
    direct_request = travel.pairwise(pickup, delivery)
    opens = rng.uniform(0, 600, n_requests)
    arguments = (
        trip_index,
        request_index,
        feasibility._radians(origin),
        feasibility._radians(destination),
        feasibility._radians(pickup),
        feasibility._radians(delivery),
        1.2 / 50.0 * 60.0,
        leave,
        leave + rng.uniform(0, 3e4, n_trips),
        direct_trip,
        rng.choice([np.inf, 30.0, 0.0], n_trips),
        opens,
        opens + rng.uniform(0, 3e4, n_requests),
        direct_request,
        TIME_TOLERANCE,
        EARTH_RADIUS_KM,
    )
    expected = NUMBA["great_circle_rule"](*arguments)
    got = CYTHON["great_circle_rule"](*arguments)
    assert type(got) is tuple and len(got) == 2
    _assert_bits(expected[0], got[0])
    _assert_bits(expected[1], got[1])
    assert 0 < int(got[0].sum()) < n_pairs
    # No pairs: empty answers of the same types.
    none = CYTHON["great_circle_rule"](trip_index[:0], request_index[:0], *arguments[2:])
    _assert_bits(
        NUMBA["great_circle_rule"](trip_index[:0], request_index[:0], *arguments[2:])[0], none[0]
    )
    assert none[1].dtype == np.float64 and none[1].shape == (0,)
