"""The certified sparse solve against OR-Tools on all arcs, on every family of days, and the
pieces it is built from against independent ones (SciPy)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import NegativeCycleError, bellman_ford, maximum_bipartite_matching

from crowdship.core._certify import (
    UNREACHED,
    arcs_below,
    arcs_below_grouped,
    cheapest_per_node,
    label_correcting,
    merge_arcs,
    most_negative_per_node,
    residual_potentials,
)
from crowdship.core._paths import (
    _heap_pop,
    _heap_push,
    maximum_matching,
    repair_flow,
    stable_order,
    trip_groups,
)
from crowdship.core.feasibility import all_pairs
from crowdship.core.flow import (
    certified_max_matching_min_cost,
    max_matching_min_cost,
    sparse_max_matching_min_cost,
    to_units,
)
from crowdship.core.matcher import match
from crowdship.core.model import Requests, Trips
from crowdship.core.policies import MaxMatches
from crowdship.sim.scenarios import ScenarioParams, generate_scenario


def _bipartite(data, costs, max_nodes=12):
    n_t = data.draw(st.integers(1, max_nodes))
    n_r = data.draw(st.integers(1, max_nodes))
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n_t - 1), st.integers(0, n_r - 1)), unique=True)
    )
    cost = data.draw(st.lists(costs, min_size=len(pairs), max_size=len(pairs)))
    trip = np.array([t for t, _ in pairs], dtype=np.int64)
    request = np.array([r for _, r in pairs], dtype=np.int64)
    return n_t, n_r, trip, request, np.array(cost, dtype=np.int64)


def _max_cardinality(n_t, n_r, trip, request):
    if len(trip) == 0:
        return 0
    graph = csr_matrix((np.ones(len(trip)), (trip, request)), shape=(n_t, n_r))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_maximum_matching_has_scipys_size(data):
    """Hopcroft-Karp from an empty start reaches SciPy's maximum size, with arcs grouped by
    trip or not, and with its bound either past that size or at it (it stops there)."""
    n_t, n_r, trip, request, _ = _bipartite(data, st.integers(-5, 40))
    if data.draw(st.booleans()):
        order = np.argsort(trip, kind="stable")
        trip, request = trip[order], request[order]
    offsets, order = trip_groups(trip, n_t)
    mate = np.full(n_t, -1, dtype=np.int64)
    largest = _max_cardinality(n_t, n_r, trip, request)
    bound = largest if data.draw(st.booleans()) else n_t + n_r
    size = maximum_matching(offsets, order, request, n_r, mate, bound)
    assert size == largest == int((mate >= 0).sum())
    used = mate[mate >= 0]
    assert (trip[used] == np.flatnonzero(mate >= 0)).all()  # each trip's own arc
    assert len(set(request[used].tolist())) == len(used)  # each request once


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_label_correcting_equals_scipy_from_labelled_nodes(data):
    """Distances from a set of labelled nodes (a virtual root with arcs of the labels) equal
    SciPy's Bellman-Ford, or both find a negative cycle reachable from them."""
    n = data.draw(st.integers(1, 10))
    arcs = data.draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda a: a[0] != a[1]),
            unique=True,
        )
    )
    costs = np.array(
        data.draw(
            st.lists(st.integers(-10, 30).filter(bool), min_size=len(arcs), max_size=len(arcs))
        ),
        dtype=np.int64,
    )
    labels = data.draw(st.lists(st.one_of(st.none(), st.integers(-20, 20)), min_size=n, max_size=n))
    tails = np.array([a for a, _ in arcs], dtype=np.int64)
    heads = np.array([b for _, b in arcs], dtype=np.int64)
    start = np.array([UNREACHED if x is None else x for x in labels], dtype=np.int64)
    dist, converged = label_correcting(n, tails, heads, costs, start)
    # SciPy: root n with an arc of (label + shift) to each labelled node; the shift keeps
    # every arc non-zero (SciPy drops explicit zeros) and is taken off again.
    labelled = np.flatnonzero(start < UNREACHED)
    shift = 1000
    rows = np.concatenate((tails, np.full(len(labelled), n)))
    cols = np.concatenate((heads, labelled))
    data_ = np.concatenate((costs, start[labelled] + shift)).astype(float)
    graph = csr_matrix((data_, (rows, cols)), shape=(n + 1, n + 1))
    try:
        expected = bellman_ford(graph, indices=n)[:n] - shift
    except NegativeCycleError:
        expected = None
    if expected is None:
        # SciPy looks at every cycle reachable from the root: ours may miss none of those.
        assert not converged
        return
    assert converged
    reached = np.isfinite(expected)
    assert (dist[~reached] == UNREACHED).all()
    assert dist[reached].tolist() == expected[reached].astype(np.int64).tolist()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), k=st.integers(1, 4))
def test_cheapest_per_node_keeps_each_sides_k_cheapest(data, k):
    """Each trip's and each request's k cheapest arcs (ties to the earlier arc), by sorting."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(0, 4))
    both = cheapest_per_node(trip, request, cost, n_t, n_r, k)
    expected = np.zeros(len(trip), dtype=bool)
    for side, n in ((trip, n_t), (request, n_r)):
        for g in range(n):
            items = np.flatnonzero(side == g)
            expected[items[np.argsort(cost[items], kind="stable")[:k]]] = True
    assert both.tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), k=st.integers(1, 4))
def test_most_negative_per_node_picks_as_cheapest_per_node_on_reduced_costs(data, k):
    """The fused pick (reduced costs computed on the fly, over a subset of the arcs) keeps
    the arcs that ``cheapest_per_node`` keeps on the gathered reduced costs."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 9))
    potential = np.array(
        data.draw(st.lists(st.integers(-8, 8), min_size=n_t + n_r, max_size=n_t + n_r)),
        dtype=np.int64,
    )
    arcs = np.flatnonzero(
        np.array(data.draw(st.lists(st.booleans(), min_size=len(trip), max_size=len(trip))))
    ).astype(np.int64)
    reduced = cost[arcs] + potential[trip[arcs]] - potential[n_t + request[arcs]]
    few = cheapest_per_node(trip[arcs], request[arcs], reduced, n_t, n_r, k)
    kept, kept_reduced = most_negative_per_node(arcs, trip, request, cost, potential, n_t, n_r, k)
    assert kept.tolist() == arcs[few].tolist()
    assert kept_reduced.tolist() == reduced[few].tolist()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), margin=st.integers(-3, 5))
def test_arcs_below_grouped_equals_arcs_below(data, margin):
    """On arcs grouped by trip, the check from the trips' offsets finds the same arcs and
    the same number of negative ones."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 9))
    order = np.argsort(trip, kind="stable")
    trip, request, cost = trip[order], request[order], cost[order]
    potential = np.array(
        data.draw(st.lists(st.integers(-8, 8), min_size=n_t + n_r, max_size=n_t + n_r)),
        dtype=np.int64,
    )
    skip = np.array(data.draw(st.lists(st.booleans(), min_size=len(trip), max_size=len(trip))))
    skip = skip.astype(bool).reshape(len(trip))
    offsets, grouped = trip_groups(trip, n_t)
    assert len(grouped) == 0
    expected = arcs_below(trip, request, cost, potential, n_t, skip, margin)
    got = arcs_below_grouped(offsets, request, cost, potential, skip, margin)
    assert got[0].tolist() == expected[0].tolist()
    assert got[1] == expected[1]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(-20, 20), max_size=80)
    | st.lists(st.integers(-(2**40), 2**40), max_size=80)
)
def test_stable_order_equals_numpys_stable_argsort(values):
    """By counting (a small span) or by merging (a wide one): NumPy's stable order."""
    array = np.array(values, dtype=np.int64)
    assert stable_order(array).tolist() == np.argsort(array, kind="stable").tolist()


@settings(max_examples=100, deadline=None)
@given(trips=st.lists(st.integers(0, 6), max_size=40), grouped=st.booleans())
def test_trip_groups_offsets_and_order(trips, grouped):
    """Arcs grouped by trip: the offsets and no order; otherwise the counting sort's."""
    trip = np.array(sorted(trips) if grouped else trips, dtype=np.int64)
    offsets, order = trip_groups(trip, 7)
    assert offsets.tolist() == [0, *np.cumsum(np.bincount(trip, minlength=7)).tolist()]
    if len(order) == 0:
        assert (np.diff(trip) >= 0).all()
    else:
        assert order.tolist() == np.argsort(trip, kind="stable").tolist()


def _potentials_from_one_list(n_t, n_r, trip, request, cost, used):
    """The certificate's potentials as the residual graph's one list of arcs gives them
    (the small problem's arcs, then each trip's arc to or from the source, then each
    request's to or from the sink) with two label-correcting searches: status 0 and the
    potentials, 1 (a negative cycle) or 2 (a node that reaches no node the source does)."""
    source, sink, n_nodes = n_t + n_r, n_t + n_r + 1, n_t + n_r + 2
    matched_trip = np.zeros(n_t, dtype=bool)
    matched_request = np.zeros(n_r, dtype=bool)
    matched_trip[trip[used]] = True
    matched_request[request[used]] = True
    t_nodes, r_nodes = trip, n_t + request
    trips, requests = np.arange(n_t), n_t + np.arange(n_r)
    tails = np.concatenate(
        (
            np.where(used, r_nodes, t_nodes),
            np.where(matched_trip, trips, source),
            np.where(matched_request, sink, requests),
        )
    ).astype(np.int64)
    heads = np.concatenate(
        (
            np.where(used, t_nodes, r_nodes),
            np.where(matched_trip, source, trips),
            np.where(matched_request, requests, sink),
        )
    ).astype(np.int64)
    costs = np.concatenate((np.where(used, -cost, cost), np.zeros(n_t + n_r, np.int64)))
    start = np.full(n_nodes, UNREACHED, dtype=np.int64)
    start[source] = 0
    forward, converged = label_correcting(n_nodes, tails, heads, costs, start)
    if not converged:
        return 1, None
    reached = forward < UNREACHED
    start = np.where(reached, -forward, UNREACHED)
    backward, converged = label_correcting(n_nodes, heads, tails, costs.astype(np.int64), start)
    if not converged:
        return 1, None
    if (~reached & (backward >= UNREACHED)).any():
        return 2, None
    return 0, np.where(reached, forward, -backward)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_residual_potentials_equal_the_searches_on_one_list(data):
    """The compiled residual graph (laid out by tail and by head) and its two searches give
    the potentials the explicit list of residual arcs and ``label_correcting`` give, for
    any matching (cheapest or not: then both find the negative cycle)."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 15), max_nodes=10)
    used = np.zeros(len(trip), dtype=bool)
    if len(trip):
        order = data.draw(st.permutations(range(len(trip))))
        mate = np.full(n_t, -1, dtype=np.int64)
        taken = np.zeros(n_r, dtype=bool)
        for a in order:  # a maximal matching in a drawn order
            if mate[trip[a]] < 0 and not taken[request[a]] and data.draw(st.booleans()):
                mate[trip[a]] = a
                taken[request[a]] = True
        used[mate[mate >= 0]] = True
    status, expected = _potentials_from_one_list(n_t, n_r, trip, request, cost, used)
    potential, got_status = residual_potentials(trip, request, cost, used, n_t, n_r)
    assert got_status == status
    if status == 0:
        assert potential.tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_merge_arcs_equals_gathering_the_union(data):
    n = data.draw(st.integers(0, 40))
    side = data.draw(st.lists(st.sampled_from([0, 1, 2]), min_size=n, max_size=n))
    rng = np.random.default_rng(n)
    trip, request, cost = (rng.integers(-50, 50, n) for _ in range(3))
    subset = np.array([i for i in range(n) if side[i] == 1], dtype=np.int64)
    add = np.array([i for i in range(n) if side[i] == 2], dtype=np.int64)
    merged = merge_arcs(
        subset, trip[subset], request[subset], cost[subset], add, trip, request, cost
    )
    union = np.flatnonzero(np.array(side, dtype=np.int64) > 0)
    for got, expected in zip(
        merged, (union, trip[union], request[union], cost[union]), strict=True
    ):
        assert got.tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(st.one_of(st.integers(-50, 50), st.none()), max_size=200))
def test_heap_pops_least_keys_first(ops):
    """The 4-ary heap: pushes (a key) and pops (None) in any order; each pop returns the
    least key pushed and not yet popped, with its item."""
    keys = np.empty(len(ops) + 1, dtype=np.int64)
    items = np.empty(len(ops) + 1, dtype=np.int64)
    size = 0
    alive: list[int] = []
    for step, op in enumerate(ops):
        if op is None:
            if not alive:
                continue
            key, item, size = _heap_pop(keys, items, size)
            assert key == min(alive)
            assert ops[item] == key
            alive.remove(key)
        else:
            size = _heap_push(keys, items, size, op, step)
            alive.append(op)
        assert size == len(alive)


def _potentials(trip, request, cost, subset, chosen, n_t, n_r):
    """The certificate's potentials of the flow ``chosen`` on the arcs ``subset``
    (:func:`residual_potentials`), or None where its residual graph has a negative cycle."""
    used = np.zeros(len(subset), dtype=bool)
    used[np.searchsorted(subset, chosen)] = True
    potential, status = residual_potentials(
        trip[subset], request[subset], cost[subset], used, n_t, n_r
    )
    assert status != 2, "a node reaches no node the source reaches"
    return None if status == 1 else potential


def _certificate_holds(trip, request, cost, selected, n_t, n_r):
    """The certificate's own check on *all* arcs: the flow has the largest value and its
    residual graph has potentials with every reduced cost >= 0 (no negative cycle)."""
    assert len(selected) == _max_cardinality(n_t, n_r, trip, request)
    everything = np.arange(len(trip), dtype=np.int64)
    potential = _potentials(trip, request, cost, everything, selected, n_t, n_r)
    assert potential is not None
    unused = np.ones(len(trip), dtype=bool)
    unused[selected] = False
    reduced = cost + potential[trip] - potential[n_t + request]
    assert (reduced[unused] >= 0).all()
    assert (reduced[selected] <= 0).all()


@settings(max_examples=200, deadline=None)
@given(data=st.data(), k=st.integers(1, 3), batch=st.integers(1, 5))
def test_certified_solve_equals_ortools_on_all_arcs(data, k, batch):
    """Random graphs with ties and negative costs, few arcs kept and tiny batches: the same
    count and cost as OR-Tools on every arc, and the certificate holds on every arc."""
    n_t, n_r, trip, request, cost = _bipartite(data, costs=st.integers(-3, 12))
    if data.draw(st.booleans()):  # grouped by trip, as the candidate index writes them
        order = np.argsort(trip, kind="stable")
        trip, request, cost = trip[order], request[order], cost[order]
    reference = max_matching_min_cost(trip, request, cost)
    solution, _ = certified_max_matching_min_cost(
        trip, request, cost, n_t, n_r, keep_per_node=k, batch=batch
    )
    assert len(solution.selected) == len(reference.selected)
    assert solution.total_cost == reference.total_cost == int(cost[solution.selected].sum())
    assert len(set(trip[solution.selected].tolist())) == len(solution.selected)
    assert len(set(request[solution.selected].tolist())) == len(solution.selected)
    if len(trip):
        _certificate_holds(trip, request, cost, solution.selected, n_t, n_r)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_shortest_augmenting_paths_equal_ortools(data):
    """The compiled successive shortest paths: OR-Tools' count and cost on random graphs
    with ties, negative costs and nodes left unmatched on either side; a valid matching."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 15), max_nodes=14)
    reference = max_matching_min_cost(trip, request, cost)
    solution = sparse_max_matching_min_cost(trip, request, cost, n_t, n_r)
    assert len(solution.selected) == len(reference.selected)
    assert solution.total_cost == reference.total_cost
    assert len(set(trip[solution.selected].tolist())) == len(solution.selected)
    assert len(set(request[solution.selected].tolist())) == len(solution.selected)
    if len(trip):
        _certificate_holds(trip, request, cost, solution.selected, n_t, n_r)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_shortest_augmenting_paths_with_wide_costs_equal_ortools(data):
    """Costs spanning 2**41 (the rows' order key is the number of arcs times that span
    plus a cost): OR-Tools' count and cost."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-(2**40), 2**40), max_nodes=10)
    reference = max_matching_min_cost(trip, request, cost)
    solution = sparse_max_matching_min_cost(trip, request, cost, n_t, n_r)
    assert len(solution.selected) == len(reference.selected)
    assert solution.total_cost == reference.total_cost


def _residual_reduced_costs(n_t, n_r, trip, request, cost, used, potential):
    """Reduced costs ``c + pi(tail) - pi(head)`` of every residual arc of the unit flow
    ``used`` (source n_t + n_r, sink n_t + n_r + 1), and the flow's value."""
    source, sink = n_t + n_r, n_t + n_r + 1
    fed = np.zeros(n_t, dtype=bool)
    feeds = np.zeros(n_r, dtype=bool)
    fed[trip[used]] = True
    feeds[request[used]] = True
    arcs = np.where(
        used,
        -cost + potential[n_t + request] - potential[trip],
        cost + potential[trip] - potential[n_t + request],
    )
    trips = np.where(fed, potential[:n_t] - potential[source], potential[source] - potential[:n_t])
    requests = np.where(
        feeds,
        potential[sink] - potential[n_t : n_t + n_r],
        potential[n_t : n_t + n_r] - potential[sink],
    )
    return np.concatenate((arcs, trips, requests)), int(used.sum())


@settings(max_examples=300, deadline=None)
@given(data=st.data(), k=st.integers(1, 3))
def test_repair_after_arcs_join_equals_ortools(data, k):
    """The flow proven on each node's k cheapest arcs, then every arc joins at once: the
    repair from the old potentials reaches OR-Tools' count and cost on all arcs, as a
    matching, with potentials under which every residual arc's reduced cost is >= 0."""
    n_t, n_r, trip, request, cost = _bipartite(data, st.integers(-6, 15), max_nodes=14)
    if len(trip) == 0:
        return
    reference = max_matching_min_cost(trip, request, cost)
    # A flow of the largest value that is cheapest on a subset of the arcs.
    small = cheapest_per_node(trip, request, cost, n_t, n_r, k)
    offsets, order = trip_groups(trip, n_t)
    mate = np.full(n_t, -1, dtype=np.int64)
    maximum_matching(offsets, order, request, n_r, mate, n_t + n_r)
    small[mate[mate >= 0]] = True
    subset = np.flatnonzero(small)
    solved = max_matching_min_cost(trip[subset], request[subset], cost[subset])
    chosen = subset[solved.selected]
    potential = _potentials(trip, request, cost, subset, chosen, n_t, n_r)
    assert potential is not None
    used = np.zeros(len(trip), dtype=bool)
    used[chosen] = True
    repaired, _ = repair_flow(n_t, n_r, trip, request, cost, used, potential, len(trip) + 1, 10**9)
    assert repaired
    selected = np.flatnonzero(used)
    assert len(selected) == len(reference.selected)
    assert int(cost[selected].sum()) == reference.total_cost
    assert len(set(trip[selected].tolist())) == len(selected)
    assert len(set(request[selected].tolist())) == len(selected)
    reduced, value = _residual_reduced_costs(n_t, n_r, trip, request, cost, used, potential)
    assert value == len(selected)
    assert (reduced >= 0).all()


def test_certified_solve_is_exact_when_every_round_is_repaired(monkeypatch):
    """With no limit on the repair, rounds after the first are repaired instead of solved
    again: the same optimum as OR-Tools on every arc, and the certificate holds."""
    from crowdship.core import flow

    monkeypatch.setattr(flow, "REPAIR_PATHS", 1.0)
    monkeypatch.setattr(flow, "REPAIR_SHARE", 1e9)
    rng = np.random.default_rng(11)
    for _ in range(60):
        n_t, n_r = rng.integers(2, 40, 2)
        keys = rng.choice(n_t * n_r, size=rng.integers(1, n_t * n_r), replace=False)
        trip, request = keys // n_r, keys % n_r
        cost = rng.integers(-2, 9, len(keys))
        reference = max_matching_min_cost(trip, request, cost)
        solution, _ = certified_max_matching_min_cost(trip, request, cost, n_t, n_r, 1, batch=3)
        assert (len(solution.selected), solution.total_cost) == (
            len(reference.selected),
            reference.total_cost,
        )
        _certificate_holds(trip, request, cost, solution.selected, n_t, n_r)


# ------------------------------------------------------------- the benchmark's families, small


def _hotspots(trips, requests, which, rng, city):
    campus = rng.uniform(0.15 * city, 0.85 * city, size=(3, 2))
    n = len(requests)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 0.3 * np.sqrt(rng.uniform(0, 1, n))
    points = campus[rng.integers(0, 3, n)] + radius[:, None] * np.column_stack(
        (np.cos(angle), np.sin(angle))
    )
    return trips, Requests.from_columns(
        requests.ids,
        points if which == "pickup" else requests.pickup,
        points if which == "delivery" else requests.delivery,
        requests.earliest_pickup,
        requests.latest_delivery,
    )


def _street_grid(trips, requests, travel):
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


FAMILIES = [
    "paper",
    "wide",
    "pickup-hotspots",
    "delivery-hotspots",
    "more-requests",
    "ties",
    "latlon",
]


@settings(max_examples=120, deadline=None)
@given(
    family=st.sampled_from(FAMILIES),
    seed=st.integers(0, 2**31 - 1),
    n_trips=st.integers(1, 60),
    n_requests=st.integers(1, 40),
    flexibility=st.sampled_from([1 / 3, 0.6, 1.0]),
    city=st.sampled_from([6.0, 10.0, 20.0, 60.0]),  # 60: long trips, as in the grown region
    keep=st.integers(1, 4),
)
def test_every_family_reaches_ortools_optimum_on_all_pairs(
    family, seed, n_trips, n_requests, flexibility, city, keep
):
    """Small days of each benchmark family: the certified solve (from the first pair on)
    gives the count and cost of OR-Tools min-cost max-flow on all pairs."""
    if family == "more-requests":
        n_trips, n_requests = min(n_trips, n_requests), max(n_trips, n_requests)
    params = ScenarioParams(
        trips=n_trips,
        requests=n_requests,
        city_km=city,
        flexibility=flexibility
        if family in ("wide", "pickup-hotspots", "delivery-hotspots")
        else 1 / 3,
        departure_profile="commuter" if family != "paper" else "uniform",
        bbox=(60.10, 24.80, 60.10 + city / 111, 24.80 + city / 55) if family == "latlon" else None,
        speed_kmh=30 if family == "latlon" else 50,
        detour_factor=1.3 if family == "latlon" else 1.0,
        trip_km=(1.0, 100.0),
    )
    day = generate_scenario(params, seed)
    trips, requests, travel = day.trips, day.requests, day.travel
    rng = np.random.default_rng(seed)
    if family.endswith("hotspots"):
        trips, requests = _hotspots(trips, requests, family.split("-")[0], rng, city)
    if family == "ties":
        trips, requests = _street_grid(trips, requests, travel)
    result = match(trips, requests, travel, policy=MaxMatches(certify_above=0, keep_per_node=keep))
    pairs = all_pairs(trips, requests, travel)
    reference = max_matching_min_cost(pairs.trip, pairs.request, to_units(pairs.detour))
    assert result.matched == len(reference.selected)
    assert round(result.stats.objective * 1000) == reference.total_cost
    assert result.stats.feasible_pairs == len(pairs)


@pytest.mark.parametrize("work_per_arc", [0, 25])
def test_certified_solve_is_exact_with_either_small_solver(monkeypatch, work_per_arc):
    """OR-Tools takes over the small problems when the shortest paths grow long (forced
    here with a limit of 0): the same optimum either way."""
    from crowdship.core import flow

    monkeypatch.setattr(flow, "SSP_WORK_PER_ARC", work_per_arc)
    rng = np.random.default_rng(7)
    for _ in range(40):
        n_t, n_r = rng.integers(2, 40, 2)
        keys = rng.choice(n_t * n_r, size=rng.integers(1, n_t * n_r), replace=False)
        trip, request = keys // n_r, keys % n_r
        cost = rng.integers(-2, 9, len(keys))
        reference = max_matching_min_cost(trip, request, cost)
        solution, _ = certified_max_matching_min_cost(trip, request, cost, n_t, n_r, 1)
        assert (len(solution.selected), solution.total_cost) == (
            len(reference.selected),
            reference.total_cost,
        )


@pytest.fixture(scope="module")
def helsinki():
    from crowdship.core.road import RoadNetworkTravel, bundled_extract

    return RoadNetworkTravel.from_pbf(bundled_extract())


@pytest.mark.parametrize("seed", range(6))
def test_road_days_reach_ortools_optimum_on_all_pairs(helsinki, seed):
    """The benchmark's road family, small: days in the Helsinki extract with the trips'
    deadlines from the road network's own times; the certified solve from the first pair
    on gives OR-Tools' count and cost on all pairs."""
    (south, west), (north, east) = helsinki.node_latlon.min(axis=0), helsinki.node_latlon.max(0)
    rng = np.random.default_rng(seed)
    params = ScenarioParams(
        trips=int(rng.integers(5, 60)),
        requests=int(rng.integers(5, 40)),
        bbox=(float(south), float(west), float(north), float(east)),
        trip_km=(0.3, 100.0),
        trip_minutes=(0.5, 120.0),
    )
    day = generate_scenario(params, seed)
    t = day.trips
    minutes = helsinki.pairwise(t.origin, t.destination)
    trips = Trips.from_columns(
        t.ids, t.origin, t.destination, t.earliest_departure, t.earliest_departure + minutes * 4 / 3
    )
    result = match(
        trips, day.requests, helsinki, policy=MaxMatches(certify_above=0, keep_per_node=2)
    )
    pairs = all_pairs(trips, day.requests, helsinki)
    reference = max_matching_min_cost(pairs.trip, pairs.request, to_units(pairs.detour))
    assert len(pairs) > 0
    assert result.matched == len(reference.selected)
    assert round(result.stats.objective * 1000) == reference.total_cost
