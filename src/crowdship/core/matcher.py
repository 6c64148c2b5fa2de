"""The matcher: trips + requests + travel model + cost + policy -> matches.

A pure function (no database, files, clock or printing): the service, the simulator and the
command line all call :func:`match`. Phase timings are measured with a monotonic counter and
returned as statistics; they never influence the answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from crowdship.core.costs import CostFunction, DetourTerm
from crowdship.core.feasibility import (
    NO_LIMITS,
    DirectTimes,
    FeasiblePairs,
    Limits,
    feasible_pairs,
    great_circle_detours,
    schedule,
)
from crowdship.core.flow import COST_SCALE
from crowdship.core.model import FloatArray, IntArray, ModelError, Requests, Trips
from crowdship.core.policies import MatchingPolicy, MaxMatches
from crowdship.core.travel import GreatCircleTravel, TravelModel


@dataclass(frozen=True)
class Match:
    """One proposed (trip, request) pair."""

    trip_id: str
    request_id: str
    detour_min: float
    cost: float
    pickup_time: float
    delivery_time: float
    arrival_time: float


@dataclass(frozen=True)
class Assignment:
    """The chosen pairs, sorted by trip then request, with the rule's times (parallel columns)."""

    trip_index: IntArray  # positions in the trips given to the matcher
    request_index: IntArray
    trip_ids: np.ndarray
    request_ids: np.ndarray
    detour: FloatArray
    cost: FloatArray
    pickup_time: FloatArray
    delivery_time: FloatArray
    arrival_time: FloatArray

    def __len__(self) -> int:
        return len(self.trip_index)

    @property
    def total_detour(self) -> float:
        return float(self.detour.sum())

    @property
    def total_cost(self) -> float:
        return float(self.cost.sum())

    def matches(self) -> list[Match]:
        return [
            Match(
                str(self.trip_ids[k]),
                str(self.request_ids[k]),
                float(self.detour[k]),
                float(self.cost[k]),
                float(self.pickup_time[k]),
                float(self.delivery_time[k]),
                float(self.arrival_time[k]),
            )
            for k in range(len(self))
        ]


@dataclass(frozen=True)
class MatchStats:
    """The numbers needed to judge a matching: its objective, the instance's size, the time."""

    policy: str
    objective: float
    objective_unit: str
    trips: int
    requests: int
    candidate_pairs: int
    feasible_pairs: int
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided (the assignment) and how it got there (the statistics)."""

    assignment: Assignment
    stats: MatchStats

    @property
    def matched(self) -> int:
        return len(self.assignment)


def _drop_excluded(
    pairs: FeasiblePairs,
    trips: Trips,
    requests: Requests,
    exclude: Iterable[tuple[str, str]],
) -> FeasiblePairs:
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


def _costs_are_rounded_detours(cost: CostFunction, policy: MatchingPolicy) -> bool:
    """Whether the solver sees each pair only as ``rint(detour x COST_SCALE)``: the
    paper's policy on the paper's cost (the detour itself). Then the pairs' detours need
    only round right (:func:`feasible_pairs`'s ``units``)."""
    terms = cost.terms
    return (
        type(policy) is MaxMatches
        and type(cost) is CostFunction
        and len(terms) == 1
        and type(terms[0]) is DetourTerm
        and terms[0].weight == 1.0
    )


def match(
    trips: Trips,
    requests: Requests,
    travel: TravelModel | None = None,
    cost: CostFunction | None = None,
    policy: MatchingPolicy | None = None,
    limits: Limits = NO_LIMITS,
    exclude: Iterable[tuple[str, str]] = (),
) -> MatchResult:
    """Match requests to trips exactly under ``policy`` (default: the paper's max-matches).

    ``exclude`` lists ``(trip_id, request_id)`` pairs that must not be proposed (for example
    offers already rejected).
    """
    travel_model: TravelModel = travel if travel is not None else GreatCircleTravel()
    cost_function = cost if cost is not None else CostFunction()
    chosen_policy: MatchingPolicy = policy if policy is not None else MaxMatches()
    multi = np.flatnonzero(trips.capacity > 1)
    if len(multi):
        raise ModelError(
            f"trip {trips.ids[multi[0]]}: capacity {trips.capacity[multi[0]]} is not supported "
            "yet (multi-parcel routes are not implemented; use capacity 1)"
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
    # Great-circle detours need only round right when the solver sees nothing else.
    rounded = type(travel_model) is GreatCircleTravel and _costs_are_rounded_detours(
        cost_function, chosen_policy
    )
    units = float(COST_SCALE) if rounded else None
    pairs = feasible_pairs(trips, requests, travel_model, direct, limits, units)
    # A parcel larger than the trip's capacity cannot ride along.
    if requests.size.max(initial=1) > trips.capacity.min(initial=1):
        pairs = pairs.select(requests.size[pairs.request] <= trips.capacity[pairs.trip])
    pairs = _drop_excluded(pairs, trips, requests, exclude)
    lap("pairs")
    pair_cost = cost_function(trips, requests, pairs)
    lap("cost")
    outcome = chosen_policy.choose(trips, requests, pairs, pair_cost)
    lap("solve")
    chosen = pairs.select(outcome.selected)
    order = np.lexsort((chosen.request, chosen.trip))
    chosen = chosen.select(order)
    chosen_cost = pair_cost[outcome.selected][order]
    if isinstance(travel_model, GreatCircleTravel) and rounded:
        # The chosen pairs' detours (and costs: the same) as the travel model's formula
        # gives them, where the pairs' own may differ from it below the cost's resolution.
        detour = great_circle_detours(
            trips, requests, travel_model, direct, chosen.trip, chosen.request
        )
        chosen = FeasiblePairs(chosen.trip, chosen.request, detour, chosen.candidates)
        chosen_cost = detour
    times = schedule(trips, requests, travel_model, chosen.trip, chosen.request, direct)
    assignment = Assignment(
        trip_index=chosen.trip,
        request_index=chosen.request,
        trip_ids=trips.ids[chosen.trip],
        request_ids=requests.ids[chosen.request],
        detour=chosen.detour,
        cost=chosen_cost,
        pickup_time=times.pickup_time,
        delivery_time=times.delivery_time,
        arrival_time=times.arrival_time,
    )
    stats = MatchStats(
        policy=chosen_policy.name,
        objective=outcome.objective,
        objective_unit=chosen_policy.objective_unit,
        trips=len(trips),
        requests=len(requests),
        candidate_pairs=pairs.candidates,
        feasible_pairs=len(pairs),
        timings=timings,
    )
    return MatchResult(assignment, stats)
