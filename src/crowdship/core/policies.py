"""Matching policies: which feasible pairs to propose. Each one is solved exactly.

- ``MaxMatches`` (the paper's): the most matches, then the least total cost.
- ``MinCost``: serve a request only where its value exceeds the pair's cost; maximise the
  total net value (value - cost).
- ``AcceptanceAware``: maximise the expected number of accepted offers under a courier
  response model (a rejected offer leaves both sides unmatched for this round).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from crowdship.core.feasibility import FeasiblePairs
from crowdship.core.flow import (
    COST_SCALE,
    certified_max_matching_min_cost,
    max_matching_min_cost,
    max_weight_matching,
    to_units,
)
from crowdship.core.model import FloatArray, IntArray, ModelError, Requests, Trips
from crowdship.core.response import CourierResponse, PaperResponse

# Acceptance probabilities are solved in integer millionths.
PROBABILITY_SCALE = 1_000_000


@dataclass(frozen=True)
class PolicyOutcome:
    selected: IntArray  # positions into the feasible pairs
    objective: float  # in the policy's own unit (see ``objective_unit``)


class MatchingPolicy(Protocol):
    """Chooses a matching among feasible pairs (each trip and request at most once)."""

    @property
    def name(self) -> str: ...

    @property
    def objective_unit(self) -> str: ...

    def choose(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs, cost: FloatArray
    ) -> PolicyOutcome: ...


@dataclass(frozen=True)
class MaxMatches:
    """The paper's policy: maximum number of matches, then minimum total cost.

    Above ``certify_above`` feasible pairs the flow is solved on each node's
    ``keep_per_node`` cheapest pairs and proven optimal for all pairs by a dual certificate
    (pairs that break it are added back); the answer is the same optimum, found faster.
    """

    certify_above: int = 100_000
    # 10 balances the first solve's size against rounds: at 20000x8000 and 100000x40000
    # it needs one more solve where 6 needed two (benchmarks/bench_matching.py).
    keep_per_node: int = 10
    name: str = "max-matches"
    objective_unit: str = "total cost (min)"

    def __post_init__(self) -> None:
        if self.keep_per_node < 1:
            raise ValueError(f"keep_per_node must be >= 1, got {self.keep_per_node}")

    def choose(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs, cost: FloatArray
    ) -> PolicyOutcome:
        units = to_units(cost)
        if len(pairs) > self.certify_above:
            solution, _ = certified_max_matching_min_cost(
                pairs.trip, pairs.request, units, len(trips), len(requests), self.keep_per_node
            )
        else:
            solution = max_matching_min_cost(pairs.trip, pairs.request, units)
        return PolicyOutcome(solution.selected, solution.total_cost / COST_SCALE)


@dataclass(frozen=True)
class MinCost:
    """Serve a request only where its value exceeds the cost; maximise value - cost."""

    name: str = "min-cost"
    objective_unit: str = "net value (min)"

    def choose(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs, cost: FloatArray
    ) -> PolicyOutcome:
        value = requests.value[pairs.request]
        missing = np.isnan(requests.value)
        if missing.any():
            first = requests.ids[int(np.flatnonzero(missing)[0])]
            raise ModelError(f"policy min-cost needs a value for every request; {first} has none")
        solution = max_weight_matching(pairs.trip, pairs.request, to_units(value - cost))
        return PolicyOutcome(solution.selected, solution.total_cost / COST_SCALE)


@dataclass(frozen=True)
class AcceptanceAware:
    """Maximise the expected number of accepted offers."""

    response: CourierResponse = field(default_factory=PaperResponse)
    name: str = "acceptance-aware"
    objective_unit: str = "expected acceptances"

    def choose(
        self, trips: Trips, requests: Requests, pairs: FeasiblePairs, cost: FloatArray
    ) -> PolicyOutcome:
        probability = self.response.accept_probability(trips, requests, pairs)
        weight = np.rint(probability * PROBABILITY_SCALE).astype(np.int64)
        solution = max_weight_matching(pairs.trip, pairs.request, weight)
        return PolicyOutcome(solution.selected, solution.total_cost / PROBABILITY_SCALE)


POLICIES: dict[str, Callable[[], MatchingPolicy]] = {
    "max-matches": MaxMatches,
    "min-cost": MinCost,
    "acceptance-aware": AcceptanceAware,
}


def policy_named(name: str) -> MatchingPolicy:
    """The policy with this name (as the command line spells it)."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}") from None
