"""The certificate's Cython kernels (``_certify``) against the numba kernels they port
(``tests/core/numba_reference.py``): the same outputs, dtypes and order on generated
inputs, on the calls the certified solve really makes, and on edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core import _certify as cy
from crowdship.core import flow
from crowdship.core.flow import certified_max_matching_min_cost, max_matching_min_cost
from crowdship.core.matcher import match
from crowdship.core.model import Requests, Trips
from crowdship.core.policies import MaxMatches
from crowdship.sim.scenarios import ScenarioParams, generate_scenario
from tests.core import numba_reference as nb

I64 = np.int64


def _same(got, expected):
    """Equal outputs: arrays of the same dtype and values (bitwise), scalars of the same
    Python type and value, tuples element by element."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _same(g, e)
    elif isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))
    else:
        assert type(got) is type(expected), (type(got), type(expected))
        assert got == expected


def _arrays(*values):
    return tuple(np.array(v, dtype=I64) for v in values)


TIED = st.integers(0, 4)


def _bipartite(data, costs=TIED, max_nodes=12, unique=True):
    """Random bipartite arcs (many tied costs by default), in any order."""
    n_t = data.draw(st.integers(1, max_nodes))
    n_r = data.draw(st.integers(1, max_nodes))
    pair = st.tuples(st.integers(0, n_t - 1), st.integers(0, n_r - 1))
    pairs = data.draw(st.lists(pair, unique=unique, max_size=60))
    cost = data.draw(st.lists(costs, min_size=len(pairs), max_size=len(pairs)))
    trip, request, cost = _arrays([t for t, _ in pairs], [r for _, r in pairs], cost)
    return n_t, n_r, trip, request, cost


def _mask(data, n):
    return np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


def _potential(data, n, span=8):
    return np.array(
        data.draw(st.lists(st.integers(-span, span), min_size=n, max_size=n)), dtype=I64
    )


def _matching(data, n_t, n_r, trip, request):
    """A matching drawn arc by arc in a drawn order (cheapest or not)."""
    used = np.zeros(len(trip), dtype=bool)
    if len(trip):
        mate = np.full(n_t, -1, dtype=I64)
        taken = np.zeros(n_r, dtype=bool)
        for a in data.draw(st.permutations(range(len(trip)))):
            if mate[trip[a]] < 0 and not taken[request[a]] and data.draw(st.booleans()):
                mate[trip[a]] = a
                taken[request[a]] = True
        used[mate[mate >= 0]] = True
    return used


# ------------------------------------------------------------------ kernel by kernel


@settings(max_examples=60, deadline=None)
@given(group=st.lists(st.integers(0, 6), max_size=50), extra=st.integers(0, 3))
def test_group_offsets(group, extra):
    array = np.array(group, dtype=I64)
    n_groups = (max(group) + 1 if group else 0) + extra
    _same(cy._group_offsets(array, n_groups), nb._group_offsets(array, n_groups))


@settings(max_examples=100, deadline=None)
@given(parent=st.lists(st.integers(-1, 7), min_size=0, max_size=8))
def test_parent_cycle(parent):
    array = np.array([p if p < len(parent) else -1 for p in parent], dtype=I64)
    _same(cy._parent_cycle(array), nb._parent_cycle(array))


def _graph(data, n, costs):
    arcs = data.draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
            max_size=4 * n,
        )
    )
    tails, heads = _arrays([a for a, _ in arcs], [b for _, b in arcs])
    weights = np.array(
        data.draw(st.lists(costs, min_size=len(arcs), max_size=len(arcs))), dtype=I64
    )
    return tails, heads, weights


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(1, 10))
def test_label_correcting(data, n):
    """Any graph (self-loops, parallel arcs, negative cycles), any labels: the same
    distances, to the point where a negative cycle stops the search, and the same flag."""
    tails, heads, costs = _graph(data, n, st.integers(-12, 30))
    labels = data.draw(st.lists(st.one_of(st.none(), st.integers(-20, 20)), min_size=n, max_size=n))
    start = np.array([nb.UNREACHED if x is None else x for x in labels], dtype=I64)
    _same(
        cy.label_correcting(n, tails, heads, costs, start),
        nb.label_correcting(n, tails, heads, costs, start),
    )
    order, offsets = nb._group_offsets(tails, n)
    for grouping in (order, np.zeros(0, dtype=I64)):
        if len(grouping) == 0:  # arcs in tail order, no order array
            by_tail = np.argsort(tails, kind="stable")
            args = (n, offsets, grouping, heads[by_tail], costs[by_tail], start)
        else:
            args = (n, offsets, grouping, heads, costs, start)
        _same(cy._label_correcting(*args), nb._label_correcting(*args))


@pytest.mark.parametrize("n", [1, 2, 50, 20_000])
def test_label_correcting_on_rings(n):
    """A ring with one negative arc (a negative cycle iff the ring costs < 0), from one
    label and from all: found the same way, with the same labels at that point; and a
    ring that pushes nodes past ``n_nodes`` improvements (the first-in first-out end)."""
    tails = np.arange(n, dtype=I64)
    heads = (tails + 1) % n
    for last in (-n, -n + 1, -n + 2):
        costs = np.ones(n, dtype=I64)
        costs[-1] = last
        for start in (np.zeros(n, dtype=I64), np.full(n, nb.UNREACHED, dtype=I64)):
            start[0] = 0
            _same(
                cy.label_correcting(n, tails, heads, costs, start),
                nb.label_correcting(n, tails, heads, costs, start),
            )


def test_label_correcting_edge_cases():
    empty = np.zeros(0, dtype=I64)
    _same(cy.label_correcting(0, empty, empty, empty, empty), (empty, True))
    _same(
        cy.label_correcting(0, empty, empty, empty, empty),
        nb.label_correcting(0, empty, empty, empty, empty),
    )
    unreached = np.full(3, nb.UNREACHED, dtype=I64)
    tails, heads, costs = _arrays([0, 1], [1, 2], [-5, -5])
    _same(
        cy.label_correcting(3, tails, heads, costs, unreached),
        nb.label_correcting(3, tails, heads, costs, unreached),
    )
    assert cy.UNREACHED == nb.UNREACHED and type(cy.UNREACHED) is type(nb.UNREACHED)


def _first_unprovable(n_t, n_r, trip, request, cost, used):
    """The first node whose potential the residual graph leaves open (status 2), from the
    residual graph's one list of arcs and numba's searches (where the kernels stop filling
    their potentials)."""
    source, sink, n_nodes = n_t + n_r, n_t + n_r + 1, n_t + n_r + 2
    matched = np.zeros(n_t + n_r, dtype=bool)
    matched[trip[used]] = True
    matched[n_t + request[used]] = True
    ends = np.arange(n_t + n_r)
    out = matched == (ends < n_t)
    end = np.where(ends < n_t, source, sink)
    tails = np.concatenate((np.where(used, n_t + request, trip), np.where(out, ends, end))).astype(
        I64
    )
    heads = np.concatenate((np.where(used, trip, n_t + request), np.where(out, end, ends))).astype(
        I64
    )
    costs = np.concatenate((np.where(used, -cost, cost), np.zeros(n_t + n_r, I64)))
    start = np.full(n_nodes, nb.UNREACHED, dtype=I64)
    start[source] = 0
    forward, _ = nb.label_correcting(n_nodes, tails, heads, costs, start)
    start = np.where(forward < nb.UNREACHED, -forward, nb.UNREACHED)
    backward, _ = nb.label_correcting(n_nodes, heads, tails, costs, start)
    return int(np.flatnonzero((forward >= nb.UNREACHED) & (backward >= nb.UNREACHED))[0])


def _same_potentials(got, expected, arcs):
    """:func:`residual_potentials`'s answer; with status 2 the potentials are filled only
    before the first node left open (the rest is uninitialised memory in both)."""
    if expected[1] == 2:
        _same(got[1], expected[1])
        assert got[0].dtype == expected[0].dtype and got[0].shape == expected[0].shape
        first = _first_unprovable(*arcs)
        _same(got[0][:first], expected[0][:first])
    else:
        _same(got, expected)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_residual_potentials(data):
    """Any matching on any arcs (parallel arcs too): statuses 0, 1 and 2, the potentials,
    or the labels where the negative cycle was found."""
    n_t, n_r, trip, request, cost = _bipartite(
        data, st.integers(-6, 15), max_nodes=10, unique=data.draw(st.booleans())
    )
    used = _matching(data, n_t, n_r, trip, request)
    args = (trip, request, cost, used, n_t, n_r)
    _same_potentials(
        cy.residual_potentials(*args),
        nb.residual_potentials(*args),
        (n_t, n_r, trip, request, cost, used),
    )


@settings(max_examples=80, deadline=None)
@given(data=st.data(), margin=st.integers(-3, 6))
def test_arcs_below_and_grouped(data, margin):
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 9))
    potential = _potential(data, n_t + n_r)
    skip = _mask(data, len(trip))
    args = (trip, request, cost, potential, n_t, skip, margin)
    _same(cy.arcs_below(*args), nb.arcs_below(*args))
    order = np.argsort(trip, kind="stable")
    trip, request, cost, skip = trip[order], request[order], cost[order], skip[order]
    offsets = np.concatenate(([0], np.cumsum(np.bincount(trip, minlength=n_t)))).astype(I64)
    args = (offsets, request, cost, potential, skip, margin)
    _same(cy.arcs_below_grouped(*args), nb.arcs_below_grouped(*args))


def test_arcs_below_on_many_arcs():
    """Enough arcs that every thread takes a share: the same arcs and the same count."""
    rng = np.random.default_rng(3)
    n_t, n_r, n = 700, 500, 200_000
    trip = np.sort(rng.integers(0, n_t, n))
    request = rng.integers(0, n_r, n)
    cost = rng.integers(0, 50, n)
    potential = rng.integers(-30, 30, n_t + n_r)
    skip = rng.random(n) < 0.3
    for margin in (-5, 0, 7):
        args = (trip, request, cost, potential, n_t, skip, margin)
        expected = nb.arcs_below(*args)
        assert expected[1] > 0
        _same(cy.arcs_below(*args), expected)
        offsets = np.searchsorted(trip, np.arange(n_t + 1)).astype(I64)
        args = (offsets, request, cost, potential, skip, margin)
        _same(cy.arcs_below_grouped(*args), nb.arcs_below_grouped(*args))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_merge_arcs(data):
    n = data.draw(st.integers(0, 40))
    side = data.draw(st.lists(st.sampled_from([0, 1, 2]), min_size=n, max_size=n))
    rng = np.random.default_rng(n)
    trip, request, cost = (rng.integers(-50, 50, n) for _ in range(3))
    subset = np.array([i for i in range(n) if side[i] == 1], dtype=I64)
    add = np.array([i for i in range(n) if side[i] == 2], dtype=I64)
    args = (subset, trip[subset], request[subset], cost[subset], add, trip, request, cost)
    _same(cy.merge_arcs(*args), nb.merge_arcs(*args))


@settings(max_examples=120, deadline=None)
@given(data=st.data(), k=st.integers(1, 5))
def test_cheapest_per_node(data, k):
    """Tied costs (a few values, or all equal), parallel arcs: the same arcs kept."""
    costs = st.integers(0, data.draw(st.sampled_from([0, 2, 4, 1000])))
    n_t, n_r, trip, request, cost = _bipartite(data, costs, unique=data.draw(st.booleans()))
    args = (trip, request, cost, n_t, n_r, k)
    _same(cy.cheapest_per_node(*args), nb.cheapest_per_node(*args))


def test_cheapest_per_node_edge_cases():
    empty = np.zeros(0, dtype=I64)
    _same(cy.cheapest_per_node(empty, empty, empty, 3, 2, 2), np.zeros(0, dtype=bool))
    _same(cy.cheapest_per_node(empty, empty, empty, 0, 0, 1), np.zeros(0, dtype=bool))
    trip, request, cost = _arrays([0, 0, 0, 0], [0, 1, 2, 1], [7, 7, 7, 7])
    for k in (1, 2, 3, 10):
        args = (trip, request, cost, 4, 3, k)
        _same(cy.cheapest_per_node(*args), nb.cheapest_per_node(*args))
    # No room at all (numba's buffers would be empty): nothing is kept.
    _same(cy.cheapest_per_node(trip, request, cost, 4, 3, 0), np.zeros(4, dtype=bool))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), k=st.integers(1, 4))
def test_most_negative_per_node(data, k):
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 9))
    potential = _potential(data, n_t + n_r, data.draw(st.sampled_from([0, 3, 8])))
    arcs = np.flatnonzero(_mask(data, len(trip))).astype(I64)
    args = (arcs, trip, request, cost, potential, n_t, n_r, k)
    _same(cy.most_negative_per_node(*args), nb.most_negative_per_node(*args))


@settings(max_examples=120, deadline=None)
@given(data=st.data(), margin=st.integers(-2, 6), grouped=st.booleans())
def test_certificate(data, margin, grouped):
    """A flow on a subset of the arcs (any matching: statuses 0, 1 and 2), every arc
    checked with the arcs grouped by trip (offsets) or not."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-4, 12), max_nodes=10)
    if grouped:
        order = np.argsort(trip, kind="stable")
        trip, request, cost = trip[order], request[order], cost[order]
    offsets = np.searchsorted(trip, np.arange(n_t + 1)).astype(I64) if grouped else np.zeros(0, I64)
    active = _mask(data, len(trip))
    subset = np.flatnonzero(active)
    small = (trip[subset], request[subset], cost[subset])
    used = _matching(data, n_t, n_r, *small[:2])
    args = (*small, used, n_t, n_r, offsets, trip, request, cost, active, margin)
    got, expected = cy.certificate(*args), nb.certificate(*args)
    _same_potentials(got[:2], expected[:2], (n_t, n_r, *small, used))
    _same(got[2:], expected[2:])


def test_empty_inputs():
    empty = np.zeros(0, dtype=I64)
    none = np.zeros(0, dtype=bool)
    for n_t, n_r in ((0, 0), (1, 0), (0, 2), (2, 3)):
        args = (empty, empty, empty, none, n_t, n_r)
        _same_potentials(
            cy.residual_potentials(*args),
            nb.residual_potentials(*args),
            (n_t, n_r, empty, empty, empty, none),
        )
        potential = np.zeros(n_t + n_r + 2, dtype=I64)
        args = (empty, empty, empty, potential, n_t, none, 0)
        _same(cy.arcs_below(*args), nb.arcs_below(*args))
        offsets = np.zeros(n_t + 1, dtype=I64)
        args = (offsets, empty, empty, potential, none, 0)
        _same(cy.arcs_below_grouped(*args), nb.arcs_below_grouped(*args))
        args = (empty, empty, empty, empty, potential, n_t, n_r, 3)
        _same(cy.most_negative_per_node(*args), nb.most_negative_per_node(*args))
        args = (empty, empty, empty, none, n_t, n_r, empty, empty, empty, empty, none, 1)
        got, expected = cy.certificate(*args), nb.certificate(*args)
        _same(got[1:], expected[1:])
    _same(cy.merge_arcs(*[empty] * 8), nb.merge_arcs(*[empty] * 8))
    _same(cy._group_offsets(empty, 0), nb._group_offsets(empty, 0))
    _same(cy._parent_cycle(empty), nb._parent_cycle(empty))


def test_read_only_inputs():
    """Arrays the caller cannot write (a view of a file, say) are accepted as they are (the
    numba kernels run on writable copies: read-only arrays would compile them anew)."""
    rng = np.random.default_rng(5)
    arrays = [rng.integers(0, n, 30) for n in (5, 4, 3)]
    expected = nb.cheapest_per_node(*arrays, 5, 4, 2)
    potential = rng.integers(-2, 3, 9)
    below = nb.arcs_below(*arrays, potential, 5, arrays[0] == 0, 1)
    for array in (*arrays, potential):
        array.flags.writeable = False
    _same(cy.cheapest_per_node(*arrays, 5, 4, 2), expected)
    _same(cy.arcs_below(*arrays, potential, 5, arrays[0] == 0, 1), below)


# ------------------------------------------------------- the calls the certified solve makes


def _compare_in_flow(monkeypatch):
    """The certified solve's kernels in ``flow`` replaced by both implementations, compared
    on every call (the Cython answer is the one the solve goes on with); counts the calls."""
    calls: dict[str, int] = {}

    def both(name):
        def call(*args):
            expected = getattr(nb, name)(*args)
            got = getattr(cy, name)(*args)
            if name == "certificate" and expected[1] == 2:
                _same(got[1:], expected[1:])
            else:
                _same(got, expected)
            calls[name] = calls.get(name, 0) + 1
            return got

        return call

    for name in ("certificate", "cheapest_per_node", "merge_arcs", "most_negative_per_node"):
        monkeypatch.setattr(flow, name, both(name))
    return calls


@pytest.fixture
def compared(monkeypatch):
    return _compare_in_flow(monkeypatch)


def test_certified_solve_calls(compared):
    """Random arc sets with few cost values, small batches (so rounds add arcs by
    :func:`most_negative_per_node`) and repairs or solves: every call agrees, and the solve
    still reaches OR-Tools' optimum."""
    rng = np.random.default_rng(17)
    for round_ in range(50):
        n_t, n_r = rng.integers(2, 40, 2)
        keys = rng.choice(n_t * n_r, size=rng.integers(1, n_t * n_r), replace=False)
        if round_ % 3 == 0:
            keys = np.sort(keys)  # grouped by trip
        trip, request = keys // n_r, keys % n_r
        cost = rng.integers(-2, int(rng.choice([2, 9, 400])), len(keys))
        reference = max_matching_min_cost(trip, request, cost)
        with pytest.MonkeyPatch.context() as patch:
            if round_ % 2:  # every round repaired
                patch.setattr(flow, "REPAIR_PATHS", 1.0)
                patch.setattr(flow, "REPAIR_SHARE", 1e9)
            solution, _ = certified_max_matching_min_cost(
                trip,
                request,
                cost,
                n_t,
                n_r,
                int(rng.integers(1, 4)),
                batch=int(rng.integers(1, 6)),
            )
        assert (len(solution.selected), solution.total_cost) == (
            len(reference.selected),
            reference.total_cost,
        )
    assert compared.get("most_negative_per_node", 0) > 10
    assert compared["certificate"] > 50


def _integer_day(trips, requests, travel):
    """Coordinates and times rounded to whole km and minutes (many equal costs)."""
    origin, destination = np.rint(trips.origin), np.rint(trips.destination)
    departure = np.rint(trips.earliest_departure)
    minutes = travel.pairwise(origin, destination)
    earliest = np.rint(requests.earliest_pickup)
    return (
        Trips.from_columns(
            trips.ids, origin, destination, departure, departure + np.ceil(minutes * 4 / 3)
        ),
        Requests.from_columns(
            requests.ids,
            np.rint(requests.pickup),
            np.rint(requests.delivery),
            earliest,
            np.maximum(np.rint(requests.latest_delivery), earliest),
        ),
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_trips=st.integers(1, 80),
    n_requests=st.integers(1, 60),
    city=st.sampled_from([6.0, 10.0, 20.0]),
    integer=st.booleans(),
    keep=st.integers(1, 4),
)
def test_matcher_days(seed, n_trips, n_requests, city, integer, keep):
    """Small generated days through :func:`match`, certified from the first pair on: every
    kernel call agrees (the monkeypatch is set up inside, as Hypothesis runs many
    examples per test)."""
    day = generate_scenario(
        ScenarioParams(trips=n_trips, requests=n_requests, city_km=city, trip_km=(1.0, 100.0)),
        seed,
    )
    trips, requests = day.trips, day.requests
    if integer:
        trips, requests = _integer_day(trips, requests, day.travel)
    with pytest.MonkeyPatch.context() as patch:
        calls = _compare_in_flow(patch)
        result = match(
            trips, requests, day.travel, policy=MaxMatches(certify_above=0, keep_per_node=keep)
        )
    certified = result.stats.feasible_pairs > 0
    assert calls.get("cheapest_per_node", 0) == int(certified)
    assert (calls.get("certificate", 0) >= 1) == certified


def test_a_larger_day():
    """A day of 1500 trips and 600 requests (tens of thousands of pairs, parallel loops
    over real arcs), certified with the defaults and with one arc a node."""
    day = generate_scenario(ScenarioParams(trips=1500, requests=600, city_km=15.0), 4)
    for keep in (1, 10):
        with pytest.MonkeyPatch.context() as patch:
            calls = _compare_in_flow(patch)
            result = match(
                day.trips,
                day.requests,
                day.travel,
                policy=MaxMatches(certify_above=0, keep_per_node=keep),
            )
        assert result.matched > 0
        assert calls["certificate"] >= 1
