"""Exact bipartite matching on sparse arcs with OR-Tools min-cost flow (as in the paper).

Network: source -> every trip -> (feasible arcs) -> every request -> sink, unit capacities.
Costs are integers (OR-Tools works in int64): callers scale minute-costs by ``COST_SCALE``
and round, so optima are exact for costs at a resolution of 1/1000 minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

# Compiled ahead of time (Cython, ``_paths.pyx`` and ``_certify.pyx``), not numba: a
# ``crowdship match`` process imports them in milliseconds.
from crowdship.core._certify import (
    certificate,
    cheapest_per_node,
    merge_arcs,
    most_negative_per_node,
)
from crowdship.core._paths import (
    cheap_matching,
    maximum_matching,
    repair_flow,
    rounded_multiple,
    sparse_assignment,
    trip_groups,
)
from crowdship.core.model import IntArray

if TYPE_CHECKING:
    from ortools.graph.python import min_cost_flow

COST_SCALE = 1000  # integer cost units per minute
#: Arcs that break the certificate join the small problem at most this many per node a round.
PER_NODE_ROUND = 3
#: Above this many arcs scanned per arc, the certified solve's next small problems go to
#: OR-Tools instead of the compiled shortest paths (decided by work, so runs are repeatable).
SSP_WORK_PER_ARC = 25
#: A repair (``repair_flow``) gives up, and the small problem is solved again, when more
#: than this share of the smaller side's nodes must find new partners (each a shortest
#: path, several times longer than a solve's average path), or once it has scanned this
#: share of the arcs the last solve scanned. Both only decide speed: either way is exact.
REPAIR_PATHS = 0.02
REPAIR_SHARE = 0.5


_NO_OFFSETS = np.zeros(0, dtype=np.int64)


class SolverError(RuntimeError):
    """OR-Tools did not reach an optimum (should not happen for well-formed input)."""


class _CannotCertify(Exception):
    """The small problem's residual graph gives no potentials for some node."""


@dataclass(frozen=True)
class FlowSolution:
    selected: IntArray  # positions (into the given arcs) of the chosen arcs
    total_cost: int  # sum of the chosen arcs' integer costs
    work: int = 0  # arcs scanned by the shortest-path solver (0: OR-Tools solved it)


def _compress(index: IntArray) -> tuple[IntArray, int]:
    """Map node indices to 0..k-1 over the nodes that appear (isolated nodes stay out)."""
    unique, dense = np.unique(index, return_inverse=True)
    return dense.astype(np.int64), len(unique)


def _build(
    trip: IntArray, request: IntArray, cost: IntArray
) -> tuple[min_cost_flow.SimpleMinCostFlow, int, int, int, int]:
    # Imported here: a certified solve often never needs OR-Tools, and every
    # ``crowdship match`` process would pay for the import.
    from ortools.graph.python import min_cost_flow

    t_dense, n_t = _compress(trip)
    r_dense, n_r = _compress(request)
    source, sink = 0, 1 + n_t + n_r
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate(
        (1 + t_dense, np.zeros(n_t, np.int64), 1 + n_t + np.arange(n_r, dtype=np.int64))
    )
    heads = np.concatenate(
        (1 + n_t + r_dense, 1 + np.arange(n_t, dtype=np.int64), np.full(n_r, sink, np.int64))
    )
    costs = np.concatenate((cost.astype(np.int64), np.zeros(n_t + n_r, np.int64)))
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(len(tails), np.int64), costs)
    return flow, source, sink, n_t, n_r


def max_matching_min_cost(trip: IntArray, request: IntArray, cost: IntArray) -> FlowSolution:
    """The most matches, and among all maximum matchings the least total cost."""
    if len(trip) == 0:
        return FlowSolution(np.zeros(0, np.int64), 0)
    flow, source, sink, n_t, n_r = _build(trip, request, cost)
    supply = min(n_t, n_r)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost max-flow ended with status {status}")
    arcs = np.arange(len(trip), dtype=np.int64)
    selected = np.flatnonzero(flow.flows(arcs) > 0)
    return FlowSolution(selected, int(cost[selected].sum()))


def sparse_max_matching_min_cost(
    trip: IntArray, request: IntArray, cost: IntArray, n_trips: int, n_requests: int
) -> FlowSolution:
    """Same optimum as :func:`max_matching_min_cost` (the most matches, then the least
    cost), by successive shortest paths compiled on the arcs grouped by the smaller side
    (``shortest_augmenting_paths``); several times faster than OR-Tools on the certified
    solve's small problems, which have a few hundred thousand arcs."""
    if len(trip) == 0:
        return FlowSolution(np.zeros(0, np.int64), 0)
    # One compiled call: the grouping by row, the rows' order, the arcs laid out row by
    # row and the paths (``sparse_assignment``).
    selected, scanned = sparse_assignment(trip, request, cost, n_trips, n_requests)
    return FlowSolution(selected, int(cost[selected].sum()), scanned)


def _distinct(index: IntArray, n: int) -> int:
    seen = np.zeros(n, dtype=bool)
    seen[index] = True
    return int(np.count_nonzero(seen))


def certified_max_matching_min_cost(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    n_trips: int,
    n_requests: int,
    keep_per_node: int = 10,
    max_rounds: int = 30,
    margin: int = COST_SCALE // 2,
    batch: int | None = None,
) -> tuple[FlowSolution, int]:
    """Same optimum as :func:`max_matching_min_cost`, solved on few arcs and proven.

    1. *Cardinality first.* A maximum-cardinality matching of *all* arcs (Hopcroft-Karp from
       a greedy start on the cheapest arcs) gives the number of matches ``k``. Its arcs join
       each trip's and each request's ``keep_per_node`` cheapest arcs, so the small problem
       can match ``k`` requests too. Successive shortest paths (compiled, see
       :func:`sparse_max_matching_min_cost`) solve it, the most matches and then the least
       cost, which is then the cheapest flow of value ``k`` on those arcs; OR-Tools takes
       over when those paths grow long (``SSP_WORK_PER_ARC``).
    2. *Proof for all arcs* (LP duality): since no flow exceeds ``k``, the flow is optimal
       for all arcs if it is a cheapest flow of value ``k`` there, that is, if node
       potentials exist under which every residual arc of the full problem has a
       non-negative reduced cost. They come from the small problem's residual graph:
       shortest distances from the source for the nodes it reaches, and for the others the
       least potential their own arcs allow (shortest distances to those nodes on the
       reversed graph). Those are the least prices the small problem's solution supports,
       so a left-out arc breaks the proof only if it could really lower the cost: every
       left-out arc with ``c + pi(t) - pi(r) >= 0`` is proven useless.
    3. Otherwise the arcs that break the proof, and those within ``margin`` of breaking it,
       join the small problem, at most ``batch`` at a time, most negative first. Where few
       nodes are touched, the flow is repaired from the potentials that proved it (a few
       shortest paths, :func:`repair_flow`); otherwise the small problem is solved again.

    Returns the solution and the number of arcs of the last small problem.
    """
    n_arcs = len(trip)
    if n_arcs == 0:
        return FlowSolution(np.zeros(0, np.int64), 0), 0
    # Three arcs a node: the more-requests day's first check finds 77,902 arcs within the
    # margin, which two a node (56,000) split over two rounds (29 ms more); on the other
    # families the batch makes no difference beyond noise.
    batch = batch if batch is not None else max(20_000, 3 * (n_trips + n_requests))
    active = cheapest_per_node(trip, request, cost, n_trips, n_requests, keep_per_node)
    subset = np.flatnonzero(active)
    # The small problem's arcs are kept gathered (trip, request, cost): each read from the
    # large arrays is a cache miss, so each round reads only its joining arcs there.
    small = (trip[subset], request[subset], cost[subset])
    # A maximum matching of all arcs: greedy on the cheap arcs, made maximum on them, then
    # on all arcs (few phases remain there, each a search over every arc).
    # Every node with an arc has one among the cheap arcs: no matching of all arcs covers
    # more than those nodes of the smaller side, and one that does is maximum (on hotspot
    # days, proving that on all arcs was a search over nearly every arc).
    covers = min(_distinct(small[0], n_trips), _distinct(small[1], n_requests))
    if keep_per_node < 1:
        covers = min(n_trips, n_requests)
    mate, size = cheap_matching(small[2], small[0], small[1], n_trips, n_requests, covers)
    mate = np.where(mate >= 0, subset[np.maximum(mate, 0)], -1)
    grouped = False
    if size < covers:
        offsets, order = trip_groups(trip, n_trips)
        maximum_matching(offsets, order, request, n_requests, mate, covers)
        # Arcs grouped by trip (as the candidate index writes them): each round's check
        # reads the trips' offsets instead of every arc's trip.
        grouped = len(order) == 0
    matched = mate[mate >= 0]
    matched = np.sort(matched[~active[matched]])
    active[matched] = True
    subset, *grown = merge_arcs(subset, *small, matched, trip, request, cost)
    small = (grown[0], grown[1], grown[2])
    solved = _solve_small(*small, n_trips, n_requests, True)
    chosen = subset[solved.selected]
    # Successive shortest paths scan each arc a few times on most days; where requests
    # crowd (hotspots) each path grows long as arcs join, and OR-Tools' cost scaling wins.
    compiled = solved.work <= SSP_WORK_PER_ARC * len(subset)
    work = solved.work  # arcs the last compiled solve scanned
    for _ in range(max_rounds):
        used = np.zeros(len(subset), dtype=bool)
        used[np.searchsorted(subset, chosen)] = True
        # The potentials of the flow (``residual_potentials``) and every arc checked
        # against them, in one compiled call.
        potential, status, nearly_broken, broken = certificate(
            *small,
            used,
            n_trips,
            n_requests,
            offsets if grouped else _NO_OFFSETS,
            trip,
            request,
            cost,
            active,
            margin,
        )
        if status == 2:
            # A node that reaches neither the source nor a node it reaches; impossible once
            # the flow is positive (every matched trip returns to the source, every request
            # reaches its trip or the sink). Prove nothing then: solve all arcs.
            raise _CannotCertify
        if status == 1:  # the arcs added last make the flow improvable: solve again
            solved = _solve_small(*small, n_trips, n_requests, compiled)
            chosen = subset[solved.selected]
            compiled = compiled and solved.work <= SSP_WORK_PER_ARC * len(subset)
            work = max(work, solved.work)
            continue
        if broken == 0:
            return FlowSolution(chosen, int(cost[chosen].sum())), len(subset)
        add = np.flatnonzero(nearly_broken)
        if len(add) > batch:
            # Each node's few most negative arcs first (one cheaper partner is what a node
            # needs), then the most negative of those up to the batch.
            add, reduced = most_negative_per_node(
                add, trip, request, cost, potential, n_trips, n_requests, PER_NODE_ROUND
            )
            if len(add) > batch:
                add = np.sort(add[np.argpartition(reduced, batch)[:batch]])
        active[add] = True
        subset, *joined = merge_arcs(subset, *small, add, trip, request, cost)
        small = (joined[0], joined[1], joined[2])
        # Repair the flow from the potentials that proved it on the smaller arc set (a few
        # shortest paths), instead of solving the grown small problem again.
        used = np.zeros(len(subset), dtype=bool)
        used[np.searchsorted(subset, chosen)] = True
        repaired, _ = repair_flow(
            n_trips,
            n_requests,
            *small,
            used,
            potential,
            max(1, int(REPAIR_PATHS * min(n_trips, n_requests))),
            int(REPAIR_SHARE * max(work, len(subset))),
        )
        if repaired:
            chosen = subset[used]
        else:
            solved = _solve_small(*small, n_trips, n_requests, compiled)
            chosen = subset[solved.selected]
            compiled = compiled and solved.work <= SSP_WORK_PER_ARC * len(subset)
            work = max(work, solved.work)
    full = max_matching_min_cost(trip, request, cost)
    return full, n_arcs


def _solve_small(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    n_trips: int,
    n_requests: int,
    compiled: bool,
) -> FlowSolution:
    if compiled:
        return sparse_max_matching_min_cost(trip, request, cost, n_trips, n_requests)
    return max_matching_min_cost(trip, request, cost)


def max_weight_matching(trip: IntArray, request: IntArray, weight: IntArray) -> FlowSolution:
    """A matching of greatest total weight (arcs of weight <= 0 are never worth taking).

    ``total_cost`` of the result is the total weight.
    """
    useful = np.flatnonzero(weight > 0)
    if len(useful) == 0:
        return FlowSolution(np.zeros(0, np.int64), 0)
    flow, source, sink, n_t, n_r = _build(trip[useful], request[useful], -weight[useful])
    # A free bypass lets flow skip matching: the solver then takes an arc only for profit.
    supply = min(n_t, n_r)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, supply, 0)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    arcs = np.arange(len(useful), dtype=np.int64)
    chosen = useful[flow.flows(arcs) > 0]
    return FlowSolution(chosen, int(weight[chosen].sum()))


def to_units(minutes: np.ndarray) -> IntArray:
    """Minute-costs to the solver's integer units."""
    # Compiled, so there is one output array and no temporaries: with millions of pairs each
    # fresh array costs more in page faults than the arithmetic.
    return rounded_multiple(np.ascontiguousarray(minutes, dtype=np.float64), float(COST_SCALE))
