"""Exact bipartite matching on sparse arcs with OR-Tools min-cost flow (as in the paper).

Network: source -> every trip -> (feasible arcs) -> every request -> sink, unit capacities.
Costs are integers (OR-Tools works in int64): callers scale minute-costs by ``COST_SCALE``
and round, so optima are exact for costs at a resolution of 1/1000 minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from crowdship.core._kernels import (
    arcs_below,
    cheapest_per_group,
    rounded_multiple,
    shortest_distances,
)
from crowdship.core.model import IntArray

COST_SCALE = 1000  # integer cost units per minute


class SolverError(RuntimeError):
    """OR-Tools did not reach an optimum (should not happen for well-formed input)."""


@dataclass(frozen=True)
class FlowSolution:
    selected: IntArray  # positions (into the given arcs) of the chosen arcs
    total_cost: int  # sum of the chosen arcs' integer costs


def _compress(index: IntArray) -> tuple[IntArray, int]:
    """Map node indices to 0..k-1 over the nodes that appear (isolated nodes stay out)."""
    unique, dense = np.unique(index, return_inverse=True)
    return dense.astype(np.int64), len(unique)


def _build(
    trip: IntArray, request: IntArray, cost: IntArray
) -> tuple[min_cost_flow.SimpleMinCostFlow, int, int, int, int]:
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


def certified_max_matching_min_cost(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    n_trips: int,
    n_requests: int,
    keep_per_node: int = 10,
    max_rounds: int = 20,
    margin: int = COST_SCALE // 2,
) -> tuple[FlowSolution, int]:
    """Same optimum as :func:`max_matching_min_cost`, solved on few arcs and proven.

    Solves on each trip's and each request's ``keep_per_node`` cheapest arcs, then proves the
    answer optimal for *all* arcs with node potentials (LP duality): the lexicographic
    problem is a min-cost circulation with a return arc sink -> source of cost ``-B``, and
    the shortest distances in the residual graph of the small problem (Bellman-Ford) are
    potentials under which every arc of the small problem has a non-negative reduced cost.
    If every left-out arc's reduced cost ``c + pi(t) - pi(r)`` is non-negative too, no
    negative cycle exists in the full residual graph, so the flow is optimal there.

    Otherwise the arcs that break the certificate join the small problem, with every
    left-out arc whose reduced cost is below ``margin`` (arcs that nearly break it would
    break it next round). The flow is not solved again at once: Bellman-Ford on the grown
    residual graph either finds new potentials, and the flow is still optimal (often: the
    potentials were one dual optimum among many), or a negative cycle, and only then does
    OR-Tools solve the grown problem.

    Returns the solution and the number of arcs of the last small problem.
    """
    n_arcs = len(trip)
    if n_arcs == 0:
        return FlowSolution(np.zeros(0, np.int64), 0), 0
    active = cheapest_per_group(trip, cost, n_trips, keep_per_node)
    active |= cheapest_per_group(request, cost, n_requests, keep_per_node)
    subset = np.flatnonzero(active)
    chosen = subset[max_matching_min_cost(trip[subset], request[subset], cost[subset]).selected]
    # Any simple path costs less than this in absolute value; -B makes flow always pay.
    big = (int(np.abs(cost).max()) + 1) * (n_trips + n_requests + 2) * 2
    for _ in range(max_rounds):
        potential = _residual_potentials(
            trip, request, cost, subset, chosen, n_trips, n_requests, big
        )
        if potential is None:  # the arcs added last make the flow improvable: solve again
            solved = max_matching_min_cost(trip[subset], request[subset], cost[subset])
            chosen = subset[solved.selected]
            continue
        nearly_broken, broken = arcs_below(trip, request, cost, potential, n_trips, active, margin)
        if broken == 0:
            return FlowSolution(chosen, int(cost[chosen].sum())), len(subset)
        active |= nearly_broken
        subset = np.flatnonzero(active)
    full = max_matching_min_cost(trip, request, cost)
    return full, n_arcs


def _residual_potentials(
    trip: IntArray,
    request: IntArray,
    cost: IntArray,
    subset: IntArray,
    chosen: IntArray,
    n_trips: int,
    n_requests: int,
    big: int,
) -> IntArray | None:
    """Shortest distances in the residual graph of the flow ``chosen`` on the arcs
    ``subset`` (nodes: trips, requests, source, sink; the return arc sink -> source costs
    ``-big``); None if it has a negative cycle, that is, if the flow is not optimal on
    these arcs."""
    source, sink = n_trips + n_requests, n_trips + n_requests + 1
    matched_trip = np.zeros(n_trips, dtype=bool)
    matched_request = np.zeros(n_requests, dtype=bool)
    matched_trip[trip[chosen]] = True
    matched_request[request[chosen]] = True
    has_flow = len(chosen) > 0
    t_nodes, r_nodes = trip[subset], n_trips + request[subset]
    used = np.zeros(len(subset), dtype=bool)
    used[np.searchsorted(subset, chosen)] = True
    all_trips = np.arange(n_trips, dtype=np.int64)
    all_requests = np.arange(n_requests, dtype=np.int64)
    tails = np.concatenate(
        (
            np.where(used, r_nodes, t_nodes),
            np.where(matched_trip, all_trips, source),
            np.where(matched_request, sink, n_trips + all_requests),
            [sink] + ([source] if has_flow else []),
        )
    )
    heads = np.concatenate(
        (
            np.where(used, t_nodes, r_nodes),
            np.where(matched_trip, source, all_trips),
            np.where(matched_request, n_trips + all_requests, sink),
            [source] + ([sink] if has_flow else []),
        )
    )
    costs = np.concatenate(
        (
            np.where(used, -cost[subset], cost[subset]),
            np.zeros(n_trips + n_requests, np.int64),
            [-big] + ([big] if has_flow else []),
        )
    ).astype(np.int64)
    potential, converged = shortest_distances(
        n_trips + n_requests + 2, tails.astype(np.int64), heads.astype(np.int64), costs
    )
    return potential if converged else None


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
