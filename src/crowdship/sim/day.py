"""One simulated day: strategies decide when the matcher runs, couriers answer each offer.

The clock runs over the operating hours (08:00 to 18:00 by default). At a matching moment
only requests announced by the clock (and not yet past their deadline) and trips announced by
the clock that have not yet departed (``earliest_departure >= clock``) take part. Every
proposed pair is accepted or rejected by a draw from the courier response model; an accepted
pair takes the trip and the request out of the pool. A rejected pair returns both to the
pool: by default (the paper's reading) it is left out of the re-matching at that moment and
considered again at the next one; ``rejection="exclude"`` leaves it out for the rest of the
day. Randomness comes only from ``seed``, so a day is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from crowdship.core.bundles import RouteMatchResult, match_routes
from crowdship.core.costs import CostFunction
from crowdship.core.feasibility import NO_LIMITS, FeasiblePairs, Limits
from crowdship.core.matcher import MatchResult, match
from crowdship.core.model import FloatArray, IntArray, Requests, Trips
from crowdship.core.policies import MatchingPolicy, MaxMatches, MinCost
from crowdship.core.response import AlwaysAccept, CourierResponse, PaperResponse
from crowdship.core.travel import TravelModel

Rejection = Literal["retry", "exclude"]
#: Bundles of each size a trip keeps when it can carry several parcels (see
#: ``match_routes``): on the paper's day 20 gave 1.175 min of detour per parcel where every
#: bundle gave 1.16, in a seventh of the time (docs/benchmarks.md, issue 15).
BUNDLES_PER_TRIP: int | None = 20
REJECTIONS: tuple[Rejection, ...] = ("retry", "exclude")


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
    """The paper's instant matching: match in every minute in which a request (or a trip) is
    announced, and after rejections match again at once until a round has none (or nothing
    is left)."""

    name: str = "instant"


@dataclass(frozen=True)
class Offline:
    """Everything known in advance and nobody rejects: one matching of the whole day, the
    upper bound for any online strategy."""

    name: str = "offline"


@dataclass(frozen=True)
class JustInTime:
    """Keep the pool open and commit a pair only when waiting longer would lose it.

    At every event (an announcement, a rejection, a commit moment) the whole open pool is
    matched again; that matching is a plan, not an offer. A planned pair is offered only
    when its trip departs within ``lead_min`` minutes (a request whose feasible trips are all
    about to leave is then always among them: its planned trip is one of those trips), or,
    with ``max_wait_min``, when its request has waited that long since its announcement
    (a promise to the sender). At the end of operations the rest of the plan is offered.
    """

    lead_min: float = 15.0
    max_wait_min: float | None = None
    name: str = "jit"

    def __post_init__(self) -> None:
        if not self.lead_min >= 0 or not math.isfinite(self.lead_min):
            raise ValueError(f"just-in-time lead must be >= 0 minutes, got {self.lead_min}")
        if self.max_wait_min is not None and not self.max_wait_min >= 0:
            raise ValueError(f"maximum wait must be >= 0 minutes, got {self.max_wait_min}")


Strategy = RollingHorizon | Instant | Offline | JustInTime

STRATEGY_NAMES = ("rolling", "instant", "offline", "jit")


def strategy_named(
    name: str,
    interval_min: float = 40.0,
    lead_min: float = 15.0,
    max_wait_min: float | None = None,
) -> Strategy:
    if name == "rolling":
        return RollingHorizon(interval_min)
    if name == "instant":
        return Instant()
    if name == "offline":
        return Offline()
    if name == "jit":
        return JustInTime(lead_min, max_wait_min)
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGY_NAMES)}")


@dataclass(frozen=True)
class Anticipation:
    """Price trips by the requests they could still serve later.

    ``future`` is a sampled day of requests from the same scenario process (never the real
    day). At each matching the sampled requests not yet announced by the clock join the pool
    as phantoms: they compete for trips, so a trip that many later requests could use is not
    spent on a request that other trips can serve, but only real requests are offered. The
    matching maximises value minus detour, a real request worth ``value`` minutes and a
    phantom ``weight x value`` (with ``weight < 1/2`` one real match outweighs two phantoms).
    """

    future: Requests
    weight: float = 0.3
    value: float = 1000.0

    def __post_init__(self) -> None:
        if not 0 <= self.weight < 1:
            raise ValueError(f"phantom weight must be in [0, 1), got {self.weight}")
        if not self.value > 0:
            raise ValueError(f"request value must be > 0 minutes, got {self.value}")

    def phantoms(self, clock: float) -> Requests:
        future = self.future
        later = np.flatnonzero((future.announced_at > clock) & (future.latest_delivery >= clock))
        return future.subset(later)


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
    """One decision moment of the day: a matcher call and the offers made from it (the
    just-in-time strategy also offers from a standing plan: then ``solved`` is False)."""

    clock: float  # minutes after midnight (NaN for the offline strategy)
    round: int  # 0 for the first matching at this moment, then 1, 2, ... after rejections
    trips: int
    requests: int
    feasible_pairs: int
    proposed: int
    accepted: int
    rejected: int
    matcher_s: float
    solved: bool = True


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

    def _waits(self) -> list[float]:
        return [a.wait_min for a in self.assignments if math.isfinite(a.wait_min)]

    @property
    def mean_wait_min(self) -> float:
        waits = self._waits()
        return float(np.mean(waits)) if waits else math.nan

    @property
    def median_wait_min(self) -> float:
        waits = self._waits()
        return float(np.median(waits)) if waits else math.nan

    @property
    def p90_wait_min(self) -> float:
        waits = self._waits()
        return float(np.percentile(waits, 90)) if waits else math.nan

    @property
    def matcher_calls(self) -> int:
        return sum(1 for b in self.batches if b.solved)

    @property
    def matcher_s(self) -> float:
        return float(sum(b.matcher_s for b in self.batches))

    @property
    def matcher_s_per_batch(self) -> float:
        calls = self.matcher_calls
        return self.matcher_s / calls if calls else 0.0

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
            "median_wait_min": self.median_wait_min,
            "p90_wait_min": self.p90_wait_min,
            "batches": self.matcher_calls,
            "matcher_s_per_batch": self.matcher_s_per_batch,
        }


@dataclass
class _Plan:
    """A matching of the pool at one moment: pairs as positions in the whole day."""

    trip: IntArray
    request: IntArray
    detour: FloatArray
    trips: int
    requests: int
    feasible_pairs: int
    seconds: float


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
        rejection: Rejection,
        trip_announced_at: FloatArray,
        anticipation: Anticipation | None,
        bundles_per_trip: int | None = None,
    ) -> None:
        self.trips, self.requests = trips, requests
        self.travel, self.policy, self.response = travel, policy, response
        self.cost, self.limits = cost, limits
        self.rejection = rejection
        self.trip_announced_at = trip_announced_at
        self.anticipation = anticipation
        self.bundles_per_trip = bundles_per_trip
        self.rng = np.random.default_rng(seed)
        self.trip_free = np.ones(len(trips), dtype=bool)
        self.request_open = np.ones(len(requests), dtype=bool)
        self.rejected: set[tuple[str, str]] = set()  # for the day ("exclude")
        self.rejected_now: set[tuple[str, str]] = set()  # until the next moment ("retry")
        self.assignments: list[Assignment] = []
        self.batches: list[BatchRecord] = []
        self.rejections = 0

    def next_moment(self) -> None:
        """The clock moved on: pairs rejected at the last moment may be proposed again."""
        self.rejected_now.clear()

    def plan(self, clock: float | None) -> _Plan:
        """Match the pool as it stands at ``clock`` (None: everything)."""
        trips, requests = self.trips, self.requests
        trip_ok, request_ok = self.trip_free, self.request_open
        if clock is not None:
            trip_ok = (
                trip_ok & (trips.earliest_departure >= clock) & (self.trip_announced_at <= clock)
            )
            request_ok = (
                request_ok & (requests.announced_at <= clock) & (requests.latest_delivery >= clock)
            )
        trip_index, request_index = np.flatnonzero(trip_ok), np.flatnonzero(request_ok)
        empty = _Plan(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0, 0, 0, 0.0)
        if len(trip_index) == 0 or len(request_index) == 0:
            return empty
        pool_trips, pool_requests = trips.subset(trip_index), requests.subset(request_index)
        policy = self.policy
        real = len(request_index)
        if self.anticipation is not None and clock is not None:
            pool_requests = _with_phantoms(pool_requests, self.anticipation, clock)
            policy = MinCost()
        result: MatchResult | RouteMatchResult
        if int(pool_trips.capacity.max()) > 1:
            # Several parcels per trip: each offer is one parcel of the trip's route (its
            # share of the route's detour); a trip that accepts any leaves the pool with
            # them (parcels are not added to a trip that already carries some).
            result = match_routes(
                pool_trips,
                pool_requests,
                self.travel,
                self.cost,
                policy,
                self.limits,
                exclude=self.rejected | self.rejected_now,
                bundles_per_trip=self.bundles_per_trip,
            )
        else:
            result = match(
                pool_trips,
                pool_requests,
                self.travel,
                self.cost,
                policy,
                self.limits,
                exclude=self.rejected | self.rejected_now,
            )
        chosen = result.assignment
        keep = chosen.request_index < real  # phantoms are never offered
        return _Plan(
            trip=trip_index[chosen.trip_index[keep]],
            request=request_index[chosen.request_index[keep]],
            detour=chosen.detour[keep],
            trips=len(trip_index),
            requests=len(request_index),
            feasible_pairs=result.stats.feasible_pairs,
            seconds=result.stats.seconds,
        )

    def offer(
        self, clock: float | None, round_: int, plan: _Plan, chosen: IntArray, solved: bool
    ) -> tuple[int, int]:
        """Offer the plan's pairs at ``chosen`` (in trip order); returns how many were
        accepted and rejected."""
        t, r, detour = plan.trip[chosen], plan.request[chosen], plan.detour[chosen]
        n = len(chosen)
        # A trip of capacity > 1 may be offered several parcels at once: each trip once.
        offered_trips, trip_of = np.unique(t, return_inverse=True)
        offered = FeasiblePairs(
            trip=trip_of.astype(np.int64),
            request=np.arange(n, dtype=np.int64),
            detour=detour,
            candidates=n,
        )
        accept_p = self.response.accept_probability(
            self.trips.subset(offered_trips), self.requests.subset(r), offered
        )
        # One draw per offer, in (trip, request) order: reproducible.
        accepted = self.rng.random(n) < accept_p
        moment = math.nan if clock is None else clock
        for k in range(n):
            trip_id, request_id = str(self.trips.ids[t[k]]), str(self.requests.ids[r[k]])
            if accepted[k]:
                self.trip_free[t[k]] = False
                self.request_open[r[k]] = False
                announced = float(self.requests.announced_at[r[k]])
                wait = moment - announced if math.isfinite(announced) else math.nan
                self.assignments.append(
                    Assignment(trip_id, request_id, moment, float(detour[k]), wait)
                )
            elif self.rejection == "exclude":
                self.rejected.add((trip_id, request_id))
            else:
                self.rejected_now.add((trip_id, request_id))
        n_accepted = int(accepted.sum())
        self.rejections += n - n_accepted
        self.batches.append(
            BatchRecord(
                clock=moment,
                round=round_,
                trips=plan.trips,
                requests=plan.requests,
                feasible_pairs=plan.feasible_pairs,
                proposed=n,
                accepted=n_accepted,
                rejected=n - n_accepted,
                matcher_s=plan.seconds if solved else 0.0,
                solved=solved,
            )
        )
        return n_accepted, n - n_accepted

    def match_at(self, clock: float | None, round_: int = 0) -> tuple[int, int]:
        """Match the pool at ``clock`` and offer every pair of the matching."""
        plan = self.plan(clock)
        if plan.trips == 0 or plan.requests == 0:
            return 0, 0
        return self.offer(clock, round_, plan, np.arange(len(plan.trip)), solved=True)


def _with_phantoms(pool: Requests, anticipation: Anticipation, clock: float) -> Requests:
    """The real pool followed by the sampled requests still to come, valued for ``MinCost``."""
    phantoms = anticipation.phantoms(clock)
    n, m = len(pool), len(phantoms)

    def both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])

    return Requests(
        ids=both(pool.ids, np.asarray([f"~{i}" for i in phantoms.ids], dtype=object)),
        pickup=both(pool.pickup, phantoms.pickup),
        delivery=both(pool.delivery, phantoms.delivery),
        earliest_pickup=both(pool.earliest_pickup, phantoms.earliest_pickup),
        latest_delivery=both(pool.latest_delivery, phantoms.latest_delivery),
        announced_at=both(pool.announced_at, phantoms.announced_at),
        size=both(pool.size, phantoms.size),
        priority=both(pool.priority, phantoms.priority),
        value=both(
            np.full(n, anticipation.value), np.full(m, anticipation.weight * anticipation.value)
        ),
        sender=both(pool.sender, phantoms.sender),
    )


def _rolling_clock(operations: Operations, interval: float) -> Iterator[float]:
    step = 0
    while operations.start + step * interval <= operations.end + 1e-9:
        yield operations.start + step * interval
        step += 1


def _announcement_minutes(announced_at: FloatArray, operations: Operations) -> list[float]:
    """Every whole minute of operations in which at least one of these becomes known;
    anything announced before opening is known at the first minute."""
    announced = announced_at[announced_at <= operations.end]
    minutes = np.maximum(np.ceil(announced), math.ceil(operations.start))
    return sorted({float(m) for m in minutes if m <= operations.end})


def _instant_clock(
    requests: Requests, trip_announced_at: FloatArray, operations: Operations
) -> list[float]:
    """The minutes with a request announcement, and those with a trip announcement after
    opening (trips known at the start add no moment of their own)."""
    minutes = set(_announcement_minutes(requests.announced_at, operations))
    later_trips = trip_announced_at[trip_announced_at > operations.start]
    minutes |= set(_announcement_minutes(later_trips, operations))
    return sorted(minutes)


def _run_instant(day: _Day, clocks: list[float]) -> None:
    for clock in clocks:
        day.next_moment()
        round_ = 0
        while True:
            _, rejected = day.match_at(clock, round_)
            if rejected == 0:
                break
            round_ += 1


def _run_just_in_time(day: _Day, strategy: JustInTime, hours: Operations) -> None:
    """Plan at every announcement and after every rejection; offer a planned pair at its
    commit moment (its trip's departure minus the lead, or its request's announcement plus
    the longest wait); offer the rest of the plan when operations end."""
    trips, requests = day.trips, day.requests
    news = _instant_clock(requests, day.trip_announced_at, hours)
    upcoming = 0  # position in ``news`` of the next announcement moment
    clock = news[0] if news else hours.start
    plan: _Plan | None = None
    stale = True
    while clock <= hours.end + 1e-9:
        while upcoming < len(news) and news[upcoming] <= clock + 1e-9:
            upcoming += 1
            stale = True
        round_ = 0
        while True:
            solved = stale or plan is None
            if solved:
                plan = day.plan(clock)
                stale = False
            assert plan is not None
            due_at = _commit_moments(plan, trips, requests, strategy)
            final = clock >= hours.end - 1e-9
            due = np.flatnonzero(due_at <= clock + 1e-9) if not final else np.arange(len(due_at))
            if len(due) == 0:
                if solved and plan.trips and plan.requests:
                    day.offer(clock, round_, plan, due, solved)  # a plan, nothing offered yet
                break
            _, rejected = day.offer(clock, round_, plan, due, solved)
            keep = np.ones(len(plan.trip), dtype=bool)
            keep[due] = False
            plan = _Plan(
                plan.trip[keep], plan.request[keep], plan.detour[keep],
                plan.trips, plan.requests, plan.feasible_pairs, plan.seconds,
            )  # fmt: skip
            if rejected == 0:
                # Without the accepted pairs the rest of the plan is still an optimal
                # matching of the rest of the pool: no need to match again.
                break
            stale = True
            round_ += 1
        # The next event: an announcement or the earliest commit moment still planned.
        candidates = [hours.end]
        if upcoming < len(news):
            candidates.append(news[upcoming])
        if plan is not None and len(plan.trip):
            candidates.append(float(_commit_moments(plan, trips, requests, strategy).min()))
        following = max(min(candidates), clock)
        if following <= clock + 1e-9:
            if clock >= hours.end - 1e-9:
                break
            following = min(c for c in candidates if c > clock + 1e-9)
        if day.rejected_now:
            stale = True  # pairs rejected at this moment are considered again
        day.next_moment()
        clock = following


def _commit_moments(
    plan: _Plan, trips: Trips, requests: Requests, strategy: JustInTime
) -> FloatArray:
    moment = trips.earliest_departure[plan.trip] - strategy.lead_min
    if strategy.max_wait_min is not None:
        promised = requests.announced_at[plan.request] + strategy.max_wait_min
        moment = np.minimum(moment, promised)
    return moment


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
    rejection: Rejection = "retry",
    trip_announced_at: FloatArray | None = None,
    anticipation: Anticipation | None = None,
    bundles_per_trip: int | None = BUNDLES_PER_TRIP,
) -> DayResult:
    """Run one day under ``strategy`` and return its metrics and per-batch log.

    ``trip_announced_at`` (minutes, one per trip; default: all known from the start) is when
    each trip becomes known. ``anticipation`` adds sampled future requests to every online
    matching. The offline strategy ignores ``response`` (nobody rejects), the clock and
    ``anticipation``. Trips of capacity > 1 are matched with routes
    (:func:`crowdship.core.bundles.match_routes`), keeping ``bundles_per_trip`` bundles of
    each size per trip (None: every bundle, exact but slow on busy days).
    """
    if rejection not in REJECTIONS:
        raise ValueError(f"rejection must be one of {', '.join(REJECTIONS)}, got {rejection!r}")
    chosen_policy = policy if policy is not None else MaxMatches()
    chosen_response: CourierResponse = response if response is not None else PaperResponse()
    hours = operations if operations is not None else Operations()
    known = (
        np.full(len(trips), -np.inf)
        if trip_announced_at is None
        else np.asarray(trip_announced_at, dtype=float)
    )
    if known.shape != (len(trips),):
        raise ValueError(f"trip_announced_at must have {len(trips)} values, got {known.shape}")
    if isinstance(strategy, Offline):
        chosen_response = AlwaysAccept()
        anticipation = None
    day = _Day(
        trips, requests, travel, chosen_policy, chosen_response, cost, limits, seed,
        rejection, known, anticipation, bundles_per_trip,
    )  # fmt: skip
    if isinstance(strategy, Offline):
        day.match_at(None)
    elif isinstance(strategy, RollingHorizon):
        for clock in _rolling_clock(hours, strategy.interval_min):
            day.next_moment()
            day.match_at(clock)
    elif isinstance(strategy, JustInTime):
        _run_just_in_time(day, strategy, hours)
    else:
        _run_instant(day, _instant_clock(requests, known, hours))
    return DayResult(
        strategy=strategy.name,
        interval_min=strategy.interval_min if isinstance(strategy, RollingHorizon) else None,
        policy="anticipatory" if anticipation is not None else chosen_policy.name,
        response=chosen_response.name,
        requests=len(requests),
        rejections=day.rejections,
        assignments=day.assignments,
        batches=day.batches,
    )
