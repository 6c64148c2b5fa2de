"""The Cython planar candidate search (``crowdship.core._planar``) against the numba kernel
it replaces (``tests/core/numba_reference.py``): the same pairs, in the same order, with the
same detours bit for bit, through the real caller (:func:`feasible_pairs`) on
generated and degenerate days, with and without the row table, with the rule's loops four
rows at a time (AVX) and one row at a time, and called directly on a medium day."""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdship.core import _planar, feasibility
from crowdship.core.feasibility import Limits, feasible_pairs
from crowdship.core.model import Requests, Trips
from crowdship.core.travel import PlanarTravel
from crowdship.sim.scenarios import ScenarioParams, generate_scenario
from tests.core import numba_reference

Kernel = Callable[..., None]
NUMBA: Kernel = numba_reference.planar_pairs
CYTHON: Kernel = _planar.planar_pairs


@contextmanager
def _avx(on: bool) -> Iterator[None]:
    previous = _planar._use_avx(on)
    try:
        yield
    finally:
        _planar._use_avx(previous)


@contextmanager
def _kernel(kernel: Kernel, avx: bool = True, row_table: bool = True) -> Iterator[None]:
    """``feasible_pairs`` with ``kernel`` as its planar search (and, unless ``row_table``,
    without the table of rows by delivery cell: binary searches instead)."""
    table_module = sys.modules[feasibility.delivery_row_table.__module__]
    with pytest.MonkeyPatch.context() as patch, _avx(avx):
        patch.setattr(feasibility, "planar_pairs", kernel)
        if not row_table:
            patch.setattr(table_module, "ROW_TABLE_CELLS", 0)
        yield


def _assert_same(expected: feasibility.FeasiblePairs, got: feasibility.FeasiblePairs) -> None:
    assert len(got) == len(expected)
    assert got.candidates == expected.candidates
    assert got.trip.dtype == got.request.dtype == np.int64
    assert got.detour.dtype == np.float64
    assert np.array_equal(got.trip, expected.trip)
    assert np.array_equal(got.request, expected.request)
    assert np.array_equal(got.detour.view(np.int64), expected.detour.view(np.int64))


def _check_day(
    trips: Trips,
    requests: Requests,
    travel: PlanarTravel,
    limits: Limits = feasibility.NO_LIMITS,
    row_table: bool = True,
) -> feasibility.FeasiblePairs:
    """The numba and the Cython search (both ways of running the rule) agree on a day."""
    with _kernel(NUMBA, row_table=row_table):
        expected = feasible_pairs(trips, requests, travel, limits=limits)
    for avx in (True, False):
        with _kernel(CYTHON, avx=avx, row_table=row_table):
            _assert_same(expected, feasible_pairs(trips, requests, travel, limits=limits))
    return expected


limits_strategy = st.builds(
    Limits,
    max_detour_min=st.none() | st.sampled_from([0.0, 3.0, 10.0, 25.0]),
    max_detour_fraction=st.none() | st.sampled_from([0.0, 0.2, 0.5]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_trips=st.integers(1, 120),
    n_requests=st.integers(1, 60),
    city_km=st.sampled_from([1.0, 8.0, 20.0, 60.0]),
    speed_kmh=st.sampled_from([20.0, 50.0, 60.0]),
    flexibility=st.sampled_from([0.0, 1 / 3, 1.0]),
    delivery_window=st.none() | st.sampled_from([0.0, 30.0, 120.0]),
    seed=st.integers(0, 2**16),
    limits=limits_strategy,
    row_table=st.booleans(),
)
def test_generated_days(
    n_trips, n_requests, city_km, speed_kmh, flexibility, delivery_window, seed, limits, row_table
):
    params = ScenarioParams(
        trips=n_trips,
        requests=n_requests,
        city_km=city_km,
        speed_kmh=speed_kmh,
        flexibility=flexibility,
        delivery_window=delivery_window,
        trip_km=(0.0, 2 * city_km),  # every draw in range
        trip_minutes=(0.0, 1e6),
    )
    scenario = generate_scenario(params, seed)
    _check_day(scenario.trips, scenario.requests, scenario.travel, limits, row_table)


def _grid_points(draw: st.DrawFn, n: int, side: int, step: float) -> np.ndarray:
    """``n`` points on a lattice (many on the grid's cell borders, many equal)."""
    coords = draw(st.lists(st.integers(0, side), min_size=2 * n, max_size=2 * n))
    return np.array(coords, dtype=np.float64).reshape(n, 2) * step


@st.composite
def lattice_days(draw: st.DrawFn) -> tuple[Trips, Requests, PlanarTravel, Limits]:
    """Days on a lattice, in whole minutes: ties in every distance, trips whose origin is
    their destination, zero-length windows, pickups at their delivery, one cell or many."""
    side = draw(st.sampled_from([0, 1, 3, 8, 40]))
    step = draw(st.sampled_from([0.25, 1.0, 3.0]))
    n_trips = draw(st.integers(1, 40))
    n_requests = draw(st.integers(1, 40))
    origin = _grid_points(draw, n_trips, side, step)
    destination = _grid_points(draw, n_trips, side, step)
    still = np.array(draw(st.lists(st.booleans(), min_size=n_trips, max_size=n_trips)))
    destination[still] = origin[still]
    departure = np.array(draw(st.lists(st.integers(0, 60), min_size=n_trips, max_size=n_trips)))
    slack = np.array(draw(st.lists(st.integers(0, 90), min_size=n_trips, max_size=n_trips)))
    pickup = _grid_points(draw, n_requests, side, step)
    delivery = _grid_points(draw, n_requests, side, step)
    here = np.array(draw(st.lists(st.booleans(), min_size=n_requests, max_size=n_requests)))
    delivery[here] = pickup[here]
    opens = np.array(draw(st.lists(st.integers(0, 60), min_size=n_requests, max_size=n_requests)))
    window = np.array(draw(st.lists(st.integers(0, 90), min_size=n_requests, max_size=n_requests)))
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(n_trips)],
        origin=origin,
        destination=destination,
        earliest_departure=departure.astype(np.float64),
        latest_arrival=(departure + slack).astype(np.float64),
    )
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n_requests)],
        pickup=pickup,
        delivery=delivery,
        earliest_pickup=opens.astype(np.float64),
        latest_delivery=(opens + window).astype(np.float64),
    )
    travel = PlanarTravel(
        speed_kmh=draw(st.sampled_from([15.0, 60.0])),
        detour_factor=draw(st.sampled_from([1.0, 1.3])),
    )
    return trips, requests, travel, draw(limits_strategy)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=lattice_days(), row_table=st.booleans())
def test_lattice_days_with_ties_and_degenerate_trips(day, row_table):
    trips, requests, travel, limits = day
    _check_day(trips, requests, travel, limits, row_table)


def test_a_day_with_many_cells():
    """A grid past the row table's size (about 1000 x 30 cells: binary searches), some
    trips spanning every column (the shadow's scratch at its largest)."""
    rng = np.random.default_rng(5)
    n_trips, n_requests = 300, 400
    pickup = np.column_stack((rng.uniform(0, 1000, n_requests), rng.uniform(0, 30, n_requests)))
    delivery = pickup + rng.normal(0, 2, (n_requests, 2))
    origin = np.column_stack((rng.uniform(0, 1000, n_trips), rng.uniform(0, 30, n_trips)))
    destination = origin + rng.normal(0, 3, (n_trips, 2))
    departure = rng.uniform(0, 60, n_trips)
    slack = rng.uniform(5, 20, n_trips)
    slack[:5] = 2000.0  # these reach across the whole region
    direct = np.hypot(*(destination - origin).T)
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(n_trips)],
        origin=origin,
        destination=destination,
        earliest_departure=departure,
        latest_arrival=departure + direct + slack,
    )
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n_requests)],
        pickup=pickup,
        delivery=delivery,
        earliest_pickup=np.zeros(n_requests),
        latest_delivery=np.full(n_requests, 3000.0),
    )
    travel = PlanarTravel(speed_kmh=60.0, detour_factor=1.0)
    found = _check_day(trips, requests, travel)
    assert len(found) > 1000
    assert np.unique(found.trip[found.trip < 5]).size == 5


def test_every_pickup_in_one_cell():
    """All pickups at one point (a single grid cell), deliveries anywhere."""
    rng = np.random.default_rng(8)
    n_trips, n_requests = 200, 150
    origin = rng.uniform(0, 10, (n_trips, 2))
    departure = rng.uniform(0, 30, n_trips)
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(n_trips)],
        origin=origin,
        destination=rng.uniform(0, 10, (n_trips, 2)),
        earliest_departure=departure,
        latest_arrival=departure + rng.uniform(5, 40, n_trips),
    )
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n_requests)],
        pickup=np.full((n_requests, 2), 4.0),
        delivery=rng.uniform(0, 10, (n_requests, 2)),
        earliest_pickup=rng.uniform(0, 30, n_requests),
        latest_delivery=np.full(n_requests, 90.0),
    )
    found = _check_day(trips, requests, PlanarTravel(speed_kmh=30.0, detour_factor=1.0))
    assert len(found) > 100


# ---------------------------------------------------------------- the kernel called directly


def _arguments(trips: Trips, requests: Requests, travel: PlanarTravel) -> list:
    """The planar search's inputs as :func:`feasible_pairs` passes them (without the
    pass flag, offsets, counts and outputs)."""
    captured = []

    def capture(*args):
        if not args[0]:
            captured.append(list(args[3:-3]))
        return NUMBA(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(feasibility, "planar_pairs", capture)
        feasible_pairs(trips, requests, travel)
    (arguments,) = captured
    return arguments


def _run(kernel: Kernel, arguments: list) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Both passes, as the caller runs them: counts, offsets, and the three outputs."""
    n_trips = len(arguments[0])
    counts = np.zeros(n_trips, dtype=np.int64)
    offsets = np.zeros(n_trips + 1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    assert kernel(False, offsets, counts, *arguments, none, none, np.zeros(0)) is None
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    out = (np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total))
    assert kernel(True, offsets, counts, *arguments, *out) is None
    return counts, offsets, out


def _assert_runs_equal(expected, got) -> None:
    assert np.array_equal(got[0], expected[0])
    assert np.array_equal(got[1], expected[1])
    for a, b in zip(expected[2], got[2], strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.fixture(scope="module")
def medium_day() -> list:
    scenario = generate_scenario(ScenarioParams(trips=3000, requests=1200), seed=3)
    return _arguments(scenario.trips, scenario.requests, scenario.travel)


@pytest.mark.parametrize("avx", [True, False])
def test_direct_call_on_a_medium_day(medium_day, avx):
    expected = _run(NUMBA, medium_day)
    assert int(expected[1][-1]) > 20_000
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
        np.repeat(v, 2, axis=0)[::2] if isinstance(v, np.ndarray) and v.ndim == 1 else v
        for v in medium_day
    ]
    assert not strided[4].flags.c_contiguous
    _assert_runs_equal(expected, _run(CYTHON, strided))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86's conversion")
@pytest.mark.parametrize("radius", [np.inf, np.nan, 1e300, -1.0])
def test_radii_out_of_range_read_as_numba_reads_them(medium_day, radius):
    """Radii no caller passes (infinite, NaN, past int64 in cells) take the grid cells
    numba's float-to-int conversion gives them; negative ones mean no pairs."""
    arguments = [v.copy() if isinstance(v, np.ndarray) else v for v in medium_day]
    arguments[3][::7] = radius
    _assert_runs_equal(_run(NUMBA, arguments), _run(CYTHON, arguments))


def test_no_trips():
    n_cells = 4
    empty = np.zeros(0)
    arguments = [
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        empty,
        empty,
        empty,
        empty,
        empty,
        np.array([0.5]),
        np.array([0.5]),
        np.array([1.0]),
        np.array([1.0]),
        np.array([0.0]),
        np.array([10.0]),
        np.array([0.7]),
        np.array([0], dtype=np.int64),
        np.array([0, 1, 1, 1, 1], dtype=np.int64),
        np.zeros((n_cells, 4)),
        np.array([3], dtype=np.int64),
        np.zeros((0, 0), dtype=np.int64),
        np.array([0, 1], dtype=np.int64),
        np.zeros(2),
        1.0,
        2,
        2,
        1.0,
        1e-6,
    ]
    counts, offsets, out = _run(CYTHON, arguments)
    assert counts.shape == (0,) and offsets.tolist() == [0]
    assert all(len(o) == 0 for o in out)
