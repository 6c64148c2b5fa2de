"""Several requests per trip: feasible bundles, then an exact set packing.

Matching with capacity > 1 runs in two steps (Alonso-Mora et al. 2017, "On-demand
high-capacity ride-sharing via dynamic trip-vehicle assignment", the RTV graph):

1. *Bundles*: for each trip, the sets of requests it can serve on one route. Singles are
   today's feasible pairs (:func:`crowdship.core.feasibility.feasible_pairs`); a bundle of
   ``k + 1`` requests is tried only when each of its ``k``-subsets is a feasible bundle of
   the trip (a route for a set also serves every subset: drop the stops, no leg gets
   longer by the triangle inequality and no stop is reached later), and only while the
   requests' total size fits the capacity. Each bundle's best route comes from
   :func:`crowdship.core._route_kernels.best_order` (compiled).
2. *Set packing*: choose at most one bundle per trip and per request, exactly, with
   HiGHS (``scipy.optimize.milp``): under ``max-matches`` the most requests served, then
   the least total cost; under ``min-cost`` the greatest total value minus cost; under
   ``acceptance-aware`` the most expected acceptances. The answer is the proven optimum,
   or, when the time limit stops the solver, the best packing found with its proven gap.

A bundle's cost is the cost function summed over its members, each member charged an
equal share of the route's detour (so the detour term sums to the route's detour and every
other term is the pair's own); the response model sees the same share. With one request
per bundle this is exactly today's cost. When every trip has capacity 1,
:func:`match_routes` is :func:`crowdship.core.matcher.match` itself.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from crowdship.core.costs import CostFunction
from crowdship.core.feasibility import (
    NO_LIMITS,
    TIME_TOLERANCE,
    DirectTimes,
    FeasiblePairs,
    Limits,
    feasible_pairs,
)
from crowdship.core.flow import COST_SCALE, max_weight_matching, to_units
from crowdship.core.matcher import Assignment, MatchResult, MatchStats, match
from crowdship.core.model import FloatArray, IntArray, ModelError, Requests, Trips
from crowdship.core.policies import (
    PROBABILITY_SCALE,
    AcceptanceAware,
    MatchingPolicy,
    MaxMatches,
    MinCost,
)
from crowdship.core.routes import (
    DELIVERY,
    KEY_BITS,
    MAX_BUNDLE,
    PICKUP,
    Stop,
    route_times,
)
from crowdship.core.travel import GreatCircleTravel, TravelModel

#: Rows of candidate bundles grown at once for one trip (output buffers of about 100 MB).
_BUFFER_ROWS = 1 << 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bundles:
    """Every trip's feasible bundles, one row each, with the best route's stop order.

    ``members[b, :size[b]]`` are request positions (sorted); ``order[b, :2 size[b]]`` the
    best route's stops, stop ``s`` being member ``s // 2``'s pickup (even) or delivery.
    """

    trip: IntArray
    size: IntArray  # requests in the bundle
    members: IntArray  # (n, MAX_BUNDLE), -1 past size
    detour: FloatArray
    order: IntArray  # (n, 2 MAX_BUNDLE), -1 past 2 size
    candidates: int  # pairs that reached the exact check (as FeasiblePairs.candidates)
    feasible_pairs: int
    complete: bool = True  # False when a per-trip cap dropped some feasible bundles

    def __len__(self) -> int:
        return len(self.trip)

    def stops(self, b: int) -> list[Stop]:
        k = int(self.size[b])
        return [Stop(int(self.members[b, s // 2]), s % 2) for s in self.order[b, : 2 * k]]

    def counts(self) -> dict[int, int]:
        """How many bundles of each size."""
        sizes, counts = np.unique(self.size, return_counts=True)
        return {int(s): int(c) for s, c in zip(sizes, counts, strict=True)}


def _keys(rows: IntArray) -> IntArray:
    keys = np.zeros(len(rows), np.int64)
    for x in range(rows.shape[1]):
        keys = (keys << KEY_BITS) | rows[:, x]
    return keys


def enumerate_bundles(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    pairs: FeasiblePairs,
    direct: DirectTimes,
    limits: Limits = NO_LIMITS,
    max_bundle: int = MAX_BUNDLE,
    per_trip: int | None = None,
) -> Bundles:
    """Every trip's feasible bundles of up to ``max_bundle`` requests, grown from ``pairs``
    (feasible pairs whose request fits the trip's capacity).

    ``per_trip`` keeps only that many of each trip's bundles of each size beyond one (those
    whose detour saves most against each member's cheapest single), as Alonso-Mora et al.
    cap theirs to bound the work; the packing is then optimal
    over the bundles kept, and ``complete`` says so."""
    from crowdship.core._route_kernels import _grow  # numba: only bundles need it

    if per_trip is not None and per_trip < 1:
        raise ValueError(f"bundles per trip must be >= 1, got {per_trip}")
    complete = True
    if not 1 <= max_bundle <= MAX_BUNDLE:
        raise ValueError(
            f"max bundle must be between 1 and {MAX_BUNDLE} requests, got {max_bundle}"
        )
    width = MAX_BUNDLE
    order = np.lexsort((pairs.request, pairs.trip))
    p_trip, p_request, p_detour = pairs.trip[order], pairs.request[order], pairs.detour[order]
    n = len(p_trip)
    # Singles: the pairs themselves (their detour is the pair rule's, exactly as today).
    trip_parts = [p_trip]
    size_parts = [np.ones(n, np.int64)]
    member_parts = [np.full((n, width), -1, np.int64)]
    member_parts[0][:, 0] = p_request
    detour_parts = [p_detour]
    order_parts = [np.full((n, 2 * width), -1, np.int64)]
    order_parts[0][:, :2] = (0, 1)
    starts = np.searchsorted(p_trip, np.arange(len(trips) + 1))
    allowed = limits.allowed_detour(direct.trip)
    cheapest = np.full(len(requests), np.inf)  # each request's least detour alone
    np.minimum.at(cheapest, p_request, p_detour)
    for t in np.flatnonzero((trips.capacity > 1) & (np.diff(starts) >= 2)):
        lo, hi = int(starts[t]), int(starts[t + 1])
        local = p_request[lo:hi]
        m = len(local)
        if m >= 1 << KEY_BITS:
            raise ModelError(f"trip {trips.ids[t]}: {m} feasible requests, more than 32767")
        coords = np.vstack(
            (
                trips.origin[t : t + 1],
                trips.destination[t : t + 1],
                np.column_stack((requests.pickup[local], requests.delivery[local])).reshape(-1, 2),
            )
        )
        dist = np.ascontiguousarray(travel.matrix(coords, coords), dtype=np.float64)
        earliest = np.ascontiguousarray(requests.earliest_pickup[local])
        latest = np.ascontiguousarray(requests.latest_delivery[local])
        size = np.ascontiguousarray(requests.size[local])
        capacity = int(trips.capacity[t])
        previous = np.arange(m, dtype=np.int64)[:, None]
        direct_t = float(direct.trip[t])
        for k in range(1, max_bundle):
            if len(previous) == 0 or int(np.sort(size)[: k + 1].sum()) > capacity:
                break
            keys = _keys(previous)
            found_parts: list[tuple[IntArray, FloatArray, IntArray]] = []
            # Grown a slice of the smaller bundles at a time, so the output buffers stay
            # about _BUFFER_ROWS rows however many candidates a busy trip has.
            step = max(1, _BUFFER_ROWS // m)
            for first in range(0, len(previous), step):
                last = min(first + step, len(previous))
                rows = (last - first) * m
                out_members = np.full((rows, width), -1, np.int64)
                out_driving = np.zeros(rows)
                out_order = np.full((rows, 2 * width), -1, np.int64)
                found = _grow(
                    dist,
                    earliest,
                    latest,
                    size,
                    float(trips.earliest_departure[t]),
                    float(trips.latest_arrival[t]),
                    capacity,
                    direct_t + float(allowed[t]),
                    TIME_TOLERANCE,
                    previous,
                    keys,
                    first,
                    last,
                    out_members,
                    out_driving,
                    out_order,
                )
                if found:
                    found_parts.append(
                        (out_members[:found], out_driving[:found], out_order[:found])
                    )
            if not found_parts:
                break
            grown = np.concatenate([part[0] for part in found_parts])
            driving = np.concatenate([part[1] for part in found_parts])
            orders = np.concatenate([part[2] for part in found_parts])
            if per_trip is not None and len(grown) > per_trip:
                # A cap as Alonso-Mora et al.'s (then the result is optimal over the bundles
                # kept, not over all). Kept: the bundles that save the most against serving
                # each member alone on its best trip (the least detour alone ranked worse:
                # on the paper's day it kept bundles of requests cheap anywhere).
                saving = np.where(grown >= 0, cheapest[local[np.maximum(grown, 0)]], 0.0).sum(1)
                keep = np.sort(np.argsort(driving - saving, kind="stable")[:per_trip])
                grown, driving, orders = grown[keep], driving[keep], orders[keep]
                complete = False
            found = len(grown)
            trip_parts.append(np.full(found, t, np.int64))
            size_parts.append(np.full(found, k + 1, np.int64))
            member_parts.append(np.where(grown >= 0, local[np.maximum(grown, 0)], -1))
            detour_parts.append(np.maximum(driving - direct_t, 0.0))
            order_parts.append(orders)
            previous = np.ascontiguousarray(grown[:, : k + 1])
    return Bundles(
        trip=np.concatenate(trip_parts),
        size=np.concatenate(size_parts),
        members=np.concatenate(member_parts),
        detour=np.concatenate(detour_parts),
        order=np.concatenate(order_parts),
        candidates=pairs.candidates,
        feasible_pairs=len(pairs),
        complete=complete,
    )


@dataclass(frozen=True)
class SolveStats:
    """How the set packing ended: proven optimal, or the best found and its proven gap.

    ``gap`` is relative, in the policy's objective: for ``max-matches`` the share of
    requests served that may be missing when the most served is not proven, else the share
    of the total cost that may be saved."""

    bundles: dict[int, int]  # bundle size -> how many
    optimal: bool
    gap: float
    served_bound: int  # no packing serves more requests than this
    objective_bound: float  # in the policy's unit: no packing does better than this
    solver: str
    status: str
    complete: bool = True  # every feasible bundle took part (no per-trip cap was hit)
    method: str = "enumerate"  # "enumerate" (every bundle listed) or "price" (generated)
    rounds: int = 0  # column generation: LP solves
    routed: int = 0  # column generation: bundles whose route was searched
    completed: int = 0  # column generation: bundles added to prove the integer optimum
    cuts: int = 0  # column generation: subset-row cuts added to the LP

    @property
    def exact(self) -> bool:
        """The true optimum of the matching, proven."""
        return self.optimal and self.complete


@dataclass(frozen=True)
class RouteStops:
    """The chosen routes, one row per stop (origin and destination included), by trip and
    then ``seq`` (0 = the trip's origin)."""

    trip_index: IntArray
    trip_ids: np.ndarray
    seq: IntArray
    kind: np.ndarray  # "origin", "pickup", "delivery", "destination"
    request_ids: np.ndarray  # "" at origin and destination
    location: FloatArray  # (n, 2) in the travel model's coordinates
    arrival: FloatArray  # when the courier gets there
    departure: FloatArray  # when it leaves (after any wait)
    load: IntArray  # parcel units on board when it leaves

    def __len__(self) -> int:
        return len(self.trip_index)


@dataclass(frozen=True)
class RouteMatchResult:
    """What the route matcher decided: per request (``assignment``, with each request's
    ``pickup_seq`` and ``delivery_seq`` on its trip's route), per stop (``routes``), and
    the statistics of the matching and of the set packing."""

    assignment: Assignment
    pickup_seq: IntArray
    delivery_seq: IntArray
    routes: RouteStops
    stats: MatchStats
    solve: SolveStats
    plain: MatchResult | None = None  # today's matcher's own result, when it was used

    @property
    def matched(self) -> int:
        return len(self.assignment)


def match_routes(
    trips: Trips,
    requests: Requests,
    travel: TravelModel | None = None,
    cost: CostFunction | None = None,
    policy: MatchingPolicy | None = None,
    limits: Limits = NO_LIMITS,
    time_limit: float | None = None,
    exclude: Iterable[tuple[str, str]] = (),
    max_bundle: int = MAX_BUNDLE,
    bundles_per_trip: int | None = None,
    method: str = "auto",
    gap: float = 0.0,
) -> RouteMatchResult:
    """Match requests to trips, several per trip where capacity allows, exactly.

    When every trip has capacity 1 this is :func:`crowdship.core.matcher.match` (its result
    is kept in ``plain``). Otherwise the bundles of up to ``max_bundle`` requests are
    packed by HiGHS, stopped after ``time_limit`` seconds (each of the two solves of
    ``max-matches`` gets what is left) if given. A request larger than every trip's
    capacity is never matched (as today). ``bundles_per_trip`` caps each trip's bundles of
    each size (see :func:`enumerate_bundles`); without it the answer is exact.

    ``method``: ``"enumerate"`` lists every feasible bundle and packs them all;
    ``"price"`` generates them on the LP's duals (:mod:`crowdship.core.colgen`), exact over
    every feasible bundle as well, and much faster on busy days; ``"auto"`` (default)
    prices where that applies (see :func:`crowdship.core.colgen.unsupported`) and no
    per-trip cap is asked, and enumerates otherwise, or when pricing could not prove the
    optimum (its LP bound fractional in the number served) and listing every bundle is
    cheap (:data:`LIST_AFTER_PRICING`). ``gap`` (priced only): stop once the
    packing is proven within this relative gap of the optimum over every bundle (0: prove
    the optimum). Priced, a proof HiGHS does not end in its first seconds goes on as a
    race of HiGHS (in a process of its own) and SCIP
    (:meth:`crowdship.core.colgen._Master.race`); ``time_limit`` then holds for each.
    """
    travel_model: TravelModel = travel if travel is not None else GreatCircleTravel()
    cost_function = cost if cost is not None else CostFunction()
    chosen: MatchingPolicy = policy if policy is not None else MaxMatches()
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time limit must be > 0 seconds, got {time_limit}")
    exclude = list(exclude)
    if len(trips) == 0 or int(trips.capacity.max()) == 1:
        plain = match(trips, requests, travel_model, cost_function, chosen, limits, exclude)
        return _from_plain(plain, trips, requests, travel_model)
    if not isinstance(chosen, MaxMatches | MinCost | AcceptanceAware):
        raise ModelError(f"policy {chosen.name} does not support trips with capacity > 1 yet")
    if not 0 <= gap < 1:
        raise ValueError(f"gap must be in [0, 1), got {gap}")
    if method not in ("auto", "enumerate", "price"):
        raise ValueError(f"method must be auto, enumerate or price, got {method!r}")
    if not 1 <= max_bundle <= MAX_BUNDLE:
        raise ValueError(
            f"max bundle must be between 1 and {MAX_BUNDLE} requests, got {max_bundle}"
        )
    from crowdship.core import colgen

    why = colgen.unsupported(trips, travel_model, cost_function, chosen, max_bundle)
    if method == "price" and (why is not None or bundles_per_trip is not None):
        raise ModelError(
            "column generation does not apply here: "
            + (why if why is not None else "bundles per trip caps the listed bundles")
        )
    priced = method == "price" or (method == "auto" and why is None and bundles_per_trip is None)
    if gap > 0 and not priced:
        if why is not None:
            reason = why
        elif bundles_per_trip is not None:
            reason = "bundles per trip caps the listed bundles"
        else:
            reason = "the bundles are listed, as asked"
        log.warning(
            "gap %g is not used: it applies where bundles are priced, which does not apply "
            "here (%s); every bundle listed is packed to the optimum within the time limit",
            gap,
            reason,
        )

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = timings.get(phase, 0.0) + now - clock
        clock = now

    direct = DirectTimes.of(trips, requests, travel_model)
    lap("direct")
    pairs = feasible_pairs(trips, requests, travel_model, direct, limits)
    pairs = pairs.select(requests.size[pairs.request] <= trips.capacity[pairs.trip])
    pairs = _drop_excluded(pairs, trips, requests, exclude)
    lap("pairs")
    if priced:
        result = _match_priced(
            trips,
            requests,
            travel_model,
            pairs,
            direct,
            limits,
            cost_function,
            chosen,
            max_bundle,
            time_limit,
            gap,
            timings,
        )
        if (
            result.solve.exact
            or method == "price"
            or gap > 0
            or not _few_bundles(trips, pairs, max_bundle)
        ):
            return result
        # Not proven (the LP bound is fractional in the count) and every bundle can be
        # listed cheaply: list them and pack them all, as asked (the optimum, proven).
        clock = time.perf_counter()
    bundles = enumerate_bundles(
        trips, requests, travel_model, pairs, direct, limits, max_bundle, bundles_per_trip
    )
    lap("bundles")
    member_pairs, owner = _member_pairs(bundles)
    member_cost = cost_function(trips, requests, member_pairs)
    bundle_cost = np.bincount(owner, weights=member_cost, minlength=len(bundles)).astype(np.float64)
    lap("cost")
    packing = _pack(
        trips,
        requests,
        bundles,
        pairs,
        member_pairs,
        owner,
        bundle_cost,
        chosen,
        time_limit,
    )
    lap("solve")
    result = _assemble(
        trips, requests, travel_model, bundles, packing, bundle_cost, chosen, timings
    )
    lap("routes")
    return result


#: "auto" lists every bundle after an unproven pricing when at most this many could exist.
LIST_AFTER_PRICING = 2_000_000


def _few_bundles(trips: Trips, pairs: FeasiblePairs, max_bundle: int) -> bool:
    """Whether every trip's bundles (pairs, and triples or more where they fit) are few
    enough to list: at most :data:`LIST_AFTER_PRICING` sets of its feasible requests."""
    m = np.bincount(pairs.trip, minlength=len(trips)).astype(np.float64)
    cap = np.minimum(trips.capacity, max_bundle)
    total = 0.0
    for k in range(2, int(cap.max(initial=1)) + 1):
        total += float((np.where(cap >= k, _choose(m, k), 0.0)).sum())
    return total <= LIST_AFTER_PRICING


def _choose(n: FloatArray, k: int) -> FloatArray:
    out = np.ones_like(n)
    for i in range(k):
        out *= np.maximum(n - i, 0.0) / (i + 1)
    return out


def _match_priced(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    pairs: FeasiblePairs,
    direct: DirectTimes,
    limits: Limits,
    cost_function: CostFunction,
    policy: MatchingPolicy,
    max_bundle: int,
    time_limit: float | None,
    gap: float,
    timings: dict[str, float],
) -> RouteMatchResult:
    """The packing by column generation (:mod:`crowdship.core.colgen`), its proof in the
    same terms as the listed packing's (:class:`SolveStats`)."""
    from crowdship.core import colgen

    found = colgen.solve(
        trips,
        requests,
        travel,
        pairs,
        direct,
        limits,
        cost_function,
        policy,
        max_bundle,
        time_limit,
        gap,
    )
    for phase, seconds in found.timings.items():
        timings[phase] = timings.get(phase, 0.0) + seconds
    clock = time.perf_counter()
    bundles = Bundles(
        trip=found.trip,
        size=found.size,
        members=found.members,
        detour=found.detour,
        order=found.order,
        candidates=pairs.candidates,
        feasible_pairs=len(pairs),
        complete=True,
    )
    member_pairs, owner = _member_pairs(bundles)
    member_cost = cost_function(trips, requests, member_pairs)
    bundle_cost = np.bincount(owner, weights=member_cost, minlength=len(bundles)).astype(np.float64)
    chosen = found.chosen
    counts = bundles.counts()
    solver = "highs (column generation)"
    if isinstance(policy, MaxMatches):
        served = int(bundles.size[chosen].sum())
        total = float(to_units(bundle_cost)[chosen].sum())
        if found.optimal:
            stats = SolveStats(
                counts,
                True,
                0.0,
                served,
                total / COST_SCALE,
                solver,
                found.status,
                True,
                method="price",
                rounds=found.rounds,
                routed=found.routed,
                completed=found.completed,
                cuts=found.cuts,
            )
        else:
            served_bound = found.served_bound
            if served_bound > served:
                gap = (served_bound - served) / served_bound
                cost_bound = found.least
            else:
                cost_bound = max(found.big * served - found.bound, found.least)
                gap = max(total - cost_bound, 0.0) / max(abs(total), 1e-9)
            stats = SolveStats(
                counts,
                False,
                gap,
                served_bound,
                cost_bound / COST_SCALE,
                solver,
                found.status,
                True,
                method="price",
                rounds=found.rounds,
                routed=found.routed,
                completed=found.completed,
                cuts=found.cuts,
            )
        packing = _Packing(chosen, total / COST_SCALE, stats)
    else:
        scale = float(COST_SCALE) if isinstance(policy, MinCost) else float(PROBABILITY_SCALE)
        gap = 0.0 if found.optimal else (found.bound - found.value) / max(abs(found.bound), 1e-9)
        stats = SolveStats(
            counts,
            found.optimal,
            gap,
            len(np.unique(pairs.request)),
            found.bound / scale,
            solver,
            found.status,
            True,
            method="price",
            rounds=found.rounds,
            routed=found.routed,
            completed=found.completed,
            cuts=found.cuts,
        )
        packing = _Packing(chosen, found.value / scale, stats)
    timings["cost"] = timings.get("cost", 0.0) + time.perf_counter() - clock
    clock = time.perf_counter()
    result = _assemble(trips, requests, travel, bundles, packing, bundle_cost, policy, timings)
    timings["routes"] = timings.get("routes", 0.0) + time.perf_counter() - clock
    return result


def _drop_excluded(
    pairs: FeasiblePairs, trips: Trips, requests: Requests, exclude: list[tuple[str, str]]
) -> FeasiblePairs:
    if not exclude:
        return pairs
    trip_pos = {tid: i for i, tid in enumerate(trips.ids)}
    request_pos = {rid: j for j, rid in enumerate(requests.ids)}
    keys = [
        trip_pos[t] * len(requests) + request_pos[r]
        for t, r in exclude
        if t in trip_pos and r in request_pos
    ]
    if not keys:
        return pairs
    pair_keys = pairs.trip * len(requests) + pairs.request
    return pairs.select(~np.isin(pair_keys, np.asarray(keys, dtype=np.int64)))


def _member_pairs(bundles: Bundles) -> tuple[FeasiblePairs, IntArray]:
    """Each bundle's members as pairs charged an equal share of the route's detour, and the
    bundle of each."""
    row, col = np.nonzero(bundles.members >= 0)
    share = bundles.detour[row] / bundles.size[row]
    pairs = FeasiblePairs(
        trip=bundles.trip[row],
        request=bundles.members[row, col],
        detour=share,
        candidates=bundles.candidates,
    )
    return pairs, row.astype(np.int64)


@dataclass(frozen=True)
class _Packing:
    chosen: IntArray  # bundle rows
    objective: float
    stats: SolveStats


def _pack(
    trips: Trips,
    requests: Requests,
    bundles: Bundles,
    pairs: FeasiblePairs,
    member_pairs: FeasiblePairs,
    owner: IntArray,
    bundle_cost: FloatArray,
    policy: MatchingPolicy,
    time_limit: float | None,
) -> _Packing:
    counts = bundles.counts()
    served_bound = len(np.unique(pairs.request))
    if len(bundles) == 0:
        return _Packing(
            np.zeros(0, np.int64), 0.0, SolveStats(counts, True, 0.0, 0, 0.0, "none", "empty")
        )
    cost_units = to_units(bundle_cost)
    if isinstance(policy, MaxMatches):
        return _pack_max_matches(
            bundles, len(trips), len(requests), cost_units, counts, served_bound, time_limit
        )
    if isinstance(policy, MinCost):
        value = requests.value[member_pairs.request]
        if np.isnan(requests.value).any():
            first = requests.ids[int(np.flatnonzero(np.isnan(requests.value))[0])]
            raise ModelError(f"policy min-cost needs a value for every request; {first} has none")
        worth = np.bincount(owner, weights=value, minlength=len(bundles)) - bundle_cost
        weight = to_units(worth)
        scale = float(COST_SCALE)
    else:
        assert isinstance(policy, AcceptanceAware)
        probability = policy.response.accept_probability(trips, requests, member_pairs)
        per_member = np.rint(probability * PROBABILITY_SCALE).astype(np.int64)
        weight = np.bincount(owner, weights=per_member, minlength=len(bundles)).astype(np.int64)
        scale = float(PROBABILITY_SCALE)
    useful = np.flatnonzero(weight > 0)
    solver = _Solver(bundles, useful, len(trips), len(requests))
    solver.maximise(weight[useful], time_limit)
    chosen = useful[solver.chosen()]
    found = float(weight[chosen].sum())
    bound = max(float(solver.bound()), found)
    gap = 0.0 if solver.optimal else (bound - found) / max(abs(bound), 1e-9)
    stats = SolveStats(
        counts,
        solver.optimal,
        gap,
        served_bound,
        bound / scale,
        "highs",
        solver.status,
        bundles.complete,
    )
    return _Packing(chosen, found / scale, stats)


def _pack_max_matches(
    bundles: Bundles,
    n_trips: int,
    n_requests: int,
    cost_units: IntArray,
    counts: dict[int, int],
    served_bound: int,
    time_limit: float | None,
) -> _Packing:
    """The most requests served, then the least total cost, in one solve: each bundle is
    worth ``M x size - cost`` with ``M`` larger than any two packings' cost difference, so
    one more request served always wins. (Two solves, the second held to the first's
    count, were 3 to 15 times slower: the held count breaks the packing's structure.)"""
    order = np.argsort(bundles.trip, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(bundles.trip[order]) != 0])
    highest = np.maximum.reduceat(cost_units[order], starts)
    lowest = np.minimum.reduceat(cost_units[order], starts)
    most = float(np.maximum(highest, 0).sum())  # no packing costs more than this ...
    least = float(np.minimum(lowest, 0).sum())  # ... nor less than this
    big = most - least + 1.0
    weight = (big * bundles.size - cost_units).astype(np.float64)
    solver = _Solver(bundles, np.arange(len(bundles)), n_trips, n_requests)
    solver.maximise(weight, time_limit)
    chosen = solver.chosen()
    served = int(bundles.size[chosen].sum())
    total = float(cost_units[chosen].sum())
    if solver.optimal:
        return _Packing(
            chosen,
            total / COST_SCALE,
            SolveStats(
                counts,
                True,
                0.0,
                served,
                total / COST_SCALE,
                "highs",
                solver.status,
                bundles.complete,
            ),
        )
    # bound >= big x served* - cost* >= big x served* - most: at most this many served; and
    # with that many, no packing costs less than big x served - bound.
    bound = solver.bound()
    if math.isfinite(bound):
        served_bound = min(served_bound, int(math.floor((bound + most) / big + 1e-9)))
    if served_bound > served:
        gap = (served_bound - served) / served_bound
        cost_bound = least
    else:
        cost_bound = max(big * served - bound, least) if math.isfinite(bound) else least
        gap = max(total - cost_bound, 0.0) / max(abs(total), 1e-9)
    stats = SolveStats(
        counts,
        False,
        gap,
        served_bound,
        cost_bound / COST_SCALE,
        "highs",
        solver.status,
        bundles.complete,
    )
    return _Packing(chosen, total / COST_SCALE, stats)


class _Solver:
    """The set packing over the given bundle rows as a 0-1 program for HiGHS (through
    ``scipy.optimize.milp``): at most one bundle per trip and per request.

    HiGHS, not CP-SAT: on these packings its LP bound is close to the optimum and it proves
    it fast, where CP-SAT was still 44 % off after 30 s on 200 trips x 200 requests."""

    def __init__(self, bundles: Bundles, rows: IntArray, n_trips: int, n_requests: int) -> None:
        from scipy.sparse import csr_matrix, vstack

        self.rows = rows
        n = len(rows)
        members = bundles.members[rows]
        row, col = np.nonzero(members >= 0)
        by_request = csr_matrix(
            (np.ones(len(row)), (members[row, col], row)), shape=(n_requests, n)
        )
        by_trip = csr_matrix((np.ones(n), (bundles.trip[rows], np.arange(n))), shape=(n_trips, n))
        self.packing = vstack([by_request, by_trip]).tocsr()
        self._size = bundles.size[rows]
        self._trip = bundles.trip[rows]
        self._request = members[:, 0]
        self.optimal = False
        self.status = "not solved"
        self._values = np.zeros(n, bool)
        self._bound = 0.0

    def maximise(self, weight: IntArray | FloatArray, time_limit: float | None) -> None:
        from scipy.optimize import Bounds, LinearConstraint, milp

        n = len(self.rows)
        if n == 0:
            self.optimal, self.status, self._bound = True, "optimal", 0.0
            return
        constraints = [LinearConstraint(self.packing, 0, 1)]
        options: dict[str, float | bool] = {"mip_rel_gap": 0.0, "disp": False}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        result = milp(
            -np.asarray(weight, dtype=np.float64),
            constraints=constraints,
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
            options=options,
        )
        self.optimal = result.status == 0
        self.status = "optimal" if self.optimal else str(result.message).lower()
        if result.x is not None:
            self._values = result.x > 0.5
            bound = getattr(result, "mip_dual_bound", None)
            self._bound = -float(bound) if bound is not None else math.inf
            if self.optimal:
                self._bound = float(np.asarray(weight, dtype=np.float64)[self._values].sum())
        else:
            self._values = np.zeros(n, bool)
            self._bound = math.inf
            self._singles(weight)

    def _singles(self, weight: IntArray | FloatArray) -> None:
        """Stopped before HiGHS found any packing (a time limit far too short for the day):
        the best matching of one request per trip, by the same weights, instead of no
        packing at all (a valid packing: each trip and request at most once)."""
        single = np.flatnonzero(self._size == 1)
        if not len(single):
            return
        units = np.rint(np.asarray(weight, dtype=np.float64)[single]).astype(np.int64)
        picked = max_weight_matching(self._trip[single], self._request[single], units).selected
        self._values[single[picked]] = True
        self.status += "; no packing found in time: the best one request per trip"

    def chosen(self) -> IntArray:
        return np.flatnonzero(self._values).astype(np.int64)

    def bound(self) -> float:
        return self._bound


def _from_plain(
    plain: MatchResult, trips: Trips, requests: Requests, travel: TravelModel
) -> RouteMatchResult:
    a = plain.assignment
    n = len(a)
    ones = np.ones(n, np.int64)
    # Per trip: origin (0), pickup (1), delivery (2), destination (3).
    seq = np.tile(np.arange(4, dtype=np.int64), n)
    kind = np.tile(np.array(["origin", "pickup", "delivery", "destination"], dtype=object), n)
    t, r = a.trip_index, a.request_index
    location = np.stack(
        (trips.origin[t], requests.pickup[r], requests.delivery[r], trips.destination[t]), axis=1
    ).reshape(-1, 2)
    dep = trips.earliest_departure[t]
    # The courier reaches the pickup before any wait; pickup_time is after it.
    reach = dep + travel.pairwise(trips.origin[t], requests.pickup[r])
    size = requests.size[r]
    routes = RouteStops(
        trip_index=np.repeat(t, 4),
        trip_ids=np.repeat(a.trip_ids, 4),
        seq=seq,
        kind=kind,
        request_ids=np.stack(
            (
                np.full(n, "", dtype=object),
                a.request_ids,
                a.request_ids,
                np.full(n, "", dtype=object),
            ),
            axis=1,
        ).reshape(-1),
        location=location,
        arrival=np.stack(
            (dep, np.minimum(reach, a.pickup_time), a.delivery_time, a.arrival_time), axis=1
        ).reshape(-1),
        departure=np.stack((dep, a.pickup_time, a.delivery_time, a.arrival_time), axis=1).reshape(
            -1
        ),
        load=np.stack((0 * size, size, 0 * size, 0 * size), axis=1).reshape(-1),
    )
    stats = SolveStats(
        {1: plain.stats.feasible_pairs},
        True,
        0.0,
        len(a),
        plain.stats.objective,
        "min-cost flow",
        "optimal",
    )
    return RouteMatchResult(a, ones, 2 * ones, routes, plain.stats, stats, plain)


def _assemble(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    bundles: Bundles,
    packing: _Packing,
    bundle_cost: FloatArray,
    policy: MatchingPolicy,
    timings: dict[str, float],
) -> RouteMatchResult:
    chosen = packing.chosen[np.argsort(bundles.trip[packing.chosen], kind="stable")]
    per_request: list[tuple[int, int, float, float, float, float, float, int, int]] = []
    stop_rows: list[tuple[int, int, str, str, tuple[float, float], float, float, int]] = []
    for b in chosen.tolist():
        t = int(bundles.trip[b])
        stops = bundles.stops(b)
        times = route_times(trips, requests, travel, t, stops)
        k = int(bundles.size[b])
        share_detour = float(bundles.detour[b]) / k
        share_cost = float(bundle_cost[b]) / k
        dep = float(trips.earliest_departure[t])
        stop_rows.append((t, 0, "origin", "", tuple(trips.origin[t]), dep, dep, 0))
        pickup_seq: dict[int, int] = {}
        for seq, stop in enumerate(stops, 1):
            where = (
                requests.pickup[stop.request]
                if stop.kind == PICKUP
                else requests.delivery[stop.request]
            )
            stop_rows.append(
                (
                    t,
                    seq,
                    "pickup" if stop.kind == PICKUP else "delivery",
                    str(requests.ids[stop.request]),
                    tuple(where),
                    float(times.arrival[seq - 1]),
                    float(times.departure[seq - 1]),
                    int(times.load[seq - 1]),
                )
            )
            if stop.kind == PICKUP:
                pickup_seq[stop.request] = seq
            else:
                assert stop.kind == DELIVERY
                p = pickup_seq[stop.request]
                per_request.append(
                    (
                        t,
                        stop.request,
                        share_detour,
                        share_cost,
                        float(times.departure[p - 1]),
                        float(times.arrival[seq - 1]),
                        times.end,
                        p,
                        seq,
                    )
                )
        stop_rows.append(
            (
                t,
                len(stops) + 1,
                "destination",
                "",
                tuple(trips.destination[t]),
                times.end,
                times.end,
                0,
            )
        )
    per_request.sort(key=lambda row: (row[0], row[1]))
    columns = list(zip(*per_request, strict=True)) if per_request else [()] * 9
    trip_index = np.asarray(columns[0], dtype=np.int64)
    request_index = np.asarray(columns[1], dtype=np.int64)
    assignment = Assignment(
        trip_index=trip_index,
        request_index=request_index,
        trip_ids=trips.ids[trip_index],
        request_ids=requests.ids[request_index],
        detour=np.asarray(columns[2], dtype=np.float64),
        cost=np.asarray(columns[3], dtype=np.float64),
        pickup_time=np.asarray(columns[4], dtype=np.float64),
        delivery_time=np.asarray(columns[5], dtype=np.float64),
        arrival_time=np.asarray(columns[6], dtype=np.float64),
    )
    s = list(zip(*stop_rows, strict=True)) if stop_rows else [()] * 8
    stop_trip = np.asarray(s[0], dtype=np.int64)
    routes = RouteStops(
        trip_index=stop_trip,
        trip_ids=trips.ids[stop_trip],
        seq=np.asarray(s[1], dtype=np.int64),
        kind=np.asarray(s[2], dtype=object),
        request_ids=np.asarray(s[3], dtype=object),
        location=np.asarray(s[4], dtype=np.float64).reshape(-1, 2),
        arrival=np.asarray(s[5], dtype=np.float64),
        departure=np.asarray(s[6], dtype=np.float64),
        load=np.asarray(s[7], dtype=np.int64),
    )
    stats = MatchStats(
        policy=policy.name,
        objective=packing.objective,
        objective_unit=policy.objective_unit,
        trips=len(trips),
        requests=len(requests),
        candidate_pairs=bundles.candidates,
        feasible_pairs=bundles.feasible_pairs,
        timings=timings,
    )
    return RouteMatchResult(
        assignment,
        np.asarray(columns[7], dtype=np.int64),
        np.asarray(columns[8], dtype=np.int64),
        routes,
        stats,
        packing.stats,
    )
