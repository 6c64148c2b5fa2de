"""One simulated day: strategies decide when the matcher runs, couriers answer each offer.

The clock runs over the operating hours (08:00 to 18:00 by default). At a matching moment
only requests announced by the clock (and not yet past their deadline) and trips that have
not yet departed (``earliest_departure >= clock``) take part. Every proposed pair is
accepted or rejected by a draw from the courier response model; an accepted pair takes the
trip and the request out of the pool, a rejected pair is never proposed again and both
return to the pool. Randomness comes only from ``seed``, so a day is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from crowdship.core.costs import CostFunction
from crowdship.core.feasibility import NO_LIMITS, FeasiblePairs, Limits
from crowdship.core.matcher import match
from crowdship.core.model import Requests, Trips
from crowdship.core.policies import MatchingPolicy, MaxMatches
from crowdship.core.response import AlwaysAccept, CourierResponse, PaperResponse
from crowdship.core.travel import TravelModel


@dataclass(frozen=True)
class RollingHorizon:
    """Match every ``interval_min`` minutes from the start of operations."""

    interval_min: float = 40.0
    name: str = "rolling"

    def __post_init__(self) -> None:
        if not self.interval_min > 0 or not math.isfinite(self.interval_min):
            raise ValueError(f"planning interval must be > 0 minutes, got {self.interval_min}")


@dataclass(frozen=True)
class Instant:
    """The paper's instant matching: match in every minute in which a request is announced,
    and after rejections match again at once until a round has none (or nothing is left)."""

    name: str = "instant"


@dataclass(frozen=True)
class Offline:
    """Everything known in advance and nobody rejects: one matching of the whole day, the
    upper bound for any online strategy."""

    name: str = "offline"


Strategy = RollingHorizon | Instant | Offline

STRATEGY_NAMES = ("rolling", "instant", "offline")


def strategy_named(name: str, interval_min: float = 40.0) -> Strategy:
    if name == "rolling":
        return RollingHorizon(interval_min)
    if name == "instant":
        return Instant()
    if name == "offline":
        return Offline()
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGY_NAMES)}")


@dataclass(frozen=True)
class Operations:
    """Operating hours in minutes after midnight."""

    start: float = 8 * 60
    end: float = 18 * 60

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"operations must start before they end, got {self.start}-{self.end}")


@dataclass(frozen=True)
class BatchRecord:
    """One call of the matcher during the day."""

    clock: float  # minutes after midnight (NaN for the offline strategy)
    round: int  # 0 for the first matching at this moment, then 1, 2, ... after rejections
    trips: int
    requests: int
    feasible_pairs: int
    proposed: int
    accepted: int
    rejected: int
    matcher_s: float


@dataclass(frozen=True)
class Assignment:
    """An accepted match."""

    trip_id: str
    request_id: str
    clock: float
    detour_min: float
    wait_min: float  # from the request's announcement to this acceptance


@dataclass
class DayResult:
    """Metrics of one simulated day."""

    strategy: str
    interval_min: float | None
    policy: str
    response: str
    requests: int
    rejections: int
    assignments: list[Assignment]
    batches: list[BatchRecord] = field(repr=False)

    @property
    def matched(self) -> int:
        return len(self.assignments)

    @property
    def match_rate(self) -> float:
        return self.matched / self.requests if self.requests else math.nan

    @property
    def total_detour_min(self) -> float:
        return float(sum(a.detour_min for a in self.assignments))

    @property
    def mean_detour_min(self) -> float:
        return self.total_detour_min / self.matched if self.matched else math.nan

    @property
    def mean_wait_min(self) -> float:
        waits = [a.wait_min for a in self.assignments if math.isfinite(a.wait_min)]
        return float(np.mean(waits)) if waits else math.nan

    @property
    def matcher_s(self) -> float:
        return float(sum(b.matcher_s for b in self.batches))

    @property
    def matcher_s_per_batch(self) -> float:
        return self.matcher_s / len(self.batches) if self.batches else 0.0

    def metrics(self) -> dict[str, float | int | str | None]:
        return {
            "strategy": self.strategy,
            "interval_min": self.interval_min,
            "policy": self.policy,
            "response": self.response,
            "requests": self.requests,
            "matched": self.matched,
            "match_rate": self.match_rate,
            "rejections": self.rejections,
            "mean_detour_min": self.mean_detour_min,
            "total_detour_min": self.total_detour_min,
            "mean_wait_min": self.mean_wait_min,
            "batches": len(self.batches),
            "matcher_s_per_batch": self.matcher_s_per_batch,
        }


class _Day:
    """The pool of free trips and open requests, and the offers made so far."""

    def __init__(
        self,
        trips: Trips,
        requests: Requests,
        travel: TravelModel,
        policy: MatchingPolicy,
        response: CourierResponse,
        cost: CostFunction | None,
        limits: Limits,
        seed: int,
    ) -> None:
        self.trips, self.requests = trips, requests
        self.travel, self.policy, self.response = travel, policy, response
        self.cost, self.limits = cost, limits
        self.rng = np.random.default_rng(seed)
        self.trip_free = np.ones(len(trips), dtype=bool)
        self.request_open = np.ones(len(requests), dtype=bool)
        self.rejected: set[tuple[str, str]] = set()
        self.assignments: list[Assignment] = []
        self.batches: list[BatchRecord] = []

    def match_at(self, clock: float | None, round_: int = 0) -> tuple[int, int]:
        """Match the pool as it stands at ``clock`` (None: everything); returns how many
        offers were accepted and rejected."""
        trips, requests = self.trips, self.requests
        trip_ok, request_ok = self.trip_free, self.request_open
        if clock is not None:
            trip_ok = trip_ok & (trips.earliest_departure >= clock)
            request_ok = (
                request_ok & (requests.announced_at <= clock) & (requests.latest_delivery >= clock)
            )
        trip_index, request_index = np.flatnonzero(trip_ok), np.flatnonzero(request_ok)
        if len(trip_index) == 0 or len(request_index) == 0:
            return 0, 0
        pool_trips, pool_requests = trips.subset(trip_index), requests.subset(request_index)
        result = match(
            pool_trips,
            pool_requests,
            self.travel,
            self.cost,
            self.policy,
            self.limits,
            exclude=self.rejected,
        )
        offered = FeasiblePairs(
            trip=result.assignment.trip_index,
            request=result.assignment.request_index,
            detour=result.assignment.detour,
            candidates=result.matched,
        )
        accept_p = self.response.accept_probability(pool_trips, pool_requests, offered)
        # One draw per offer, in the matcher's (trip, request) order: reproducible.
        accepted = self.rng.random(result.matched) < accept_p
        moment = math.nan if clock is None else clock
        for k in range(result.matched):
            t = int(trip_index[result.assignment.trip_index[k]])
            r = int(request_index[result.assignment.request_index[k]])
            trip_id, request_id = str(trips.ids[t]), str(requests.ids[r])
            if accepted[k]:
                self.trip_free[t] = False
                self.request_open[r] = False
                announced = float(requests.announced_at[r])
                wait = moment - announced if math.isfinite(announced) else math.nan
                self.assignments.append(
                    Assignment(
                        trip_id, request_id, moment, float(result.assignment.detour[k]), wait
                    )
                )
            else:
                self.rejected.add((trip_id, request_id))
        n_accepted = int(accepted.sum())
        self.batches.append(
            BatchRecord(
                clock=moment,
                round=round_,
                trips=len(trip_index),
                requests=len(request_index),
                feasible_pairs=result.stats.feasible_pairs,
                proposed=result.matched,
                accepted=n_accepted,
                rejected=result.matched - n_accepted,
                matcher_s=result.stats.seconds,
            )
        )
        return n_accepted, result.matched - n_accepted


def _rolling_clock(operations: Operations, interval: float) -> Iterator[float]:
    step = 0
    while operations.start + step * interval <= operations.end + 1e-9:
        yield operations.start + step * interval
        step += 1


def _instant_clock(requests: Requests, operations: Operations) -> list[float]:
    """Every whole minute of operations in which at least one request becomes known;
    requests announced before opening are all known at the first minute."""
    announced = requests.announced_at[requests.announced_at <= operations.end]
    minutes = np.maximum(np.ceil(announced), math.ceil(operations.start))
    return sorted({float(m) for m in minutes if m <= operations.end})


def simulate_day(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    strategy: Strategy,
    *,
    policy: MatchingPolicy | None = None,
    response: CourierResponse | None = None,
    cost: CostFunction | None = None,
    limits: Limits = NO_LIMITS,
    operations: Operations | None = None,
    seed: int = 0,
) -> DayResult:
    """Run one day under ``strategy`` and return its metrics and per-batch log.

    The offline strategy ignores ``response`` (nobody rejects) and the clock.
    """
    chosen_policy = policy if policy is not None else MaxMatches()
    chosen_response: CourierResponse = response if response is not None else PaperResponse()
    hours = operations if operations is not None else Operations()
    if isinstance(strategy, Offline):
        chosen_response = AlwaysAccept()
    day = _Day(trips, requests, travel, chosen_policy, chosen_response, cost, limits, seed)
    rejections = 0
    if isinstance(strategy, Offline):
        day.match_at(None)
    elif isinstance(strategy, RollingHorizon):
        for clock in _rolling_clock(hours, strategy.interval_min):
            rejections += day.match_at(clock)[1]
    else:
        for clock in _instant_clock(requests, hours):
            round_ = 0
            while True:
                accepted, rejected = day.match_at(clock, round_)
                rejections += rejected
                if rejected == 0:
                    break
                round_ += 1
    return DayResult(
        strategy=strategy.name,
        interval_min=strategy.interval_min if isinstance(strategy, RollingHorizon) else None,
        policy=chosen_policy.name,
        response=chosen_response.name,
        requests=len(requests),
        rejections=rejections,
        assignments=day.assignments,
        batches=day.batches,
    )
