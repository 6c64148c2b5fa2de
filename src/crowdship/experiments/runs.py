"""One run of an experiment: a generated day simulated under one strategy and policy.

A run is described completely by a :class:`RunSpec` (a small, picklable value), so any
executor (in-process, local worker processes, a Dask cluster) produces the same row for the
same spec. Wall-clock seconds are the only column that differs between executions.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from crowdship.core.policies import AcceptanceAware, MatchingPolicy, policy_named
from crowdship.core.response import AlwaysAccept, CourierResponse, LogitResponse, PaperResponse
from crowdship.sim.day import Anticipation, Rejection, simulate_day, strategy_named
from crowdship.sim.scenarios import ScenarioParams, generate, trip_announcements

# The columns the issue fixes, in order, then the extra metrics we record.
RUN_COLUMNS = (
    "experiment",
    "strategy",
    "interval_min",
    "ratio",
    "repetition",
    "seed",
    "trips",
    "requests",
    "matched",
    "match_rate",
    "rejections",
    "mean_detour_min",
    "wall_s",
    "policy",
    "response",
    "total_detour_min",
    "mean_wait_min",
    "batches",
    "matcher_s_per_batch",
    "variant",
    "lead_min",
    "max_wait_min",
    "rejection",
    "median_wait_min",
    "p90_wait_min",
    "phantom_weight",
)
# Columns that measure time spent and so differ from one execution to the next.
TIMING_COLUMNS = ("wall_s", "matcher_s_per_batch")

RESPONSES: dict[str, CourierResponse] = {
    "paper": PaperResponse(),
    "always": AlwaysAccept(),
    "logit": LogitResponse(),
}


def response_named(name: str) -> CourierResponse:
    try:
        return RESPONSES[name]
    except KeyError:
        raise ValueError(
            f"unknown courier response {name!r}; choose one of {', '.join(RESPONSES)}"
        ) from None


ANTICIPATORY = "anticipatory"


def policy_for(name: str, response: CourierResponse) -> MatchingPolicy:
    """The policy by name; acceptance-aware plans with the same response the couriers use.
    (The anticipatory policy is the simulator's: see :func:`anticipation_for`.)"""
    if name == "acceptance-aware":
        return AcceptanceAware(response=response)
    if name == ANTICIPATORY:
        return policy_named("max-matches")
    return policy_named(name)


PHANTOM_WEIGHT = 0.3  # a sampled request's value, as a share of a real one's


def anticipation_for(
    params: ScenarioParams, seed: int, weight: float = PHANTOM_WEIGHT
) -> Anticipation:
    """Sampled future requests for the day of ``seed``: a day drawn from the same scenario
    process with another seed (the real day's future is never looked at)."""
    sample_seed = int(np.random.SeedSequence([seed, 2]).generate_state(1, dtype=np.uint32)[0])
    _, future = generate(params, sample_seed)
    return Anticipation(future, weight=weight)


@dataclass(frozen=True)
class RunSpec:
    experiment: str
    strategy: str
    interval_min: float | None
    ratio: float
    repetition: int
    seed: int  # the scenario's seed; the courier responses are seeded from it too
    params: ScenarioParams  # with the run's trip and request counts
    policy: str = "max-matches"
    response: str = "paper"
    variant: str = ""  # a label for a sensitivity or announcement setting
    lead_min: float | None = None  # just-in-time: commit this long before the trip departs
    max_wait_min: float | None = None  # just-in-time: answer every request within this
    rejection: Rejection = "retry"
    phantom_weight: float | None = None  # anticipatory: None is PHANTOM_WEIGHT


def scenario_seed(base_seed: int, experiment: str, ratio: float, repetition: int) -> int:
    """A stable seed per (experiment, ratio, repetition): every strategy and interval of
    one repetition sees the same day (common random numbers)."""
    entropy = [base_seed, zlib.crc32(experiment.encode()), round(ratio * 1_000_000), repetition]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def response_seed(spec: RunSpec) -> int:
    interval = 0 if spec.interval_min is None else round(spec.interval_min * 1000)
    entropy = [spec.seed, zlib.crc32(spec.strategy.encode()), interval]
    if spec.strategy == "jit":
        lead = 0 if spec.lead_min is None else round(spec.lead_min * 1000)
        wait = 0 if spec.max_wait_min is None else 1 + round(spec.max_wait_min * 1000)
        entropy += [lead, wait]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def run(spec: RunSpec) -> dict[str, Any]:
    """Generate the day, simulate it, and return one ``runs.csv`` row."""
    started = time.perf_counter()
    anticipatory = spec.policy == ANTICIPATORY
    weight = PHANTOM_WEIGHT if spec.phantom_weight is None else spec.phantom_weight
    trips, requests = generate(spec.params, spec.seed)
    response = response_named(spec.response)
    result = simulate_day(
        trips,
        requests,
        spec.params.travel,
        strategy_named(
            spec.strategy,
            40.0 if spec.interval_min is None else spec.interval_min,
            15.0 if spec.lead_min is None else spec.lead_min,
            spec.max_wait_min,
        ),
        policy=policy_for(spec.policy, response),
        response=response,
        seed=response_seed(spec),
        rejection=spec.rejection,
        trip_announced_at=trip_announcements(spec.params, trips, spec.seed),
        anticipation=(anticipation_for(spec.params, spec.seed, weight) if anticipatory else None),
    )
    metrics = result.metrics()
    row: dict[str, Any] = {
        "experiment": spec.experiment,
        "strategy": spec.strategy,
        "interval_min": spec.interval_min,
        "ratio": spec.ratio,
        "repetition": spec.repetition,
        "seed": spec.seed,
        "trips": len(trips),
        "requests": len(requests),
        **{key: metrics[key] for key in RUN_COLUMNS if key in metrics and key != "strategy"},
        "wall_s": time.perf_counter() - started,
        "variant": spec.variant,
        "lead_min": spec.lead_min,
        "max_wait_min": spec.max_wait_min,
        "rejection": spec.rejection,
        "phantom_weight": weight if anticipatory else None,
    }
    row["response"] = result.response
    return {column: row[column] for column in RUN_COLUMNS}


def with_counts(params: ScenarioParams, trips: int, ratio: float) -> ScenarioParams:
    """The scenario with ``trips`` trips and ``ratio`` x trips requests, rounded to the
    nearest whole count: the requests the day draws. Whether a day holds that many is
    ScenarioParams' check, on the counts drawn."""
    if not ratio > 0 or not np.isfinite(ratio):
        raise ValueError(f"request/trip ratio must be > 0, got {ratio:g}")
    if trips < 1:
        raise ValueError(f"trips must be >= 1, got {trips}")
    try:
        requests = round(ratio * trips)
    except OverflowError:  # past the floats' range, so past any day: no count to check
        raise ValueError(
            f"request/trip ratio {ratio:g} with {trips} trips gives more requests than a day holds"
        ) from None
    try:
        return replace(params, trips=trips, requests=requests)
    except ValueError as error:
        raise ValueError(f"request/trip ratio {ratio:g} with {trips} trips: {error}") from None
