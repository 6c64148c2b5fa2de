"""The Cython matching kernels (``crowdship.core._paths``) against the numba ones they were
ported from (``tests/core/numba_reference.py``): the same outputs, in the same order, with the
same in-place effects and the same float bits, on random bipartite graphs with many ties,
on the small problems the certified solve really builds, and on edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core import _paths as P
from crowdship.core import flow
from crowdship.core.matcher import match
from crowdship.core.policies import MaxMatches
from crowdship.sim.scenarios import ScenarioParams, generate_scenario
from tests.core import numba_reference as K

COSTS = {
    "tied": st.integers(0, 3),
    "signed": st.integers(-6, 15),
    "wide": st.integers(-(2**40), 2**40),
    "equal": st.just(7),
}


def _same(got, expected) -> bool:
    """Exactly equal: arrays of the same dtype and bits, scalars of the same type and value."""
    if isinstance(expected, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(expected)
            and all(_same(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray) or got.dtype != expected.dtype:
            return False
        if got.shape != expected.shape:
            return False
        if expected.dtype == np.float64:
            return np.array_equal(got.view(np.int64), expected.view(np.int64))
        return np.array_equal(got, expected)
    return type(got) is type(expected) and got == expected


def _copies(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _both(name, *args):
    """Call both kernels on copies of the arguments; assert the same results and the same
    in-place effects on every argument. Returns the results and the mutated arguments."""
    native_args, numba_args = _copies(args), _copies(args)
    got = getattr(P, name)(*native_args)
    expected = getattr(K, name)(*numba_args)
    assert _same(got, expected), name
    for g, e in zip(native_args, numba_args, strict=True):
        if isinstance(e, np.ndarray):
            assert _same(g, e), f"{name}: in-place effect differs"
    return got, native_args


@st.composite
def graphs(draw, max_nodes=12, max_arcs=60, costs=None, unique=None, grouped=None):
    """Random bipartite graphs: nodes without arcs, many tied costs, duplicate arcs unless
    ``unique``, arcs grouped by trip or in any order."""
    n_t = draw(st.integers(1, max_nodes))
    n_r = draw(st.integers(1, max_nodes))
    unique = draw(st.booleans()) if unique is None else unique
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_t - 1), st.integers(0, n_r - 1)),
            max_size=max_arcs,
            unique=unique,
        )
    )
    if grouped if grouped is not None else draw(st.booleans()):
        pairs.sort(key=lambda p: p[0])
    cost_values = costs if costs is not None else COSTS[draw(st.sampled_from(sorted(COSTS)))]
    cost = draw(st.lists(cost_values, min_size=len(pairs), max_size=len(pairs)))
    trip = np.array([t for t, _ in pairs], dtype=np.int64)
    request = np.array([r for _, r in pairs], dtype=np.int64)
    return n_t, n_r, trip, request, np.array(cost, dtype=np.int64)


_COST_RANGES = {"tied": (0, 4), "signed": (-2, 9), "spread": (0, 5000), "equal": (7, 8)}


@st.composite
def seeded_graphs(draw, max_nodes=40, unique=None):
    """Larger random graphs (up to ``max_nodes`` a side, any density) from a drawn seed:
    enough arcs for the certified solve's rounds and the repairs' paths to do real work."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_t = draw(st.integers(2, max_nodes))
    n_r = draw(st.integers(2, max_nodes))
    n_arcs = int(rng.integers(1, n_t * n_r + 1))
    unique = draw(st.booleans()) if unique is None else unique
    grouped = draw(st.booleans())
    low, high = _COST_RANGES[draw(st.sampled_from(sorted(_COST_RANGES)))]
    trip, request, _ = _random_graph(rng, n_t, n_r, n_arcs, 1, grouped, unique)
    return n_t, n_r, trip, request, rng.integers(low, high, len(trip)).astype(np.int64)


def _random_graph(rng, n_t, n_r, n_arcs, top, grouped, unique=True):
    if unique:
        keys = rng.choice(n_t * n_r, size=min(n_arcs, n_t * n_r), replace=False)
    else:
        keys = rng.integers(0, n_t * n_r, n_arcs)
    if grouped:
        keys.sort()
    trip, request = keys // n_r, keys % n_r
    return trip.astype(np.int64), request.astype(np.int64), rng.integers(0, top, len(keys))


# ------------------------------------------------------------------------ the small kernels


def test_module_constants():
    assert P.UNREACHED == K.UNREACHED
    assert type(P.UNREACHED) is type(K.UNREACHED)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.integers(-20, 20), max_size=80)
    | st.lists(st.integers(-(2**40), 2**40), max_size=80)
    # Spans below 2**63: numba's kernel computes the span in int64 and fails past it.
    | st.lists(st.integers(-(2**61), 2**61), max_size=20)
    | st.lists(st.integers(0, 400), min_size=0, max_size=200)
)
def test_stable_order(values):
    """Counting (a small span) or a stable sort (a wide one): numba's order, NumPy's
    stable argsort."""
    array = np.array(values, dtype=np.int64)
    got, _ = _both("stable_order", array)
    assert got.tolist() == np.argsort(array, kind="stable").tolist()


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=20))
def test_stable_order_over_the_whole_int64_range(values):
    """Spans up to 2**64 - 1, where numba's kernel fails (its span overflows): NumPy's stable
    argsort's order."""
    array = np.array(values, dtype=np.int64)
    assert P.stable_order(array).tolist() == np.argsort(array, kind="stable").tolist()


def test_stable_order_at_the_counting_limit():
    """Spans just inside and just outside ``4 n + 1024`` (counting, then sorting)."""
    rng = np.random.default_rng(1)
    for n in (1, 2, 50, 1000):
        for span in (4 * n + 1023, 4 * n + 1024, 4 * n + 1025, 4 * n + 1026):
            values = rng.integers(0, 3, n) - 5
            values[0] = -5
            values[-1] = -5 + span
            _both("stable_order", values.astype(np.int64))


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(st.integers(0, 6), max_size=40), n_more=st.integers(0, 3), sort=st.booleans()
)
def test_group_offsets_and_trip_groups(groups, n_more, sort):
    group = np.array(sorted(groups) if sort else groups, dtype=np.int64)
    _both("_group_offsets", group, 7 + n_more)
    offsets, order = _both("trip_groups", group, 7 + n_more)[0]
    assert (len(order) == 0) == (sort or bool(np.all(np.diff(group) >= 0)))


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(st.one_of(st.integers(-50, 50), st.none()), max_size=200))
def test_heap(ops):
    """The 4-ary heap: the same returns and the same arrays after every push and pop."""
    native = (np.zeros(len(ops) + 1, np.int64), np.zeros(len(ops) + 1, np.int64))
    numba = (native[0].copy(), native[1].copy())
    size = 0
    for step, op in enumerate(ops):
        if op is None:
            if size == 0:
                continue
            got = P._heap_pop(*native, size)
            expected = K._heap_pop(*numba, size)
            assert _same(got, expected)
            size = got[2]
        else:
            got = P._heap_push(*native, size, op, step)
            expected = K._heap_push(*numba, size, op, step)
            assert _same(got, expected)
            size = got
        assert _same(native[0], numba[0]) and _same(native[1], numba[1])


_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**7), 10**7).map(
    lambda k: k / 2000
)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(_FLOATS, max_size=60),
    scale=st.sampled_from([1000.0, 1.0, 0.5, 2000.0, 1e-3, 3.0]),
)
def test_rounded_multiple(values, scale):
    """Halves to even, signs, zeros, NaN, infinities and values beyond int64: the same bits."""
    array = np.array(values, dtype=np.float64)
    _both("rounded_multiple", array, scale)


def test_rounded_multiple_large_and_special():
    """Millions of values (the parallel loop over every thread), exact halves, -0.0, and
    the values beyond int64 (whatever the conversion gives, the same)."""
    rng = np.random.default_rng(3)
    minutes = rng.exponential(3.0, 2_000_003)
    minutes[::7] = np.round(minutes[::7] * 2000) / 2000  # exact halves of a unit
    _both("rounded_multiple", minutes, 1000.0)
    special = np.array(
        [0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, 2.0**52, 2.0**62, 2.0**63, -(2.0**63), 1e300,
         -1e300, np.inf, -np.inf, np.nan, 5e-324, 4503599627370495.5],
        dtype=np.float64,
    )  # fmt: skip
    _both("rounded_multiple", special, 1.0)
    _both("rounded_multiple", special, 1000.0)
    _both("rounded_multiple", np.zeros(0), 1000.0)


# ------------------------------------------------------------------------- the matchings


@settings(max_examples=150, deadline=None)
@given(graph=graphs(), bound_shift=st.integers(-3, 2))
def test_greedy_and_cheap_matching(graph, bound_shift):
    n_t, n_r, trip, request, cost = graph
    _both("greedy_matching", cost, trip, request, n_t, n_r)
    bound = max(0, min(n_t, n_r) + bound_shift)
    _both("cheap_matching", cost, trip, request, n_t, n_r, bound)


@settings(max_examples=150, deadline=None)
@given(
    graph=graphs(max_nodes=14) | seeded_graphs(),
    start=st.sampled_from(["empty", "greedy", "partial"]),
    bound_shift=st.integers(-3, 2),
    drop=st.randoms(use_true_random=False),
)
def test_maximum_matching(graph, start, bound_shift, drop):
    """From no matching, the greedy one or part of it, with a bound at, below or above the
    largest size: the same size and the same matching, grown in place."""
    n_t, n_r, trip, request, cost = graph
    mate = np.full(n_t, -1, dtype=np.int64)
    if start != "empty":
        mate = K.greedy_matching(cost, trip, request, n_t, n_r)
        if start == "partial":
            mate = np.array([m if drop.random() < 0.5 else -1 for m in mate], dtype=np.int64)
    offsets, order = K.trip_groups(trip, n_t)
    bound = max(0, min(n_t, n_r) + bound_shift)
    _both("maximum_matching", offsets, order, request, n_r, mate, bound)
    # The arcs grouped by trip but passed with an explicit order (the identity).
    if len(order) == 0:
        identity = np.arange(len(trip), dtype=np.int64)
        _both("maximum_matching", offsets, identity, request, n_r, mate, bound)


@settings(max_examples=150, deadline=None)
@given(graph=graphs(max_nodes=14) | seeded_graphs())
def test_sparse_assignment(graph):
    n_t, n_r, trip, request, cost = graph
    _both("sparse_assignment", trip, request, cost, n_t, n_r)


@settings(max_examples=120, deadline=None)
@given(
    graph=graphs(max_nodes=12),
    by_request=st.booleans(),
    laid_out=st.booleans(),
    shuffle=st.randoms(use_true_random=False),
)
def test_shortest_augmenting_paths(graph, by_request, laid_out, shuffle):
    """Rows on either side, arcs laid out row by row or reached through ``row_arcs``, rows
    in any order."""
    n_t, n_r, trip, request, cost = graph
    rows, cols, n_rows, n_cols = (
        (request, trip, n_r, n_t) if by_request else (trip, request, n_t, n_r)
    )
    row_arcs, offsets = K._group_offsets(rows, n_rows)
    if laid_out:
        rows, cols, cost = rows[row_arcs], cols[row_arcs], cost[row_arcs]
        row_arcs = np.zeros(0, dtype=np.int64)
    top = int(np.abs(cost).max()) if len(cost) else 0
    big = (top + 1) * (2 * n_rows + 2)
    row_order = list(range(n_rows))
    shuffle.shuffle(row_order)
    row_order = np.array(row_order, dtype=np.int64)
    _both("shortest_augmenting_paths", offsets, row_arcs, rows, cols, cost, n_cols, big, row_order)


@settings(max_examples=100, deadline=None)
@given(
    graph=graphs(max_nodes=14, max_arcs=70, unique=True) | seeded_graphs(unique=True),
    k=st.integers(1, 3),
    max_paths=st.sampled_from([0, 1, 2, 1000]),
    budget=st.sampled_from([0, 3, 40, 10**9]),
    maximum=st.booleans(),
)
def test_repair_flow(graph, k, max_paths, budget, maximum):
    """A flow proven cheapest on each node's k cheapest arcs (of the largest value on all
    arcs, or not: then two free ends may meet), then every arc joins: the same answer, the
    same ``used`` and ``potential`` after it, whether repaired or given up (on the paths,
    the budget or free ends)."""
    n_t, n_r, trip, request, cost = graph
    if len(trip) == 0:
        return
    proven = _proven_flow(trip, request, cost, n_t, n_r, k, maximum)
    if proven is None:
        return
    used, potential = proven
    _both("repair_flow", n_t, n_r, trip, request, cost, used, potential, max_paths, budget)


def _proven_flow(trip, request, cost, n_t, n_r, k, maximum):
    """A flow proven cheapest on each node's ``k`` cheapest arcs (and, if ``maximum``, the
    arcs of a maximum matching of all arcs), with the certificate's potentials; None where
    they do not exist."""
    small = K.cheapest_per_node(trip, request, cost, n_t, n_r, k)
    if maximum:
        offsets, order = K.trip_groups(trip, n_t)
        mate = np.full(n_t, -1, dtype=np.int64)
        K.maximum_matching(offsets, order, request, n_r, mate, n_t + n_r)
        small[mate[mate >= 0]] = True
    subset = np.flatnonzero(small)
    solved = flow.max_matching_min_cost(trip[subset], request[subset], cost[subset])
    chosen = subset[solved.selected]
    sub_used = np.zeros(len(subset), dtype=bool)
    sub_used[np.searchsorted(subset, chosen)] = True
    potential, status = K.residual_potentials(
        trip[subset], request[subset], cost[subset], sub_used, n_t, n_r
    )
    if status != 0:
        return None
    used = np.zeros(len(trip), dtype=bool)
    used[chosen] = True
    return used, potential


def test_repair_flow_on_many_graphs():
    """Hundreds of seeded graphs with every limit: repairs that move units along real
    paths, and every way of giving up (free ends, too many paths, the budget) reached."""
    rng = np.random.default_rng(2024)
    outcomes = set()
    for case in range(400):
        n_t, n_r = (int(x) for x in rng.integers(2, 40, 2))
        n_arcs = int(rng.integers(1, n_t * n_r + 1))
        trip, request, cost = _random_graph(rng, n_t, n_r, n_arcs, 9, bool(case % 2))
        cost -= 2
        proven = _proven_flow(trip, request, cost, n_t, n_r, 1 + case % 3, case % 5 != 0)
        if proven is None:
            continue
        used, potential = proven
        max_paths = (0, 1, 3, 10**6)[case % 4]
        budget = (10**9, 10**9, 30, 0)[(case // 4) % 4]
        (repaired, scanned), _ = _both(
            "repair_flow", n_t, n_r, trip, request, cost, used, potential, max_paths, budget
        )
        outcomes.add((repaired, scanned > 0))
    assert outcomes == {(True, True), (True, False), (False, False), (False, True)}


# ------------------------------------------------------------------------------ edge cases


def test_edge_cases():
    """No arcs, one arc, nodes without arcs, all costs equal, a single node a side."""
    empty = np.zeros(0, dtype=np.int64)
    _both("stable_order", empty)
    _both("_group_offsets", empty, 0)
    _both("_group_offsets", empty, 3)
    _both("trip_groups", empty, 0)
    _both("trip_groups", empty, 4)
    _both("greedy_matching", empty, empty, empty, 3, 2)
    _both("greedy_matching", empty, empty, empty, 0, 0)
    _both("cheap_matching", empty, empty, empty, 3, 2, 2)
    _both("cheap_matching", empty, empty, empty, 0, 0, 0)
    _both("maximum_matching", np.zeros(4, np.int64), empty, empty, 2, np.full(3, -1), 2)
    _both("maximum_matching", np.zeros(1, np.int64), empty, empty, 0, empty, 0)
    _both("sparse_assignment", empty, empty, empty, 3, 2)
    _both("shortest_augmenting_paths", np.zeros(3, np.int64), empty, empty, empty, empty, 4, 1,
          np.arange(2))  # fmt: skip
    _both("repair_flow", 2, 3, empty, empty, empty, np.zeros(0, bool), np.zeros(7, np.int64),
          5, 100)  # fmt: skip
    # No nodes at all: the rows' least cost is taken of an empty array, both refuse.
    with pytest.raises(ValueError):
        K.sparse_assignment(empty, empty, empty, 0, 0)
    with pytest.raises(ValueError):
        P.sparse_assignment(empty, empty, empty, 0, 0)
    one = np.zeros(1, dtype=np.int64)
    for n_t, n_r in ((1, 1), (3, 5), (5, 3)):
        arc = (one + n_t - 1, one + n_r - 1, one + 42)
        _both("stable_order", arc[2])
        _both("greedy_matching", arc[2], arc[0], arc[1], n_t, n_r)
        _both("cheap_matching", arc[2], arc[0], arc[1], n_t, n_r, 1)
        _both("sparse_assignment", *arc, n_t, n_r)
        offsets, order = K.trip_groups(arc[0], n_t)
        _both("maximum_matching", offsets, order, arc[1], n_r, np.full(n_t, -1), 1)
    # All costs equal, complete and near-complete graphs: every tie decided by position.
    rng = np.random.default_rng(5)
    for n_t, n_r in ((30, 30), (40, 17), (9, 50)):
        for grouped in (True, False):
            trip, request, _ = _random_graph(rng, n_t, n_r, n_t * n_r, 1, grouped)
            cost = np.full(len(trip), 1000, dtype=np.int64)
            _both("greedy_matching", cost, trip, request, n_t, n_r)
            _both("cheap_matching", cost, trip, request, n_t, n_r, min(n_t, n_r))
            _both("sparse_assignment", trip, request, cost, n_t, n_r)
            offsets, order = K.trip_groups(trip, n_t)
            _both("maximum_matching", offsets, order, request, n_r, np.full(n_t, -1), n_t)


def test_read_only_inputs():
    """Inputs the kernels only read may be read-only arrays (views of a frozen day)."""
    rng = np.random.default_rng(8)
    trip, request, cost = _random_graph(rng, 30, 20, 200, 6, False)
    minutes = rng.exponential(2.0, 100)
    for array in (trip, request, cost, minutes):
        array.setflags(write=False)
    _both("stable_order", cost)
    _both("trip_groups", trip, 30)
    _both("cheap_matching", cost, trip, request, 30, 20, 20)
    _both("sparse_assignment", trip, request, cost, 30, 20)
    _both("rounded_multiple", minutes, 1000.0)
    offsets, order = K.trip_groups(trip, 30)
    offsets.setflags(write=False)
    order.setflags(write=False)
    _both("maximum_matching", offsets, order, request, 20, np.full(30, -1), 20)


def test_larger_random_graphs():
    """Thousands of nodes and tens of thousands of arcs, tied integer costs, arcs grouped
    by trip or shuffled (duplicates too): every kernel of the path."""
    rng = np.random.default_rng(11)
    for n_t, n_r, n_arcs, top, grouped, unique in (
        (2000, 800, 30_000, 40, True, True),
        (2000, 800, 30_000, 40, False, True),
        (600, 1500, 20_000, 5, False, False),
        (1000, 1000, 8_000, 10**9, True, True),
    ):
        trip, request, cost = _random_graph(rng, n_t, n_r, n_arcs, top, grouped, unique)
        _both("stable_order", cost)
        mate, size = _both("cheap_matching", cost, trip, request, n_t, n_r, min(n_t, n_r))[0]
        offsets, order = _both("trip_groups", trip, n_t)[0]
        start = np.where(rng.random(n_t) < 0.5, mate, -1)
        _both("maximum_matching", offsets, order, request, n_r, start, min(n_t, n_r))
        _both("sparse_assignment", trip, request, cost, n_t, n_r)


# --------------------------------------------------- the certified solve, as it calls them


_FLOW_NAMES = (
    "cheap_matching",
    "maximum_matching",
    "trip_groups",
    "sparse_assignment",
    "repair_flow",
    "rounded_multiple",
)


def _compare_kernels(monkeypatch):
    """Every kernel ``flow`` calls runs twice, numba on copies and Cython on the caller's
    arrays: the same results and in-place effects asserted; the calls counted by name."""
    calls = dict.fromkeys(_FLOW_NAMES, 0)

    def wrapper(name):
        def call(*args):
            numba_args = _copies(args)
            expected = getattr(K, name)(*numba_args)
            got = getattr(P, name)(*args)
            assert _same(got, expected), name
            for g, e in zip(args, numba_args, strict=True):
                if isinstance(e, np.ndarray):
                    assert _same(g, e), f"{name}: in-place effect differs"
            calls[name] += 1
            return got

        return call

    for name in _FLOW_NAMES:
        monkeypatch.setattr(flow, name, wrapper(name))
    return calls


@settings(max_examples=100, deadline=None)
@given(
    graph=graphs(max_nodes=14, max_arcs=80, unique=True) | seeded_graphs(unique=True),
    k=st.integers(1, 3),
    batch=st.integers(1, 5),
    repair_always=st.booleans(),
)
def test_certified_solve_calls_agree(graph, k, batch, repair_always):
    """The certified solve on random graphs (tiny batches, few arcs kept: many rounds and
    repairs): every kernel call gives both implementations' same answer."""
    n_t, n_r, trip, request, cost = graph
    with pytest.MonkeyPatch.context() as patch:
        calls = _compare_kernels(patch)
        if repair_always:
            patch.setattr(flow, "REPAIR_PATHS", 1.0)
            patch.setattr(flow, "REPAIR_SHARE", 1e9)
        flow.certified_max_matching_min_cost(
            trip, request, cost, n_t, n_r, keep_per_node=k, batch=batch
        )
        flow.to_units(cost / 7.0)
    assert len(trip) == 0 or calls["cheap_matching"] == 1


@pytest.mark.parametrize(
    ("seed", "n_trips", "n_requests", "city", "ties", "hotspots"),
    [
        (0, 300, 120, 10.0, False, False),
        (1, 250, 200, 6.0, True, False),
        (2, 400, 150, 20.0, False, True),
        (3, 120, 300, 10.0, False, False),
        (4, 300, 120, 6.0, True, True),
    ],
)
def test_matcher_calls_agree(seed, n_trips, n_requests, city, ties, hotspots):
    """Small generated days (planar, integer coordinates for ties, deliveries crowded into
    hotspots) matched with the certified solve from the first pair on, keeping few arcs a
    node: every kernel call the match makes agrees."""
    params = ScenarioParams(
        trips=n_trips,
        requests=n_requests,
        city_km=city,
        flexibility=1.0 if hotspots else 1 / 3,
        departure_profile="commuter",
        speed_kmh=50,
        detour_factor=1.0,
        trip_km=(1.0, 100.0),
    )
    day = generate_scenario(params, seed)
    trips, requests, travel = day.trips, day.requests, day.travel
    if ties:
        from crowdship.core.model import Requests, Trips

        origin, destination = np.rint(trips.origin), np.rint(trips.destination)
        departure = np.rint(trips.earliest_departure)
        minutes = travel.pairwise(origin, destination)
        trips = Trips.from_columns(
            trips.ids, origin, destination, departure, departure + np.ceil(minutes * 4 / 3)
        )
        earliest = np.rint(requests.earliest_pickup)
        requests = Requests.from_columns(
            requests.ids,
            np.rint(requests.pickup),
            np.rint(requests.delivery),
            earliest,
            np.maximum(np.rint(requests.latest_delivery), earliest),
        )
    if hotspots:
        from crowdship.core.model import Requests

        rng = np.random.default_rng(seed)
        campus = rng.uniform(0.3 * city, 0.7 * city, size=(2, 2))
        spot = campus[rng.integers(0, 2, len(requests))] + rng.normal(0, 0.2, (len(requests), 2))
        requests = Requests.from_columns(
            requests.ids,
            requests.pickup,
            spot,
            requests.earliest_pickup,
            requests.latest_delivery,
        )
    with pytest.MonkeyPatch.context() as patch:
        calls = _compare_kernels(patch)
        match(trips, requests, travel, policy=MaxMatches(certify_above=0, keep_per_node=2))
        patch.setattr(flow, "REPAIR_PATHS", 1.0)
        patch.setattr(flow, "REPAIR_SHARE", 1e9)
        match(trips, requests, travel, policy=MaxMatches(certify_above=0, keep_per_node=1))
    assert calls["rounded_multiple"] == 2
    assert calls["cheap_matching"] == 2
