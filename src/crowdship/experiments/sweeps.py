"""The paper's two experiments as lists of runs, and their summary with 95% intervals.

Figure 5 (``ratio``): 1000 trips, 100 to 1000 requests, each day matched once with
everything known (the offline strategy: the paper solved each generated problem once).
Figure 6 (``interval``): a 40% request/trip ratio simulated with a rolling horizon of 10 to
120 minutes and with instant matching; we add the offline bound to every repetition so the
gap of each strategy to the bound is measured on the same days.

Past the paper: ``gap`` puts every online strategy (rolling, instant, just-in-time, each with
or without anticipation) beside the offline bound of the same days, with its time from
announcement to match; a :class:`Variant` relabels any sweep with other scenario settings
(sensitivity, trip announcements, the rejection rule).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from crowdship.experiments.runs import (
    ANTICIPATORY,
    PHANTOM_WEIGHT,
    RUN_COLUMNS,
    RunSpec,
    scenario_seed,
    with_counts,
)
from crowdship.sim.day import JustInTime, Rejection, RollingHorizon, strategy_named
from crowdship.sim.scenarios import ScenarioParams

DEFAULT_RATIOS = tuple(round(0.1 * k, 1) for k in range(1, 11))
DEFAULT_INTERVALS = tuple(float(k) for k in range(10, 121, 10))
INTERVAL_RATIO = 0.4


def offline_day(
    experiment: str,
    counts: ScenarioParams,
    ratio: float,
    repetition: int,
    seed: int,
    response: str,
) -> RunSpec:
    """The offline run of one repetition's day: every other strategy of the repetition is
    the same day with another strategy (common random numbers), and this run bounds it."""
    return RunSpec(
        experiment=experiment,
        strategy="offline",
        interval_min=None,
        ratio=ratio,
        repetition=repetition,
        seed=scenario_seed(seed, experiment, ratio, repetition),
        params=counts,
        response=response,
    )


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
            day = offline_day("ratio", counts, ratio, repetition, seed, response)
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
        day = offline_day("interval", counts, ratio, repetition, seed, response)
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


GAP_INTERVALS = (40.0, 120.0)
GAP_LEADS = (15.0,)
GAP_MAX_WAITS: tuple[float | None, ...] = (30.0, 60.0, 120.0, None)
GAP_POLICIES = ("max-matches", "anticipatory")
GAP_PHANTOM_WEIGHTS = (PHANTOM_WEIGHT,)


def gap_specs(
    params: ScenarioParams,
    trips: int,
    repetitions: int,
    seed: int,
    ratio: float = INTERVAL_RATIO,
    intervals: Sequence[float] = GAP_INTERVALS,
    leads: Sequence[float] = GAP_LEADS,
    max_waits: Sequence[float | None] = GAP_MAX_WAITS,
    policies: Sequence[str] = GAP_POLICIES,
    response: str = "paper",
    phantom_weights: Sequence[float] = GAP_PHANTOM_WEIGHTS,
) -> list[RunSpec]:
    """Every online strategy beside the offline bound on the same days: rolling at each
    interval, instant, and just-in-time at each lead and longest wait, each under each
    policy (the anticipatory one at each phantom weight)."""
    counts = with_counts(params, trips, ratio)
    for interval in intervals:
        RollingHorizon(interval)
    for lead in leads:
        for wait in max_waits:
            JustInTime(lead, wait)  # refuses a negative lead or wait
    for share in phantom_weights:
        if not 0 <= share < 1:
            raise ValueError(f"phantom weight must be in [0, 1), got {share:g}")
    specs: list[RunSpec] = []
    for repetition in range(repetitions):
        day = offline_day("gap", counts, ratio, repetition, seed, response)
        versions: list[tuple[str, float | None]] = [
            (policy, weight)
            for policy in policies
            for weight in (list(phantom_weights) if policy == ANTICIPATORY else [None])
        ]
        for policy, weight in versions:
            same = replace(day, policy=policy, phantom_weight=weight)
            specs.extend(
                replace(same, strategy="rolling", interval_min=interval) for interval in intervals
            )
            specs.append(replace(same, strategy="instant"))
            specs.extend(
                replace(same, strategy="jit", lead_min=lead, max_wait_min=wait)
                for lead in leads
                for wait in max_waits
            )
        specs.append(day)
    return specs


@dataclass(frozen=True)
class Variant:
    """A named change to a sweep: other scenario settings, or the rejection rule."""

    label: str
    settings: dict[str, Any] = field(default_factory=dict)  # ScenarioParams fields
    rejection: Rejection = "retry"

    def apply(self, specs: Iterable[RunSpec]) -> list[RunSpec]:
        """The specs under this variant; the counts of trips and requests are kept."""
        out = []
        for spec in specs:
            params = replace(
                spec.params,
                **{k: v for k, v in self.settings.items() if k not in ("trips", "requests")},
            )
            out.append(replace(spec, params=params, variant=self.label, rejection=self.rejection))
        return out


PARAMS_FILE = "params.json"


def write_params(path: Path, specs: Iterable[RunSpec]) -> None:
    """The scenario settings of each variant (less the counts, which every row holds): with
    ``runs.csv`` they describe every run completely, so any row can be run again."""
    by_variant: dict[str, dict[str, Any]] = {}
    for spec in specs:
        settings = asdict(spec.params)
        del settings["trips"], settings["requests"]
        known = by_variant.setdefault(spec.variant, settings)
        if known != settings:
            raise ValueError(f"variant {spec.variant!r} has two different scenario settings")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(by_variant, indent=2) + "\n", encoding="utf-8")


def read_runs(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


_TEXT_COLUMNS = ("experiment", "strategy", "policy", "response", "variant", "rejection")
_INT_COLUMNS = ("repetition", "seed", "trips", "requests", "matched", "rejections", "batches")
_OPTIONAL_COLUMNS = ("interval_min", "lead_min", "max_wait_min", "phantom_weight")  # empty: None


def typed_runs(path: Path) -> list[dict[str, Any]]:
    """``runs.csv`` read back as the rows :func:`run` returned (empty metrics are NaN), so
    summaries, tables and plots can be made again without running anything."""
    out = []
    for text in read_runs(path):
        row: dict[str, Any] = {}
        for key, value in text.items():
            if key in _TEXT_COLUMNS:
                row[key] = value
            elif key in _INT_COLUMNS:
                row[key] = int(value)
            elif key in _OPTIONAL_COLUMNS:
                row[key] = None if value == "" else float(value)
            else:
                row[key] = math.nan if value == "" else float(value)
        out.append(row)
    return out


def specs_from_runs(directory: Path) -> list[RunSpec]:
    """The spec of every row of ``directory/runs.csv``, with the settings in its
    ``params.json``: running them again gives the same rows (less the elapsed times)."""
    settings = json.loads((directory / PARAMS_FILE).read_text(encoding="utf-8"))

    def number(text: str) -> float | None:
        return None if text == "" else float(text)

    specs = []
    for row in read_runs(directory / "runs.csv"):
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in settings[row.get("variant", "")].items()
        }
        values.update(trips=int(row["trips"]), requests=int(row["requests"]))
        params = ScenarioParams(**values)
        specs.append(
            RunSpec(
                experiment=row["experiment"],
                strategy=row["strategy"],
                interval_min=number(row["interval_min"]),
                ratio=float(row["ratio"]),
                repetition=int(row["repetition"]),
                seed=int(row["seed"]),
                params=params,
                policy=row["policy"],
                # The offline bound records the response it used (nobody rejects).
                response="paper" if row["response"] == "always" else row["response"],
                variant=row.get("variant", ""),
                lead_min=number(row.get("lead_min", "")),
                max_wait_min=number(row.get("max_wait_min", "")),
                rejection="exclude" if row.get("rejection") == "exclude" else "retry",
                phantom_weight=number(row.get("phantom_weight", "")),
            )
        )
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


GROUP_KEYS = (
    "experiment",
    "variant",
    "strategy",
    "policy",
    "interval_min",
    "lead_min",
    "max_wait_min",
    "rejection",
    "phantom_weight",
    "ratio",
)
SUMMARY_METRICS = (
    "match_rate",
    "matched",
    "rejections",
    "mean_detour_min",
    "mean_wait_min",
    "median_wait_min",
    "p90_wait_min",
)
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
        groups.setdefault(tuple(row.get(k) for k in GROUP_KEYS), []).append(row)

    def day(row: dict[str, Any]) -> tuple[Any, ...]:
        return row["experiment"], row.get("variant"), row["ratio"], row["seed"]

    offline_rate = {day(row): row["match_rate"] for row in rows if row["strategy"] == "offline"}
    summary = []
    for key, members in groups.items():
        out: dict[str, Any] = dict(zip(GROUP_KEYS, key, strict=True))
        out["runs"] = len(members)
        for metric in SUMMARY_METRICS:
            out[f"{metric}_mean"], out[f"{metric}_ci95"] = mean_ci95(
                [m.get(metric, math.nan) for m in members]
            )
        gaps = [
            100 * (offline_rate[day(m)] - m["match_rate"])
            for m in members
            if day(m) in offline_rate
        ]
        out["gap_to_offline_mean"], out["gap_to_offline_ci95"] = mean_ci95(gaps)
        out["wall_s_mean"] = float(np.mean([m["wall_s"] for m in members]))
        summary.append(out)
    return summary


def summary_row(row: dict[str, Any]) -> dict[str, str]:
    """A summary row as the text ``summary.csv`` holds."""
    return _cells(row, SUMMARY_COLUMNS)


def write_summary(path: Path, summary: Iterable[dict[str, Any]]) -> None:
    _write_table(path, SUMMARY_COLUMNS, summary)


# The settings the paper leaves open (issue 16): the departure window, the city's size and
# the request's time window, each changed alone from the paper's defaults.
SENSITIVITY_VARIANTS = (
    Variant("paper defaults"),
    Variant("departures 06-22", {"departures": (6 * 60.0, 22 * 60.0)}),
    Variant("departures 04-24", {"departures": (4 * 60.0, 24 * 60.0)}),
    Variant("commuter peaks", {"departure_profile": "commuter"}),
    Variant("city 50 km", {"city_km": 50.0}),
    Variant("city 70 km", {"city_km": 70.0}),
    Variant("delivery window 60 min", {"delivery_window": 60.0}),
    Variant("delivery window 120 min", {"delivery_window": 120.0}),
    Variant("delivery window 240 min", {"delivery_window": 240.0}),
)
ANNOUNCEMENT_VARIANTS = (
    Variant("trips all known"),
    Variant("trips announced 120 min ahead", {"trip_announcement_lead": (120.0, 120.0)}),
    Variant("trips announced 60 min ahead", {"trip_announcement_lead": (60.0, 60.0)}),
    Variant("trips announced 30 min ahead", {"trip_announcement_lead": (30.0, 30.0)}),
)
REJECTION_VARIANTS = (
    Variant("rejected pair retried (paper)", rejection="retry"),
    Variant("rejected pair excluded", rejection="exclude"),
)


def capacity_variants(capacities: Sequence[float], mixed: bool = False) -> list[Variant]:
    """Every trip of each capacity in turn (issue 15), and with ``mixed`` a day whose trips
    carry 1 to the largest of them in equal shares."""
    if not capacities:
        raise ValueError("capacities is empty")
    for capacity in capacities:
        if capacity < 1 or capacity != int(capacity):
            raise ValueError(f"capacities must be whole numbers >= 1, got {capacity:g}")
    variants = []
    for capacity in capacities:
        shares = tuple(1.0 if c == capacity else 0.0 for c in range(1, int(capacity) + 1))
        variants.append(Variant(f"capacity {int(capacity)}", {"trip_capacity": shares}))
    if mixed:
        top = int(max(capacities))
        variants.append(Variant(f"capacity 1-{top} mixed", {"trip_capacity": (1.0 / top,) * top}))
    return variants


# Figure 5's knee: the last ratio before the mean match rate first falls more than this
# below the curve's highest point (the paper: "almost constantly at 100%" up to the knee).
KNEE_DROP = 0.02


def _paired(
    rows: Sequence[dict[str, Any]], first: dict[str, Any], second: dict[str, Any]
) -> tuple[float, float]:
    """Mean and 95% half-width of (first - second) match rate in pp, paired by day."""

    def rates(match: dict[str, Any]) -> dict[Any, float]:
        return {
            r["seed"]: r["match_rate"] for r in rows if all(r.get(k) == v for k, v in match.items())
        }

    a, b = rates(first), rates(second)
    return mean_ci95([100 * (a[s] - b[s]) for s in a if s in b])


def sensitivity_table(
    rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per variant: where Figure 5's knee falls and Figure 6's shape.

    Rates are in %, with 95% half-widths; ``instant_below_rolling40`` is paired by day.
    """
    out = []
    for variant in dict.fromkeys(str(r.get("variant") or "") for r in summary):
        mine = [r for r in summary if str(r.get("variant") or "") == variant]
        figure5 = sorted(
            (r for r in mine if r["experiment"] == "ratio" and r["strategy"] == "offline"),
            key=lambda r: r["ratio"],
        )
        knee = None
        top = max((r["match_rate_mean"] for r in figure5), default=math.nan)
        for r in figure5:
            if r["match_rate_mean"] < top - KNEE_DROP:
                break
            knee = r["ratio"]
        figure6 = [r for r in mine if r["experiment"] == "interval"]
        rolling = sorted(
            (r for r in figure6 if r["strategy"] == "rolling" and r["policy"] == "max-matches"),
            key=lambda r: r["interval_min"],
        )

        def rate(rows_: Iterable[dict[str, Any]]) -> tuple[float, float]:
            found = list(rows_)
            if not found:
                return math.nan, math.nan
            return 100 * found[0]["match_rate_mean"], 100 * found[0]["match_rate_ci95"]

        best = max(rolling, key=lambda r: r["match_rate_mean"], default=None)
        entry: dict[str, Any] = {"variant": variant, "knee_ratio": knee}
        for name, found in (
            ("fig5_at_0.4", (r for r in figure5 if r["ratio"] == 0.4)),
            ("fig5_at_1.0", (r for r in figure5 if r["ratio"] == 1.0)),
            ("rolling_10", (r for r in rolling if r["interval_min"] == 10.0)),
            ("rolling_40", (r for r in rolling if r["interval_min"] == 40.0)),
            ("rolling_120", (r for r in rolling if r["interval_min"] == 120.0)),
            ("best_rolling", [best] if best else []),
            ("instant", (r for r in figure6 if r["strategy"] == "instant")),
            ("offline", (r for r in figure6 if r["strategy"] == "offline")),
        ):
            entry[name], entry[f"{name}_ci95"] = rate(found)
        entry["best_interval"] = best["interval_min"] if best else None
        same = {"experiment": "interval", "variant": variant, "policy": "max-matches"}
        entry["instant_below_rolling40"], entry["instant_below_rolling40_ci95"] = _paired(
            [r for r in rows if str(r.get("variant") or "") == variant],
            {**same, "variant": variant, "strategy": "rolling", "interval_min": 40.0},
            {**same, "variant": variant, "strategy": "instant"},
        )
        out.append(entry)
    return out


def markdown_table(columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]]) -> str:
    """A Markdown table of ``rows``: ``columns`` are (key, heading); a ``key`` with a
    ``key_ci95`` partner is written ``mean ± half``; floats with one decimal."""
    lines = [
        "| " + " | ".join(h for _, h in columns) + " |",
        "| "
        + " | ".join("---" if k in ("variant", "strategy") else "---:" for k, _ in columns)
        + " |",
    ]
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            half = row.get(f"{key}_ci95")
            if isinstance(value, float) and math.isnan(value):
                cells.append("")
            elif isinstance(value, float):
                text = f"{value:.1f}"
                if isinstance(half, float) and not math.isnan(half):
                    text += f" ± {half:.1f}"
                cells.append(text)
            else:
                cells.append("" if value is None else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def policy_label(row: dict[str, Any]) -> str:
    """The policy of a summary row, with the phantom weight when it is not the default."""
    policy = str(row.get("policy", "max-matches"))
    weight = row.get("phantom_weight")
    if policy == ANTICIPATORY and weight is not None and weight != PHANTOM_WEIGHT:
        return f"{policy} {weight:g}"
    return policy


def strategy_label(row: dict[str, Any]) -> str:
    """A short name of a summary row's strategy: ``jit 15/60, anticipatory``."""
    strategy = row["strategy"]
    if strategy == "offline":
        return "offline bound"
    if strategy == "rolling" and row.get("interval_min") is not None:
        name = f"rolling {row['interval_min']:g}"
    elif strategy == "jit":
        wait = row.get("max_wait_min")
        name = f"jit {row.get('lead_min') or 0:g}/" + ("-" if wait is None else f"{wait:g}")
    else:
        name = strategy
    policy = policy_label(row)
    return name if policy == "max-matches" else f"{name}, {policy}"


def strategy_table(summary: Sequence[dict[str, Any]], experiment: str) -> list[dict[str, Any]]:
    """Per strategy of ``experiment``: match rate and gap to the bound (both in % / pp) and
    the minutes from announcement to match, with 95% half-widths."""
    out = []
    for row in summary:
        if row["experiment"] != experiment:
            continue
        entry: dict[str, Any] = {"strategy": strategy_label(row)}
        if row.get("variant"):
            entry["strategy"] = f"{row['variant']}: {entry['strategy']}"
        entry["match"] = 100 * row["match_rate_mean"]
        entry["match_ci95"] = 100 * row["match_rate_ci95"]
        entry["gap"] = row["gap_to_offline_mean"]
        entry["gap_ci95"] = row["gap_to_offline_ci95"]
        for name in ("median_wait_min", "p90_wait_min", "mean_wait_min"):
            entry[name] = row[f"{name}_mean"]
            entry[f"{name}_ci95"] = row[f"{name}_ci95"]
        entry["rejections"] = row["rejections_mean"]
        out.append(entry)
    return out


STRATEGY_TABLE_COLUMNS = (
    ("strategy", "strategy"),
    ("match", "match %"),
    ("gap", "below the offline bound (pp, paired)"),
    ("median_wait_min", "median wait (min)"),
    ("p90_wait_min", "p90 wait (min)"),
    ("rejections", "rejections / day"),
)
SENSITIVITY_COLUMNS = (
    ("variant", "setting"),
    ("knee_ratio", "Fig. 5 knee (last ratio within 2 pp of the top)"),
    ("fig5_at_0.4", "Fig. 5 at 0.4"),
    ("fig5_at_1.0", "Fig. 5 at 1.0"),
    ("rolling_10", "rolling 10"),
    ("rolling_40", "rolling 40"),
    ("rolling_120", "rolling 120"),
    ("best_interval", "best interval"),
    ("instant", "instant"),
    ("instant_below_rolling40", "rolling 40 minus instant (pp, paired)"),
    ("offline", "offline bound"),
)


def ratio_table(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figure 5 as rows: one per strategy (and variant), the match rate in % per ratio."""
    rows = [r for r in summary if r["experiment"] == "ratio"]
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = strategy_label(row)
        if row.get("variant"):
            name = f"{row['variant']}: {name}"
        entry = out.setdefault(name, {"strategy": name})
        key = f"{100 * row['ratio']:g}"
        entry[key] = 100 * row["match_rate_mean"]
        entry[f"{key}_ci95"] = 100 * row["match_rate_ci95"]
    return list(out.values())


def experiment_tables(rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]]) -> str:
    """The Markdown tables of an experiment directory (``tables.md``): Figure 5 by ratio,
    every strategy of Figure 6 and of ``gap`` with its gap and waits, and with several
    variants of both figures, the sensitivity table."""
    parts = []
    experiments = {r["experiment"] for r in summary}
    if "ratio" in experiments:
        ratios = dict.fromkeys(
            f"{100 * r['ratio']:g}" for r in summary if r["experiment"] == "ratio"
        )
        columns = (("strategy", "requests per 100 trips: match %"), *((k, k) for k in ratios))
        parts.append(markdown_table(columns, ratio_table(summary)))
    for experiment in ("interval", "gap"):
        if experiment in experiments:
            parts.append(
                markdown_table(STRATEGY_TABLE_COLUMNS, strategy_table(summary, experiment))
            )
    variants = list(dict.fromkeys(r.get("variant") or "" for r in summary))
    if 2 <= len(variants) <= 4:
        for experiment in ("ratio", "interval"):
            if experiment in experiments:
                parts.append(
                    markdown_table(VARIANT_COLUMNS, variant_differences(rows, summary, experiment))
                )
    if len(variants) > 1 and {"ratio", "interval"} <= experiments:
        parts.append(markdown_table(SENSITIVITY_COLUMNS, sensitivity_table(rows, summary)))
    return "\n".join(parts)


VARIANT_COLUMNS = (
    ("strategy", "strategy"),
    ("variant", "setting"),
    ("match", "match %"),
    ("difference", "minus the first setting (pp, paired by day)"),
)


def variant_differences(
    rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], experiment: str
) -> list[dict[str, Any]]:
    """Each online strategy (and point of Figure 5) under every variant, against the first
    variant on the same days: the settings compared with common random numbers."""
    mine = [r for r in summary if r["experiment"] == experiment and r["strategy"] != "offline"]
    variants = list(dict.fromkeys(str(r.get("variant") or "") for r in mine))
    keys = (
        "strategy",
        "policy",
        "interval_min",
        "lead_min",
        "max_wait_min",
        "phantom_weight",
        "ratio",
    )
    out = []
    for point in dict.fromkeys(tuple(r.get(k) for k in keys) for r in mine):
        match = {"experiment": experiment, **dict(zip(keys, point, strict=True))}
        for variant in variants:
            found = [
                r
                for r in mine
                if str(r.get("variant") or "") == variant
                and all(r.get(k) == v for k, v in match.items())
            ]
            if not found:
                continue
            name = strategy_label(found[0])
            if experiment == "ratio":
                name = f"{name}, ratio {found[0]['ratio']:g}"
            entry: dict[str, Any] = {
                "strategy": name,
                "variant": variant,
                "match": 100 * found[0]["match_rate_mean"],
                "match_ci95": 100 * found[0]["match_rate_ci95"],
            }
            if variant != variants[0]:
                entry["difference"], entry["difference_ci95"] = _paired(
                    rows, {**match, "variant": variant}, {**match, "variant": variants[0]}
                )
            out.append(entry)
    return out
