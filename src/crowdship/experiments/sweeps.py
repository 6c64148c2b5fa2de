"""The paper's two experiments as lists of runs, and their summary with 95% intervals.

Figure 5 (``ratio``): 1000 trips, 100 to 1000 requests, each day matched once with
everything known (the offline strategy: the paper solved each generated problem once).
Figure 6 (``interval``): a 40% request/trip ratio simulated with a rolling horizon of 10 to
120 minutes and with instant matching; we add the offline bound to every repetition so the
gap of each strategy to the bound is measured on the same days.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from crowdship.experiments.runs import RUN_COLUMNS, RunSpec, scenario_seed, with_counts
from crowdship.sim.day import RollingHorizon, strategy_named
from crowdship.sim.scenarios import ScenarioParams

DEFAULT_RATIOS = tuple(round(0.1 * k, 1) for k in range(1, 11))
DEFAULT_INTERVALS = tuple(float(k) for k in range(10, 121, 10))
INTERVAL_RATIO = 0.4


def ratio_specs(
    params: ScenarioParams,
    trips: int,
    ratios: Sequence[float],
    repetitions: int,
    seed: int,
    strategies: Sequence[str] = ("offline",),
    interval_min: float = 40.0,
    policies: Sequence[str] = ("max-matches",),
    response: str = "paper",
) -> list[RunSpec]:
    for strategy in strategies:
        strategy_named(strategy, interval_min)  # refuses unknown names and intervals <= 0
    specs = []
    for ratio in ratios:
        counts = with_counts(params, trips, ratio)
        for repetition in range(repetitions):
            day = RunSpec(
                experiment="ratio",
                strategy="offline",
                interval_min=None,
                ratio=ratio,
                repetition=repetition,
                seed=scenario_seed(seed, "ratio", ratio, repetition),
                params=counts,
                response=response,
            )
            for strategy in strategies:
                interval = interval_min if strategy == "rolling" else None
                for policy in policies if strategy != "offline" else ("max-matches",):
                    specs.append(
                        replace(day, strategy=strategy, interval_min=interval, policy=policy)
                    )
    return specs


def interval_specs(
    params: ScenarioParams,
    trips: int,
    intervals: Sequence[float],
    repetitions: int,
    seed: int,
    ratio: float = INTERVAL_RATIO,
    policies: Sequence[str] = ("max-matches",),
    response: str = "paper",
    instant: bool = True,
    offline: bool = True,
) -> list[RunSpec]:
    counts = with_counts(params, trips, ratio)
    for interval in intervals:
        RollingHorizon(interval)  # refuses an interval that is not > 0
    specs: list[RunSpec] = []
    for repetition in range(repetitions):
        # Every strategy of one repetition simulates the same day; the offline run bounds it.
        day = RunSpec(
            experiment="interval",
            strategy="offline",
            interval_min=None,
            ratio=ratio,
            repetition=repetition,
            seed=scenario_seed(seed, "interval", ratio, repetition),
            params=counts,
            response=response,
        )
        for policy in policies:
            specs.extend(
                replace(day, strategy="rolling", interval_min=interval, policy=policy)
                for interval in intervals
            )
            if instant:
                specs.append(replace(day, strategy="instant", policy=policy))
        if offline:
            specs.append(day)
    return specs


def write_runs(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    _write_table(path, RUN_COLUMNS, rows)


def _write_table(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(_cells(row, columns) for row in rows)


def csv_row(row: dict[str, Any]) -> dict[str, str]:
    """A run as the text ``runs.csv`` holds."""
    return _cells(row, RUN_COLUMNS)


def _cells(row: dict[str, Any], columns: Sequence[str]) -> dict[str, str]:
    return {key: _text(row[key]) for key in columns}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


GROUP_KEYS = ("experiment", "strategy", "policy", "interval_min", "ratio")
SUMMARY_METRICS = ("match_rate", "matched", "rejections", "mean_detour_min", "mean_wait_min")
SUMMARY_COLUMNS = (
    *GROUP_KEYS,
    "runs",
    *(f"{m}_{s}" for m in SUMMARY_METRICS for s in ("mean", "ci95")),
    "gap_to_offline_mean",
    "gap_to_offline_ci95",
    "wall_s_mean",
)


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% Student-t confidence interval (NaN values are
    left out; one value has no interval)."""
    data = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(data) == 0:
        return math.nan, math.nan
    mean = float(data.mean())
    if len(data) < 2:
        return mean, math.nan
    half = float(stats.t.ppf(0.975, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))
    return mean, half


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (experiment, strategy, policy, interval, ratio), in first-seen order.

    ``gap_to_offline`` is the offline match rate minus this strategy's, paired by
    repetition (same day), in percentage points; empty where no offline run shares the days.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in GROUP_KEYS), []).append(row)
    offline_rate = {
        (row["experiment"], row["ratio"], row["seed"]): row["match_rate"]
        for row in rows
        if row["strategy"] == "offline"
    }
    summary = []
    for key, members in groups.items():
        out: dict[str, Any] = dict(zip(GROUP_KEYS, key, strict=True))
        out["runs"] = len(members)
        for metric in SUMMARY_METRICS:
            out[f"{metric}_mean"], out[f"{metric}_ci95"] = mean_ci95([m[metric] for m in members])
        gaps = [
            100 * (offline_rate[(m["experiment"], m["ratio"], m["seed"])] - m["match_rate"])
            for m in members
            if (m["experiment"], m["ratio"], m["seed"]) in offline_rate
        ]
        out["gap_to_offline_mean"], out["gap_to_offline_ci95"] = mean_ci95(gaps)
        out["wall_s_mean"] = float(np.mean([m["wall_s"] for m in members]))
        summary.append(out)
    return summary


def write_summary(path: Path, summary: Iterable[dict[str, Any]]) -> None:
    _write_table(path, SUMMARY_COLUMNS, summary)
