"""Matcher speed on the paper's instances, against the straightforward pipeline.

    .venv/bin/python benchmarks/bench_matching.py            # all sizes (about 5 minutes)
    .venv/bin/python benchmarks/bench_matching.py --sizes 1000x1000 20000x8000

Instances as in the paper's evaluation (``crowdship.sim.scenarios``): planar, 50 km/h, trips
of 5 min to 2 h and 5 to 100 km with one third flexibility, requests picked up from 8:00 to
12:00 and delivered by 19:00; a 20 km city, except ``100000x40000`` whose region grows with
the trips (same density as 1000 trips in 20 km).

Two pipelines, each run in a fresh process (so peak memory is its own):
- ``crowdship``: the grid index (compiled) + the exact solver of ``crowdship.core``;
- ``straightforward``: every pair checked with NumPy, OR-Tools min-cost max-flow on all
  feasible pairs.
Both must reach the same optimum (matches and total cost); the table says so per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

from crowdship.core.feasibility import DirectTimes, evaluate
from crowdship.core.flow import COST_SCALE, max_matching_min_cost, to_units
from crowdship.core.matcher import match
from crowdship.core.policies import MaxMatches
from crowdship.sim.scenarios import ScenarioParams, generate

SIZES = ["1000x400", "1000x1000", "5000x2000", "20000x8000", "100000x40000"]
GROWN = {"100000x40000"}  # region grows with the number of trips
SEED = 2026


@dataclass
class Run:
    pipeline: str
    size: str
    feasible: int
    pairs_s: float
    solve_s: float
    total_s: float
    peak_mb: float
    matched: int
    cost: int  # integer cost units


def instance(size: str) -> tuple[ScenarioParams, object, object]:
    n_trips, n_requests = (int(x) for x in size.split("x"))
    city = 20.0 * np.sqrt(n_trips / 1000) if size in GROWN else 20.0
    params = ScenarioParams(trips=n_trips, requests=n_requests, city_km=city)
    trips, requests = generate(params, SEED)
    return params, trips, requests


def run_crowdship(size: str) -> Run:
    params, trips, requests = instance(size)
    # Compile (or load the compiled kernel) outside the timing, as a long-lived service would.
    warm_params = ScenarioParams(trips=50, requests=20)
    warm_trips, warm_requests = generate(warm_params, 0)
    match(warm_trips, warm_requests, warm_params.travel)
    match(warm_trips, warm_requests, warm_params.travel, policy=MaxMatches(certify_above=0))
    result = match(trips, requests, params.travel)  # type: ignore[arg-type]
    pairs_s = (
        result.stats.timings["direct"]
        + result.stats.timings["pairs"]
        + result.stats.timings["cost"]
    )
    return Run(
        "crowdship",
        size,
        result.stats.feasible_pairs,
        pairs_s,
        result.stats.timings["solve"],
        result.stats.seconds,
        0.0,
        result.matched,
        int(to_units(result.assignment.cost).sum()),
    )


def run_straightforward(size: str) -> Run:
    params, trips, requests = instance(size)
    travel = params.travel
    start = time.perf_counter()
    direct = DirectTimes.of(trips, requests, travel)  # type: ignore[arg-type]
    n_t, n_r = len(trips), len(requests)  # type: ignore[arg-type]
    rows = max(1, (1 << 22) // max(1, n_r))  # trips per chunk: about 4M pairs
    found_t, found_r, found_c = [], [], []
    all_r = np.arange(n_r, dtype=np.int64)
    for lo in range(0, n_t, rows):
        block = np.arange(lo, min(n_t, lo + rows), dtype=np.int64)
        ti = np.repeat(block, n_r)
        ri = np.tile(all_r, len(block))
        to_pickup = travel.matrix(trips.origin[block], requests.pickup).ravel()  # type: ignore[attr-defined]
        from_delivery = travel.matrix(requests.delivery, trips.destination[block]).T.ravel()  # type: ignore[attr-defined]
        ok, detour, *_ = evaluate(trips, requests, direct, ti, ri, to_pickup, from_delivery)  # type: ignore[arg-type]
        found_t.append(ti[ok])
        found_r.append(ri[ok])
        found_c.append(detour[ok])
    trip, request = np.concatenate(found_t), np.concatenate(found_r)
    # Plain NumPy rounding (crowdship's to_units is compiled and would load its kernel here).
    cost = np.rint(np.maximum(np.concatenate(found_c), 0.0) * COST_SCALE).astype(np.int64)
    pairs_s = time.perf_counter() - start
    solution = max_matching_min_cost(trip, request, cost)
    total = time.perf_counter() - start
    return Run(
        "straightforward",
        size,
        len(trip),
        pairs_s,
        total - pairs_s,
        total,
        0.0,
        len(solution.selected),
        solution.total_cost,
    )


def measure(pipeline: str, size: str) -> Run:
    """Run one pipeline on one size in a fresh process and read its peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", pipeline, size],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{pipeline} {size} failed:\n{done.stderr}")
    return Run(**json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", default=SIZES, help="TRIPSxREQUESTS, e.g. 1000x400")
    parser.add_argument("--child", nargs=2, metavar=("PIPELINE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pipeline, size = args.child
        run = run_crowdship(size) if pipeline == "crowdship" else run_straightforward(size)
        run.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(run.__dict__))
        return
    console = Console(width=170)
    table = Table(title="matching: crowdship vs straightforward (NumPy all pairs + OR-Tools)")
    for column in (
        "size",
        "pipeline",
        "feasible pairs",
        "pairs s",
        "solve s",
        "total s",
        "peak MB",
        "matches",
        "total cost min",
        "speed-up",
        "same optimum",
    ):
        table.add_column(column, justify="left" if column in ("size", "pipeline") else "right")
    for size in args.sizes:
        ours = measure("crowdship", size)
        base = measure("straightforward", size)
        same = ours.matched == base.matched and ours.cost == base.cost
        for run in (ours, base):
            table.add_row(
                size,
                run.pipeline,
                f"{run.feasible:,}",
                f"{run.pairs_s:.3f}",
                f"{run.solve_s:.3f}",
                f"{run.total_s:.3f}",
                f"{run.peak_mb:,.0f}",
                f"{run.matched:,}",
                f"{run.cost / COST_SCALE:,.1f}",
                f"{base.total_s / ours.total_s:.1f}x" if run is ours else "",
                ("yes" if same else "NO") if run is ours else "",
            )
        console.print(
            f"{size}: crowdship {ours.total_s:.3f} s, straightforward {base.total_s:.3f} s, "
            f"ratio {base.total_s / ours.total_s:.1f}x, same optimum: {same}"
        )
    console.print(table)


if __name__ == "__main__":
    main()
