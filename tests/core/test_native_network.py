"""The Cython rule on a road network's looked-up legs (``crowdship.core._network``:
``network_pairs``) against the numba kernel it replaces (``tests/core/numba_reference.py``): the
same pairs, in the same order, with the same detours bit for bit, through the real caller
(:func:`feasible_pairs`, which checks every pair with legs from the node table) on
generated days over the bundled Helsinki extract, with the rule's loops four requests at a
time (AVX) and one at a time, and called directly on a medium day and on edge cases
(unreachable legs, ties, no trips, no requests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdship.core import _network, feasibility
from crowdship.core.feasibility import NO_LIMITS, FeasiblePairs, Limits, feasible_pairs
from crowdship.core.model import Requests, Trips
from crowdship.core.road import RoadNetworkTravel, bundled_extract
from tests.core import numba_reference

NUMBA = numba_reference.network_pairs
CYTHON = _network.network_pairs


@pytest.fixture(scope="module")
def helsinki() -> RoadNetworkTravel:
    network = RoadNetworkTravel.from_pbf(bundled_extract())
    assert network.has_full_table  # the path that looks every leg up
    return network


@contextmanager
def _avx(on: bool) -> Iterator[None]:
    previous = _network._use_avx(on)
    try:
        yield
    finally:
        _network._use_avx(previous)


@contextmanager
def _kernel(kernel, avx: bool = True) -> Iterator[None]:
    """The caller with ``kernel`` as its rule on looked-up legs."""
    with pytest.MonkeyPatch.context() as patch, _avx(avx):
        patch.setattr(feasibility, "network_pairs", kernel)
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
    _assert_bits(expected.trip, got.trip)
    _assert_bits(expected.request, got.request)
    _assert_bits(expected.detour, got.detour)


def _check_day(
    trips: Trips, requests: Requests, network: RoadNetworkTravel, limits: Limits = NO_LIMITS
) -> FeasiblePairs:
    """The numba and the Cython kernels (both ways of running the rule) agree on a day."""
    with _kernel(NUMBA):
        expected = feasible_pairs(trips, requests, network, limits=limits)
    for avx in (True, False):
        with _kernel(CYTHON, avx):
            _assert_same(expected, feasible_pairs(trips, requests, network, limits=limits))
    return expected


def _helsinki_day(
    network: RoadNetworkTravel,
    rng: np.random.Generator,
    n_trips: int,
    n_requests: int,
    slack: float,
    window: float,
    places: int | None = None,
) -> tuple[Trips, Requests]:
    """Trips and requests over the extract (or over ``places`` of its nodes: many trips
    from one place, ties in every leg), trips with up to ``slack`` minutes to spare,
    requests with windows of up to ``window`` minutes."""
    lo, hi = network.node_latlon.min(axis=0), network.node_latlon.max(axis=0)

    def points(n: int) -> np.ndarray:
        if places is not None:
            return network.node_latlon[rng.integers(0, places, n)]
        return lo + rng.uniform(0, 1, (n, 2)) * (hi - lo)

    origin, destination = points(n_trips), points(n_trips)
    departure = rng.uniform(0, 60, n_trips).round(rng.choice([0, 6]))
    direct = network.pairwise(origin, destination)
    opens = rng.uniform(0, 60, n_requests).round(rng.choice([0, 6]))
    trips = Trips.from_columns(
        [f"t{i}" for i in range(n_trips)],
        origin,
        destination,
        departure,
        departure + direct + rng.uniform(0, slack, n_trips),
    )
    requests = Requests.from_columns(
        [f"r{j}" for j in range(n_requests)],
        points(n_requests),
        points(n_requests),
        opens,
        opens + rng.uniform(0, window, n_requests),
    )
    return trips, requests


limits_strategy = st.builds(
    Limits,
    max_detour_min=st.none() | st.sampled_from([0.0, 2.0, 10.0]),
    max_detour_fraction=st.none() | st.sampled_from([0.0, 0.5]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_trips=st.integers(1, 80),
    n_requests=st.integers(1, 70),
    slack=st.sampled_from([0.0, 3.0, 30.0]),
    window=st.sampled_from([0.0, 20.0, 200.0]),
    places=st.none() | st.sampled_from([1, 3, 50]),
    limits=limits_strategy,
)
def test_generated_days_on_helsinki(
    helsinki, seed, n_trips, n_requests, slack, window, places, limits
):
    rng = np.random.default_rng(seed)
    trips, requests = _helsinki_day(helsinki, rng, n_trips, n_requests, slack, window, places)
    _check_day(trips, requests, helsinki, limits)


def test_a_day_with_many_pairs(helsinki):
    found = _check_day(
        *_helsinki_day(helsinki, np.random.default_rng(4), 600, 500, 20.0, 200.0), helsinki
    )
    assert len(found) > 10_000


# ---------------------------------------------------------------- the kernel called directly


def _arguments(trips: Trips, requests: Requests, network: RoadNetworkTravel) -> list:
    """The kernel's inputs as :func:`feasible_pairs` passes them (without the pass flag,
    offsets, counts and outputs)."""
    captured = []

    def capture(*args):
        if not args[0]:
            captured.append(list(args[3:-3]))
        return NUMBA(*args)

    with _kernel(capture):
        feasible_pairs(trips, requests, network)
    (arguments,) = captured
    return arguments


def _run(kernel, arguments: list) -> tuple[np.ndarray, ...]:
    """Both passes, as the caller runs them: counts, offsets, counts after writing and
    the three outputs."""
    n_trips = len(arguments[2])
    counts = np.zeros(n_trips, dtype=np.int64)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    assert kernel(False, offsets, counts, *arguments, none, none, np.zeros(0)) is None
    counted = counts.copy()
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    out = (np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total))
    assert kernel(True, offsets, counts, *arguments, *out) is None
    return (counted, offsets, counts, *out)


def _assert_runs_equal(expected, got) -> None:
    assert len(expected) == len(got)
    for a, b in zip(expected, got, strict=True):
        _assert_bits(a, b)


@pytest.fixture(scope="module")
def medium_day(helsinki) -> list:
    rng = np.random.default_rng(3)
    return _arguments(*_helsinki_day(helsinki, rng, 3000, 1201, 15.0, 120.0), helsinki)


@pytest.mark.parametrize("avx", [True, False])
def test_direct_call_on_a_medium_day(medium_day, avx):
    expected = _run(NUMBA, medium_day)
    assert int(expected[1][-1]) > 50_000
    with _avx(avx):
        _assert_runs_equal(expected, _run(CYTHON, medium_day))


def test_direct_call_with_read_only_and_strided_inputs(medium_day):
    """Read-only arrays are read; strided ones (copied to contiguous) give the same."""
    expected = _run(CYTHON, medium_day)
    frozen = []
    for value in medium_day:
        if isinstance(value, np.ndarray):
            value = value.copy()
            value.setflags(write=False)
        frozen.append(value)
    _assert_runs_equal(expected, _run(CYTHON, frozen))
    strided = [
        np.repeat(v, 2, axis=-1)[..., ::2] if isinstance(v, np.ndarray) else v for v in medium_day
    ]
    assert not strided[0].flags.c_contiguous and not strided[4].flags.c_contiguous
    _assert_runs_equal(expected, _run(CYTHON, strided))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_requests", [1, 3, 4, 5, 8, 13, 64])
def test_legs_unreachable_tied_and_zero(seed, n_requests):
    """Legs a network gives (whole minutes: ties everywhere), some infinite (unreachable),
    some zero; detours of exactly zero and -0.0; request counts around the lanes' width."""
    rng = np.random.default_rng(seed)
    n_trips, origins, destinations = 200, 7, 5
    to_pickup = rng.integers(0, 20, (origins, n_requests)).astype(np.float64)
    from_delivery = rng.integers(0, 20, (destinations, n_requests)).astype(np.float64)
    to_pickup[rng.uniform(0, 1, to_pickup.shape) < 0.1] = np.inf
    from_delivery[rng.uniform(0, 1, from_delivery.shape) < 0.1] = np.inf
    from_delivery[0, ::2] = -0.0
    leave = rng.integers(0, 30, n_trips).astype(np.float64)
    direct_trip = rng.integers(0, 30, n_trips).astype(np.float64)
    opens = rng.integers(0, 30, n_requests).astype(np.float64)
    own = rng.integers(0, 10, n_requests).astype(np.float64)
    own[::3] = -0.0
    arguments = [
        to_pickup,
        from_delivery,
        rng.integers(0, origins, n_trips),
        rng.integers(0, destinations, n_trips),
        leave,
        leave + direct_trip + rng.integers(0, 40, n_trips),
        direct_trip,
        rng.choice([np.inf, 0.0, 5.0], n_trips),
        opens,
        opens + own + rng.integers(0, 40, n_requests),
        own,
        1e-6,
    ]
    expected = _run(NUMBA, arguments)
    assert 0 < int(expected[1][-1]) < n_trips * n_requests or n_requests < 4
    for avx in (True, False):
        with _avx(avx):
            _assert_runs_equal(expected, _run(CYTHON, arguments))


def test_no_trips_and_no_requests(medium_day):
    no_trips = [v[:0] if i in (2, 3, 4, 5, 6, 7) else v for i, v in enumerate(medium_day)]
    counted, offsets, counts, *out = _run(CYTHON, no_trips)
    assert counted.shape == counts.shape == (0,) and offsets.tolist() == [0]
    assert all(len(o) == 0 for o in out)
    no_requests = [
        v[:, :0] if i in (0, 1) else v[:0] if i in (8, 9, 10) else v
        for i, v in enumerate(medium_day)
    ]
    expected = _run(NUMBA, no_requests)
    _assert_runs_equal(expected, _run(CYTHON, no_requests))
    assert int(expected[1][-1]) == 0
