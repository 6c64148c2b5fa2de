"""The cost of a feasible pair: detour minutes plus optional weighted terms.

This is the paper's "Expandability" section: the cost function is a sum of terms, each a
small object computing one array over the feasible pairs. The default is the paper's
Gamma: the driver's detour in minutes. Terms may be negative (a bonus); every policy copes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from crowdship.core.feasibility import FeasiblePairs
from crowdship.core.model import FloatArray, ModelError, Requests, Trips


class CostTerm(Protocol):
    """One additive part of a pair's cost, in minute-equivalents: a new float array aligned
    with the pairs (never a view of the pairs' own arrays: the sum is built in place)."""

    @property
    def name(self) -> str: ...

    def __call__(self, trips: Trips, requests: Requests, pairs: FeasiblePairs) -> FloatArray: ...


def _check_weight(weight: float, what: str) -> None:
    if not np.isfinite(weight):
        raise ValueError(f"{what} weight must be a finite number, got {weight}")


@dataclass(frozen=True)
class DetourTerm:
    """The paper's cost: extra minutes the driver drives, times ``weight``."""

    weight: float = 1.0
    name: str = "detour"

    def __post_init__(self) -> None:
        _check_weight(self.weight, "detour")

    def __call__(self, trips: Trips, requests: Requests, pairs: FeasiblePairs) -> FloatArray:
        return self.weight * pairs.detour


@dataclass(frozen=True)
class RatingTerm:
    """Penalise low-rated couriers: ``weight x (5 - rating) / 4`` (0 for 5 stars, ``weight``
    for 1 star); unrated couriers count as ``unrated``."""

    weight: float = 5.0
    unrated: float = 3.0
    name: str = "rating"

    def __post_init__(self) -> None:
        _check_weight(self.weight, "rating")
        if not 1 <= self.unrated <= 5:
            raise ValueError(f"rating for unrated couriers must be in [1, 5], got {self.unrated}")

    def __call__(self, trips: Trips, requests: Requests, pairs: FeasiblePairs) -> FloatArray:
        rating = trips.rating[pairs.trip]
        rating = np.where(np.isnan(rating), self.unrated, rating)
        return self.weight * (5.0 - rating) / 4.0


@dataclass(frozen=True)
class PreferredCourierTerm:
    """Bonus (``-weight``) when the trip's courier is one the sender prefers."""

    weight: float = 5.0
    name: str = "preferred_courier"

    def __post_init__(self) -> None:
        _check_weight(self.weight, "preferred courier")

    def __call__(self, trips: Trips, requests: Requests, pairs: FeasiblePairs) -> FloatArray:
        out = np.zeros(len(pairs))
        if not requests.preferred_couriers:
            return out
        # Only requests with a preference need a look; usually a small share.
        with_preference = np.array([bool(p) for p in requests.preferred_couriers])
        for k in np.flatnonzero(with_preference[pairs.request]):
            if trips.courier[pairs.trip[k]] in requests.preferred_couriers[pairs.request[k]]:
                out[k] = -self.weight
        return out


@dataclass(frozen=True)
class PriorityTerm:
    """Bonus ``-weight x priority``: urgent requests win contested trips."""

    weight: float = 1.0
    name: str = "priority"

    def __post_init__(self) -> None:
        _check_weight(self.weight, "priority")

    def __call__(self, trips: Trips, requests: Requests, pairs: FeasiblePairs) -> FloatArray:
        return -self.weight * requests.priority[pairs.request]


# The largest minute-equivalents one term may give a pair. The solvers sum costs in integer
# thousandths of a minute (int64): a term far past any day's minutes (a weight of 1e15, a
# priority of 1e300) would overflow there, and a request would be dropped or the solver
# refuse the day, instead of this error naming the term.
LARGEST_TERM = 1e9


def _check_range(term: CostTerm, values: FloatArray) -> None:
    # min and max, not abs: no fresh array of millions of pairs (NaN fails the test too)
    if len(values) and not -LARGEST_TERM <= values.min() <= values.max() <= LARGEST_TERM:
        worst = float(np.abs(values).max())
        raise ModelError(
            f"the {term.name} cost term gives a pair {worst:.3g} minutes, past the "
            f"{LARGEST_TERM:g} a cost may reach: lower its weight or the values it weighs"
        )


@dataclass(frozen=True)
class CostFunction:
    """Sum of cost terms; the default is detour minutes alone."""

    terms: tuple[CostTerm, ...] = field(default_factory=lambda: (DetourTerm(),))

    def __call__(self, trips: Trips, requests: Requests, pairs: FeasiblePairs) -> FloatArray:
        if not self.terms:
            return np.zeros(len(pairs))
        only = self.terms[0]
        if len(self.terms) == 1 and isinstance(only, DetourTerm) and only.weight == 1.0:
            # The paper's cost is the detour itself: no copy (each fresh array of millions
            # of pairs costs page faults). Nothing is added to it, so sharing is safe.
            return pairs.detour
        # Summed into the first term's array: with millions of pairs every fresh array costs
        # page faults, and the default (detour alone) then needs exactly one.
        total = np.asarray(self.terms[0](trips, requests, pairs), dtype=np.float64)
        _check_range(self.terms[0], total)
        for term in self.terms[1:]:
            part = term(trips, requests, pairs)
            _check_range(term, part)
            total += part
        return total

    @classmethod
    def weighted(
        cls,
        detour: float = 1.0,
        rating: float = 0.0,
        preferred_courier: float = 0.0,
        priority: float = 0.0,
    ) -> CostFunction:
        """Detour plus any terms with a non-zero weight."""
        terms: list[CostTerm] = [DetourTerm(detour)]
        if rating:
            terms.append(RatingTerm(rating))
        if preferred_courier:
            terms.append(PreferredCourierTerm(preferred_courier))
        if priority:
            terms.append(PriorityTerm(priority))
        return cls(tuple(terms))
