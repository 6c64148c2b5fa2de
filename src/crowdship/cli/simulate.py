"""``crowdship simulate``, ``crowdship scenario`` and ``crowdship experiment ...``."""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import matplotlib.pyplot as plt
import typer
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from crowdship.cli.common import (
    check_outputs,
    console,
    fail,
    files,
    files_in,
    writable_directory,
)
from crowdship.core.model import ModelError
from crowdship.experiments.executors import execute
from crowdship.experiments.plots import plot_interval, plot_ratio, plot_wait
from crowdship.experiments.runs import (
    ANTICIPATORY,
    PHANTOM_WEIGHT,
    RunSpec,
    anticipation_for,
    policy_for,
    response_named,
)
from crowdship.experiments.sweeps import (
    ANNOUNCEMENT_VARIANTS,
    DEFAULT_INTERVALS,
    DEFAULT_RATIOS,
    GAP_INTERVALS,
    GAP_LEADS,
    GAP_MAX_WAITS,
    GAP_POLICIES,
    INTERVAL_RATIO,
    PARAMS_FILE,
    REJECTION_VARIANTS,
    SENSITIVITY_VARIANTS,
    Variant,
    capacity_variants,
    experiment_tables,
    gap_specs,
    interval_specs,
    ratio_specs,
    strategy_label,
    summarize,
    typed_runs,
    write_params,
    write_runs,
    write_summary,
)
from crowdship.sim.day import DayResult, Operations, Rejection, simulate_day, strategy_named
from crowdship.sim.scenarios import (
    REQUESTS_FILE,
    SCENARIO_FILE,
    TRIPS_FILE,
    Scenario,
    ScenarioParams,
    generate_scenario,
    load_scenario,
    save_scenario,
)
from crowdship.tables import InputError, parse_time

log = logging.getLogger("crowdship")


class StrategyOption(StrEnum):
    rolling = "rolling"
    instant = "instant"
    offline = "offline"
    jit = "jit"


class RejectionOption(StrEnum):
    retry = "retry"
    exclude = "exclude"


class ResponseOption(StrEnum):
    paper = "paper"
    always = "always"
    logit = "logit"


class PolicyName(StrEnum):
    max_matches = "max-matches"
    acceptance_aware = "acceptance-aware"
    anticipatory = "anticipatory"


REJECTION_HELP = (
    "After a courier rejects: retry (the paper: the pair is considered again at the next "
    "calculation, not in the same moment's re-matching) or exclude (never offered again)."
)


SET_HELP = (
    "Any other scenario parameter as NAME=VALUE, repeatable: flexibility=0.5, "
    "deadline=14:00, delivery_window=120 (minutes after the earliest pickup, instead of the "
    "deadline), pickup_window=08:00-12:00, departures=06:00-20:00, "
    "announcement_lead=60-120, trip_minutes=5-120, trip_km=5-100, departure_profile=commuter, "
    "peaks=08:00-17:30, peak_spread=45, speed_kmh=50, detour_factor=1.0, "
    "trip_announcement_lead=30 or 30-120 (trips become known this long before departing; "
    "default: all known from the start), "
    "bbox=60.15,24.90,60.20,24.99 (south,west,north,east: lat/lon, great-circle travel), "
    "trip_capacity=0.5,0.3,0.2 (the shares of trips carrying 1, 2, 3, ... parcels)."
)


def _minutes(text: str, name: str) -> float:
    value = parse_time(text)
    if not isinstance(value, float | int):
        raise ValueError(f"{name}: {text!r} must be HH:MM or minutes, not a date")
    return float(value)


# ``--set`` numbers that are not minutes, with what they are (every other number is minutes).
_NOT_MINUTES = {
    "flexibility": "a share of the trip's driving time, like 0.5",
    "city_km": "the city's side in km",
    "speed_kmh": "a speed in km/h",
    "detour_factor": "a factor on the straight-line distance, >= 1",
    "pickup_point_share": "a share of the requests, between 0 and 1",
    "trip_km": "a trip's length in km",
}


def _number(text: str, name: str) -> float:
    """A finite number for a ``--set`` parameter that is not minutes."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number ({_NOT_MINUTES[name]})")
    return value


def _parse_setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    name = key.strip().replace("-", "_")
    fields = {f.name: f for f in dataclasses.fields(ScenarioParams)}
    if not sep or name not in fields:
        known = ", ".join(sorted(fields))
        raise ValueError(f"--set {text!r}: expected NAME=VALUE with NAME one of {known}")
    default = fields[name].default
    raw = raw.strip()
    try:
        if name == "bbox":
            parts = [float(p) for p in raw.split(",")]
            if len(parts) != 4:
                raise ValueError("needs four numbers: south,west,north,east")
            return name, tuple(parts)
        if name == "trip_capacity":
            # Shares of capacity 1, 2, ...: as many as given (ScenarioParams checks them).
            try:
                return name, tuple(float(p) for p in raw.split(","))
            except ValueError:
                raise ValueError("needs shares of capacity 1, 2, ... like 0.5,0.3,0.2") from None
        if isinstance(default, tuple):
            parts_text = raw.split(",") if "," in raw else raw.split("-")
            if len(parts_text) != 2:
                raise ValueError("needs a range LOW-HIGH")
            read = _number if name in _NOT_MINUTES else _minutes
            return name, tuple(read(p, name) for p in parts_text)
        if name in ("trips", "requests", "pickup_points"):
            return name, int(raw)
        if name in _NOT_MINUTES:
            return name, _number(raw, name)
        if name == "delivery_window":
            return name, None if raw.lower() in ("", "none") else _minutes(raw, name)
        if name == "trip_announcement_lead":
            if raw.lower() in ("", "none", "all"):
                return name, None
            ends = raw.split(",") if "," in raw else raw.split("-")
            if len(ends) > 2:
                raise ValueError("needs minutes or a range LOW-HIGH")
            lead = tuple(_minutes(p, name) for p in ends)
            return name, (lead[0], lead[-1])
        if isinstance(default, int | float):
            return name, _minutes(raw, name)
        return name, raw
    except ValueError as error:
        raise ValueError(f"--set {name}={raw}: {error}") from None


def scenario_params(settings: Sequence[str], **explicit: Any) -> ScenarioParams:
    """Paper defaults, then ``--set`` values, then the command's own flags (not None)."""
    values: dict[str, Any] = {}
    for text in settings:
        name, value = _parse_setting(text)
        values[name] = value
    values.update({k: v for k, v in explicit.items() if v is not None})
    return ScenarioParams(**values)


def _names(text: str, name: str) -> list[str]:
    """``--NAME a,b,c``: the parts separated by commas, blanks dropped; none is an error."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError(f"--{name} is empty")
    return parts


def _parse_list(text: str, name: str) -> list[float]:
    parts = _names(text, name)
    try:
        return [float(part) for part in parts]
    except ValueError:
        raise ValueError(f"--{name} {text!r}: expected numbers separated by commas") from None


def _scenario(
    scenario_dir: Path | None, settings: Sequence[str], seed: int, **explicit: Any
) -> Scenario:
    if scenario_dir is not None:
        if settings or any(v is not None for v in explicit.values()):
            raise ValueError("--scenario reads a saved day; generator options cannot change it")
        if not scenario_dir.is_dir():
            raise ValueError(f"--scenario {scenario_dir}: no such directory")
        # A saved day needs its scenario.json: this command has no options for the travel
        # model, and a guessed one (lat/lon at 30 km/h) would simulate another day.
        return load_scenario(scenario_dir, strict=True)
    return generate_scenario(scenario_params(settings, **explicit), seed)


def _non_negative_seed(seed: int) -> int:
    """``--seed``, checked while the command line is read (numpy seeds are >= 0)."""
    if seed < 0:
        fail(f"--seed must be >= 0, got {seed}")
    return seed


TripsOption = Annotated[int | None, typer.Option("--trips", help="Trips per day (default 1000).")]
SeedOption = Annotated[
    int,
    typer.Option(
        help="Random seed (>= 0): the same seed, the same day.", callback=_non_negative_seed
    ),
]
SetOption = Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)]
CityOption = Annotated[float | None, typer.Option(help="Side of the square city, km.")]


def scenario_command(
    out: Annotated[
        Path, typer.Option(help="Directory to write trips.csv, requests.csv, scenario.json.")
    ],
    trips: TripsOption = None,
    requests: Annotated[int | None, typer.Option(help="Requests per day (default 400).")] = None,
    city_km: CityOption = None,
    seed: SeedOption = 0,
    settings: SetOption = None,
) -> None:
    """Generate a day of trips and requests (the paper's defaults) and save it as files
    that ``crowdship match --coords km`` and ``crowdship simulate --scenario`` read."""
    try:
        params = scenario_params(settings or [], trips=trips, requests=requests, city_km=city_km)
        writable_directory(out, "--out")
        scenario = generate_scenario(params, seed)
        save_scenario(out, scenario)
    except (ValueError, OSError) as error:
        fail(str(error))
    console.print(
        f"wrote {len(scenario.trips)} trips and {len(scenario.requests)} requests "
        f"({scenario.coords}) to {out}"
    )


def simulate_command(
    scenario_dir: Annotated[
        Path | None,
        typer.Option("--scenario", help="Simulate this saved day instead of generating one."),
    ] = None,
    strategy: Annotated[
        StrategyOption,
        typer.Option(
            help="rolling: match every --interval minutes. instant: match in every minute with "
            "a new request, re-match at once after rejections. jit: re-plan at every event, "
            "offer a pair only --lead minutes before its trip departs (or after --max-wait). "
            "offline: everything known, nobody rejects (the upper bound)."
        ),
    ] = StrategyOption.rolling,
    interval: Annotated[float, typer.Option(help="Planning interval, minutes.")] = 40.0,
    lead: Annotated[
        float, typer.Option(help="jit: offer a planned pair this many minutes before departure.")
    ] = 15.0,
    max_wait: Annotated[
        float | None,
        typer.Option(help="jit: offer a planned pair at the latest this long after announcement."),
    ] = None,
    rejection: Annotated[
        RejectionOption, typer.Option(help=REJECTION_HELP)
    ] = RejectionOption.retry,
    phantom_weight: Annotated[
        float,
        typer.Option(help="anticipatory: a sampled request's value as a share of a real one's."),
    ] = PHANTOM_WEIGHT,
    policy: Annotated[
        PolicyName, typer.Option(help="Matching policy used at each batch.")
    ] = PolicyName.max_matches,
    response: Annotated[
        ResponseOption,
        typer.Option(
            help="Courier response: paper (reject with probability detour / (LA_r - ED_r)), "
            "always (accept), logit (on detour minutes)."
        ),
    ] = ResponseOption.paper,
    operations: Annotated[str, typer.Option(help="Operating hours, HH:MM-HH:MM.")] = "08:00-18:00",
    trips: TripsOption = None,
    requests: Annotated[int | None, typer.Option(help="Requests per day (default 400).")] = None,
    city_km: CityOption = None,
    seed: SeedOption = 0,
    settings: SetOption = None,
    save_scenario_dir: Annotated[
        Path | None, typer.Option("--save-scenario", help="Also save the simulated day here.")
    ] = None,
    matches: Annotated[
        Path | None, typer.Option(help="Write the accepted matches to this CSV.")
    ] = None,
    batch_log: Annotated[
        Path | None, typer.Option(help="Write one row per matcher call to this CSV.")
    ] = None,
) -> None:
    """Simulate one day of crowdsourced delivery and print its metrics."""
    try:
        hours = operations.split("-")
        if len(hours) != 2:
            raise ValueError(f"--operations {operations!r}: expected HH:MM-HH:MM")
        opening = Operations(_minutes(hours[0], "operations"), _minutes(hours[1], "operations"))
        _check_outputs(scenario_dir, save_scenario_dir, matches, batch_log)
        scenario = _scenario(
            scenario_dir, settings or [], seed, trips=trips, requests=requests, city_km=city_km
        )
        if save_scenario_dir is not None:
            save_scenario(save_scenario_dir, scenario)
        courier_response = response_named(response.value)
        anticipation = None
        if policy.value == ANTICIPATORY:
            params = _generating_params(scenario, settings or [], trips, requests, city_km)
            anticipation = anticipation_for(params, seed, phantom_weight)
        started = time.perf_counter()
        result = simulate_day(
            scenario.trips,
            scenario.requests,
            scenario.travel,
            strategy_named(strategy.value, interval, lead, max_wait),
            policy=policy_for(policy.value, courier_response),
            response=courier_response,
            operations=opening,
            seed=seed,
            rejection=rejection.value,
            trip_announced_at=scenario.trip_announced_at,
            anticipation=anticipation,
        )
        wall = time.perf_counter() - started
        if matches is not None:
            _write_rows(matches, [asdict(a) for a in result.assignments], "--matches")
        if batch_log is not None:
            _write_rows(batch_log, [asdict(b) for b in result.batches], "--batch-log")
    except (InputError, ModelError, ValueError, OSError) as error:
        fail(str(error))
    _print_day(result, wall)


# The files of a saved day: what ``--scenario DIR`` reads and ``--save-scenario DIR`` writes.
SCENARIO_FILES = (TRIPS_FILE, REQUESTS_FILE, SCENARIO_FILE)


def _check_outputs(
    scenario_dir: Path | None,
    save_scenario_dir: Path | None,
    matches: Path | None,
    batch_log: Path | None,
) -> None:
    """simulate's outputs, checked before the day is simulated: each can be written, and
    none is a file of the day it reads or of another output."""
    check_outputs(
        files_in("--scenario", scenario_dir, SCENARIO_FILES),
        [
            *files_in("--save-scenario", save_scenario_dir, SCENARIO_FILES),
            *files("--matches", matches),
            *files("--batch-log", batch_log),
        ],
    )


def _generating_params(
    scenario: Scenario,
    settings: Sequence[str],
    trips: int | None,
    requests: int | None,
    city_km: float | None,
) -> ScenarioParams:
    """The scenario process the anticipatory policy samples from: the generator's settings
    (for a saved day, those in its scenario.json)."""
    described = scenario.description
    if not described:
        return scenario_params(settings, trips=trips, requests=requests, city_km=city_km)
    names = {f.name for f in dataclasses.fields(ScenarioParams)}
    values = {k: v for k, v in described.items() if k in names}
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = tuple(value)
    return ScenarioParams(**values)


def _write_rows(path: Path, rows: list[dict[str, Any]], option: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            if not rows:
                return
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    except OSError as error:
        raise ValueError(
            f"{option} {path}: cannot write the file: {error.strerror or error}"
        ) from None


def _print_day(result: DayResult, wall: float) -> None:
    table = Table(title=f"one day: {result.strategy}", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    metrics = result.metrics()
    for key, value in metrics.items():
        if isinstance(value, float):
            text = f"{value:.1%}" if key == "match_rate" else f"{value:.3f}"
        else:
            text = "" if value is None else str(value)
        table.add_row(key.replace("_", " "), text)
    table.add_row("wall seconds", f"{wall:.2f}")
    console.print(table)


experiment_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Reproduce the paper's evaluation (Figures 5 and 6) and sweep past it.",
    no_args_is_help=True,
)

RATIOS_TEXT = ",".join(f"{r:g}" for r in DEFAULT_RATIOS)
INTERVALS_TEXT = ",".join(f"{i:g}" for i in DEFAULT_INTERVALS)

RatiosOption = Annotated[str, typer.Option(help="Request/trip ratios, comma-separated (Figure 5).")]
IntervalsOption = Annotated[
    str, typer.Option(help="Planning intervals in minutes, comma-separated (Figure 6).")
]
RepetitionsOption = Annotated[int, typer.Option(help="Days generated per point.")]
WorkersOption = Annotated[
    int | None, typer.Option(help="Local worker processes (default: one per core).")
]
ClusterOption = Annotated[
    str | None,
    typer.Option(help="Run on this Dask scheduler (tcp://HOST:8786) instead of locally."),
]
OutOption = Annotated[Path, typer.Option(help="Directory for runs.csv, summary.csv, plots.")]
PoliciesOption = Annotated[
    str,
    typer.Option(
        help="Policies for the online strategies, comma-separated: max-matches, "
        "acceptance-aware (the offline bound always uses max-matches)."
    ),
]
ResponseChoice = Annotated[
    ResponseOption, typer.Option(help="Courier response model for the online strategies.")
]
RejectionChoice = Annotated[RejectionOption, typer.Option(help=REJECTION_HELP)]


def _with_rejection(specs: list[RunSpec], rejection: RejectionOption) -> list[RunSpec]:
    chosen: Rejection = "exclude" if rejection == RejectionOption.exclude else "retry"
    return [dataclasses.replace(spec, rejection=chosen) for spec in specs]


def _policies(text: str) -> list[str]:
    names = _names(text, "policies")
    valid = {p.value for p in PolicyName}
    for name in names:
        if name not in valid:
            raise ValueError(f"--policies: unknown policy {name!r}; choose from {sorted(valid)}")
    return names


def _run_experiment(
    specs: list[RunSpec],
    out: Path,
    workers: int | None,
    cluster: str | None,
) -> None:
    try:
        writable_directory(out, "--out")  # before the runs: their results must not be lost
    except ValueError as error:
        fail(str(error))
    started = time.perf_counter()
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("simulating days", total=len(specs))
            rows = execute(specs, workers, cluster, lambda: progress.advance(task))
    except (ValueError, ModelError) as error:
        fail(str(error))
    except (OSError, TimeoutError) as error:
        where = f"the Dask cluster at {cluster}" if cluster else "the worker processes"
        fail(f"could not run on {where}: {error}")
    try:
        write_runs(out / "runs.csv", rows)
        write_params(out / PARAMS_FILE, specs)
        summary, written = _report(rows, out)
    except OSError as error:
        fail(f"--out {out}: cannot write the results: {error.strerror or error}")
    _print_summary(summary)
    console.print(
        f"{len(rows)} runs in {time.perf_counter() - started:.1f} s; wrote runs.csv, "
        f"{PARAMS_FILE}, {', '.join(written)} to {out}"
    )


def _report(
    rows: list[dict[str, Any]], out: Path, summary_file: bool = True
) -> tuple[list[dict[str, Any]], list[str]]:
    """summary.csv, the plots and tables.md of ``rows``; returns the summary and the files."""
    summary = summarize(rows)
    written = []
    if summary_file:
        write_summary(out / "summary.csv", summary)
        written.append("summary.csv")
    experiments = {row["experiment"] for row in summary}
    many = len({row.get("variant") for row in summary}) > 1
    size = (9, 6) if many else (7, 4.5)
    if "ratio" in experiments:
        written.append(_save(plot_ratio(summary, _axes(size)), out / "figure5_ratio.png"))
    if "interval" in experiments:
        written.append(_save(plot_interval(summary, _axes(size)), out / "figure6_interval.png"))
    if "gap" in experiments:
        written.append(_save(plot_wait(summary, _axes((9, 6))), out / "match_vs_wait.png"))
    (out / "tables.md").write_text(experiment_tables(rows, summary), encoding="utf-8")
    written.append("tables.md")
    return summary, written


def _axes(size: tuple[float, float]) -> Axes:
    _, ax = plt.subplots(figsize=size)
    return ax


def _save(ax: Axes, path: Path) -> str:
    """Save the figure that holds ``ax`` as a PNG and close it; returns the file's name."""
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path.name


def _print_summary(summary: list[dict[str, Any]]) -> None:
    table = Table(
        title="mean ± 95% CI over the days of each point", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for column in ("experiment", "strategy", "days", "match %", "gap pp", "detour min"):
        table.add_column(column, no_wrap=True)

    def fmt(mean: float, half: float, scale: float = 1.0, digits: int = 1) -> str:
        if mean != mean:  # NaN
            return ""
        text = f"{scale * mean:.{digits}f}"
        return text if half != half else f"{text} ± {scale * half:.{digits}f}"

    for row in summary:
        strategy = strategy_label(row)
        if row.get("variant"):
            strategy = f"{row['variant']}: {strategy}"
        table.add_row(
            f"ratio {row['ratio']:g}" if row["experiment"] == "ratio" else row["experiment"],
            strategy,
            str(row["runs"]),
            fmt(row["match_rate_mean"], row["match_rate_ci95"], 100),
            fmt(row["gap_to_offline_mean"], row["gap_to_offline_ci95"]),
            fmt(row["mean_detour_min_mean"], row["mean_detour_min_ci95"]),
        )
    console.print(table)
    console.print(
        "rolling K: planning interval K minutes; jit L/W: just-in-time, lead L, longest "
        "wait W minutes; gap pp: offline match rate minus this one on the same days, in "
        "percentage points. Every column, with rejections and waits: summary.csv."
    )


def _common(settings: list[str] | None, city_km: float | None) -> ScenarioParams:
    return scenario_params(settings or [], city_km=city_km)


@experiment_app.command("report")
def report_command(
    directory: Annotated[Path, typer.Argument(help="A directory an experiment wrote.")],
) -> None:
    """Make the plots and tables.md again from a directory's runs.csv, without running
    anything (summary.csv stays: it was made from the unrounded runs)."""
    try:
        rows = typed_runs(directory / "runs.csv")
    except (OSError, ValueError, KeyError) as error:
        fail(f"{directory}: cannot read runs.csv: {error}")
    if not rows:
        fail(f"{directory / 'runs.csv'} has no runs")
    try:
        summary, written = _report(rows, directory, summary_file=False)
    except OSError as error:
        fail(f"{directory}: cannot write the plots and tables: {error.strerror or error}")
    _print_summary(summary)
    console.print(f"wrote {', '.join(written)} to {directory}")


@experiment_app.command("ratio")
def ratio_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    ratios: RatiosOption = RATIOS_TEXT,
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    strategies: Annotated[
        str,
        typer.Option(
            help="Strategies per point: offline (the paper's Figure 5), rolling, instant."
        ),
    ] = "offline",
    interval: Annotated[float, typer.Option(help="Interval for the rolling strategy.")] = 40.0,
    policies: PoliciesOption = "max-matches",
    response: ResponseChoice = ResponseOption.paper,
    rejection: RejectionChoice = RejectionOption.retry,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/ratio"),
    city_km: CityOption = None,
    settings: SetOption = None,
) -> None:
    """Figure 5: match rate against the request/trip ratio (1000 trips, 100 to 1000 requests)."""
    try:
        names = _names(strategies, "strategies")  # ratio_specs checks each
        specs = ratio_specs(
            _common(settings, city_km),
            trips,
            _parse_list(ratios, "ratios"),
            _check_repetitions(repetitions),
            seed,
            names,
            interval,
            _policies(policies),
            response.value,
        )
    except ValueError as error:
        fail(str(error))
    _run_experiment(_with_rejection(specs, rejection), out, workers, cluster)


def _check_repetitions(repetitions: int) -> int:
    if repetitions < 1:
        raise ValueError(f"--repetitions must be >= 1, got {repetitions}")
    return repetitions


@experiment_app.command("interval")
def interval_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    intervals: IntervalsOption = INTERVALS_TEXT,
    ratio: Annotated[float, typer.Option(help="Request/trip ratio of the days.")] = INTERVAL_RATIO,
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    policies: PoliciesOption = "max-matches",
    response: ResponseChoice = ResponseOption.paper,
    rejection: RejectionChoice = RejectionOption.retry,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/interval"),
    city_km: CityOption = None,
    settings: SetOption = None,
) -> None:
    """Figure 6: match rate against the planning interval (10 to 120 minutes), plus instant
    matching and the offline bound, at a 40% request/trip ratio."""
    try:
        specs = interval_specs(
            _common(settings, city_km),
            trips,
            _parse_list(intervals, "intervals"),
            _check_repetitions(repetitions),
            seed,
            ratio,
            _policies(policies),
            response.value,
        )
    except ValueError as error:
        fail(str(error))
    _run_experiment(_with_rejection(specs, rejection), out, workers, cluster)


@experiment_app.command("paper")
def paper_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    ratios: RatiosOption = RATIOS_TEXT,
    intervals: IntervalsOption = INTERVALS_TEXT,
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    policies: PoliciesOption = "max-matches",
    response: ResponseChoice = ResponseOption.paper,
    rejection: RejectionChoice = RejectionOption.retry,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/paper"),
    city_km: CityOption = None,
    settings: SetOption = None,
) -> None:
    """Both of the paper's experiments (Figures 5 and 6) into one directory."""
    try:
        params = _common(settings, city_km)
        repeat = _check_repetitions(repetitions)
        specs = ratio_specs(params, trips, _parse_list(ratios, "ratios"), repeat, seed)
        specs += interval_specs(
            params,
            trips,
            _parse_list(intervals, "intervals"),
            repeat,
            seed,
            INTERVAL_RATIO,
            _policies(policies),
            response.value,
        )
    except ValueError as error:
        fail(str(error))
    _run_experiment(_with_rejection(specs, rejection), out, workers, cluster)


def _optional_list(text: str, name: str) -> list[float | None]:
    """Numbers separated by commas; ``none`` stands for no limit."""
    out: list[float | None] = []
    for part in (p.strip() for p in text.split(",")):
        if part.lower() in ("none", "-"):
            out.append(None)
        elif part:
            out.append(_parse_list(part, name)[0])
    if not out:
        raise ValueError(f"--{name} is empty")
    return out


GAP_INTERVALS_TEXT = ",".join(f"{i:g}" for i in GAP_INTERVALS)
GAP_LEADS_TEXT = ",".join(f"{v:g}" for v in GAP_LEADS)
GAP_MAX_WAITS_TEXT = ",".join("none" if v is None else f"{v:g}" for v in GAP_MAX_WAITS)
GAP_POLICIES_TEXT = ",".join(GAP_POLICIES)


@experiment_app.command("gap")
def gap_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    ratio: Annotated[float, typer.Option(help="Request/trip ratio of the days.")] = INTERVAL_RATIO,
    intervals: IntervalsOption = GAP_INTERVALS_TEXT,
    leads: Annotated[
        str, typer.Option(help="Just-in-time leads (minutes before departure), comma-separated.")
    ] = GAP_LEADS_TEXT,
    max_waits: Annotated[
        str,
        typer.Option(
            help="Just-in-time longest waits (minutes after announcement), comma-separated; "
            "none: no promise."
        ),
    ] = GAP_MAX_WAITS_TEXT,
    policies: Annotated[
        str,
        typer.Option(
            help="Policies, comma-separated: max-matches, anticipatory, acceptance-aware."
        ),
    ] = GAP_POLICIES_TEXT,
    phantom_weights: Annotated[
        str,
        typer.Option(
            help="anticipatory: values of a sampled request as a share of a real one's, "
            "comma-separated (one anticipatory run per weight)."
        ),
    ] = f"{PHANTOM_WEIGHT:g}",
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    response: ResponseChoice = ResponseOption.paper,
    rejection: RejectionChoice = RejectionOption.retry,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/gap"),
    city_km: CityOption = None,
    settings: SetOption = None,
) -> None:
    """Every online strategy against the offline bound of the same days, with its time from
    announcement to match: rolling, instant and just-in-time, with and without anticipation.
    Writes match_vs_wait.png and tables.md besides runs.csv and summary.csv."""
    try:
        specs = gap_specs(
            _common(settings, city_km),
            trips,
            _check_repetitions(repetitions),
            seed,
            ratio,
            _parse_list(intervals, "intervals"),
            _parse_list(leads, "leads"),
            _optional_list(max_waits, "max-waits"),
            _policies(policies),
            response.value,
            _parse_list(phantom_weights, "phantom-weights"),
        )
    except ValueError as error:
        fail(str(error))
    _run_experiment(_with_rejection(specs, rejection), out, workers, cluster)


def _variant_specs(
    variants: Sequence[Variant],
    params: ScenarioParams,
    trips: int,
    ratios: list[float],
    intervals: list[float],
    repetitions: int,
    seed: int,
    ratio_strategies: Sequence[str],
    response: str,
) -> list[RunSpec]:
    specs: list[RunSpec] = []
    for variant in variants:
        base = ratio_specs(params, trips, ratios, repetitions, seed, ratio_strategies)
        base += interval_specs(
            params, trips, intervals, repetitions, seed, INTERVAL_RATIO, response=response
        )
        specs += variant.apply(base)
    return specs


SENSITIVITY_INTERVALS = "10,20,40,60,80,120"


@experiment_app.command("sensitivity")
def sensitivity_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    ratios: RatiosOption = RATIOS_TEXT,
    intervals: IntervalsOption = SENSITIVITY_INTERVALS,
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    response: ResponseChoice = ResponseOption.paper,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/sensitivity"),
) -> None:
    """Figures 5 and 6 under each setting the paper leaves open: departure window (08-18,
    06-22, 04-24, commuter peaks), city size (20, 50, 70 km), delivery window (to 19:00, or
    60, 120, 240 minutes). tables.md gives where Figure 5's knee falls and Figure 6's shape."""
    try:
        specs = _variant_specs(
            SENSITIVITY_VARIANTS,
            ScenarioParams(),
            trips,
            _parse_list(ratios, "ratios"),
            _parse_list(intervals, "intervals"),
            _check_repetitions(repetitions),
            seed,
            ("offline",),
            response.value,
        )
    except ValueError as error:
        fail(str(error))
    _run_experiment(specs, out, workers, cluster)


@experiment_app.command("announcements")
def announcements_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    ratios: RatiosOption = RATIOS_TEXT,
    intervals: IntervalsOption = SENSITIVITY_INTERVALS,
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    response: ResponseChoice = ResponseOption.paper,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/announcements"),
) -> None:
    """Figures 5 and 6 with trips announced during the day: all known at the start, or 120,
    60, 30 minutes before they depart. Figure 5 adds rolling 40 (the offline match knows
    every trip whatever the lead)."""
    try:
        specs = _variant_specs(
            ANNOUNCEMENT_VARIANTS,
            ScenarioParams(),
            trips,
            _parse_list(ratios, "ratios"),
            _parse_list(intervals, "intervals"),
            _check_repetitions(repetitions),
            seed,
            ("offline", "rolling"),
            response.value,
        )
    except ValueError as error:
        fail(str(error))
    _run_experiment(specs, out, workers, cluster)


@experiment_app.command("rejection")
def rejection_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    intervals: IntervalsOption = INTERVALS_TEXT,
    repetitions: RepetitionsOption = 10,
    seed: SeedOption = 0,
    response: ResponseChoice = ResponseOption.paper,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/rejection"),
    settings: SetOption = None,
) -> None:
    """Figure 6 twice on the same days: a rejected pair considered again at the next
    calculation (the paper), and excluded for the rest of the day."""
    try:
        params = _common(settings, None)
        base = interval_specs(
            params,
            trips,
            _parse_list(intervals, "intervals"),
            _check_repetitions(repetitions),
            seed,
            INTERVAL_RATIO,
            response=response.value,
        )
        specs = [spec for variant in REJECTION_VARIANTS for spec in variant.apply(base)]
    except ValueError as error:
        fail(str(error))
    _run_experiment(specs, out, workers, cluster)


@experiment_app.command("capacity")
def capacity_command(
    trips: Annotated[int, typer.Option(help="Trips per day.")] = 1000,
    ratios: RatiosOption = RATIOS_TEXT,
    capacities: Annotated[
        str, typer.Option(help="Trip capacities in parcels, comma-separated: every trip of each.")
    ] = "1,2,3,4",
    mixed: Annotated[
        bool, typer.Option(help="Add a day whose trips carry 1 to the largest, equal shares.")
    ] = False,
    repetitions: RepetitionsOption = 3,
    seed: SeedOption = 0,
    strategies: Annotated[
        str, typer.Option(help="Strategies per point: offline, rolling, instant.")
    ] = "offline,rolling",
    interval: Annotated[float, typer.Option(help="Interval for the rolling strategy.")] = 40.0,
    policies: PoliciesOption = "max-matches",
    response: ResponseChoice = ResponseOption.paper,
    rejection: RejectionChoice = RejectionOption.retry,
    workers: WorkersOption = None,
    cluster: ClusterOption = None,
    out: OutOption = Path("results/capacity"),
    city_km: CityOption = None,
    settings: SetOption = None,
) -> None:
    """Figure 5 at several trip capacities (issue 15): the match rate against the
    request/trip ratio when every trip carries 1, 2, 3 or 4 parcels on one route. Trips of
    capacity > 1 keep 20 bundles of each size (docs/benchmarks.md)."""
    try:
        names = _names(strategies, "strategies")  # ratio_specs checks each
        base = ratio_specs(
            _common(settings, city_km),
            trips,
            _parse_list(ratios, "ratios"),
            _check_repetitions(repetitions),
            seed,
            names,
            interval,
            _policies(policies),
            response.value,
        )
        variants = capacity_variants(_parse_list(capacities, "capacities"), mixed)
        specs = [spec for variant in variants for spec in variant.apply(base)]
    except ValueError as error:
        fail(str(error))
    _run_experiment(_with_rejection(specs, rejection), out, workers, cluster)
