"""Several parcels per trip (issue 15): what capacity buys, how fast, how good the routes are.

    .venv/bin/python benchmarks/bench_capacity.py                 # every part
    .venv/bin/python benchmarks/bench_capacity.py --part quality  # or speed, seeds, days, routes

Parts:

- ``quality``: the paper's day (``ScenarioParams()``: 1000 trips, fixed seed) at request /
  trip ratios 0.4 to 2.0, every trip of capacity 1, 2, 3 or 4 (requests of size 1):
  requests served and detour per parcel, under ``max-matches``. Capacity 1 is today's
  matcher. Above it each run is limited to ``--time-limit`` seconds and, beyond ``--cap``
  bundles of one size per trip, keeps the least-detour ones (Alonso-Mora et al.'s cap):
  each row says whether it is the proven optimum over *all* bundles (exact), over the
  bundles kept, or the best found with its proven gap. Plot: ``docs/img/capacity.png``.
- ``speed``: the issue's targets by column generation (``method="price"``): 1000 trips x
  1000 requests at capacity 3 to the proven optimum over every feasible bundle (and within
  a proven 1 % gap), and 20000 x
  8000 at capacity 2 within a proven 1 % gap, the paper's settings, with the time split by
  phase; and on 1000 x 400 at capacity 2 both methods (every bundle listed, and priced),
  which must reach the same optimum. With ``--other-days``, the exact target also on days
  built differently (seeds 7 and 11, and commuter peaks with wide windows), each 0-1
  program limited to ``--speed-limit`` seconds, and the 1 % target at 20000 x 8000 on
  seeds 1 to 3.
- ``seeds``: the exact target (1000 x 1000 at capacity 3, proven) on the paper's settings
  drawn with seeds 1 to ``--exact-seeds``: per seed the time and its phases, then how
  many were proven, how many in < 10 s, the median and the slowest.
- ``days``: the exact solve (``method="price"``, ``--speed-limit`` seconds per 0-1
  program) on days built differently, ``--days-size`` trips x as many requests (300),
  half the trips of capacity 2 and half of 3, seeds 1 to ``--seeds``: the paper's
  settings, commuter peaks with wide windows, pickup points (90 % of pickups within 300 m
  of one of 4 campus points), one-hour delivery windows, an 8 km city. Per day: requests
  served, proven or the proven gap, seconds; per family, how many were proven.
- ``routes``: for the chosen bundles of two or more requests (1000 x 1000, capacity 3) our
  best route's driving time against OR-Tools routing (pickup-and-delivery with time
  windows, guided local search) and VROOM (``pyvroom``, shipments with time windows) on
  the same stops; each of their orders is re-timed and re-checked with our rule.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from crowdship.core.bundles import RouteMatchResult, match_routes
from crowdship.core.model import Requests, Trips
from crowdship.core.routes import PICKUP, route_problems
from crowdship.core.travel import TravelModel
from crowdship.sim.scenarios import ScenarioParams, generate_scenario

SEED = 2026
ROOT = Path(__file__).resolve().parent.parent
UNITS_PER_MINUTE = 1000  # integer time units for OR-Tools and VROOM


def with_capacity(trips: Trips, capacity: int) -> Trips:
    return Trips.from_columns(
        trips.ids,
        trips.origin,
        trips.destination,
        trips.earliest_departure,
        trips.latest_arrival,
        capacity=np.full(len(trips), capacity),
    )


def day(n_trips: int, n_requests: int) -> tuple[Trips, Requests, TravelModel]:
    scenario = generate_scenario(ScenarioParams(trips=n_trips, requests=n_requests), SEED)
    return scenario.trips, scenario.requests, scenario.travel


def state(result: RouteMatchResult) -> str:
    solve = result.solve
    if solve.exact:
        return "exact"
    if solve.optimal:
        return "optimal over kept"
    return f"gap {solve.gap:.2%}" + ("" if solve.complete else " over kept")


def run(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    capacity: int,
    cap: int | None,
    time_limit: float | None,
) -> tuple[RouteMatchResult, float]:
    started = time.perf_counter()
    result = match_routes(
        with_capacity(trips, capacity),
        requests,
        travel,
        time_limit=time_limit if capacity > 1 else None,
        bundles_per_trip=cap,
    )
    return result, time.perf_counter() - started


def quality(args: argparse.Namespace) -> None:
    ratios = [0.4, 0.8, 1.2, 1.6, 2.0]
    rows = []
    print(
        f"{'ratio':>5} {'cap':>3} {'served':>6} {'rate':>6} {'detour/parcel':>13} "
        f"{'bundles':>8} {'seconds':>7}  state"
    )
    for ratio in ratios:
        trips, requests, travel = day(1000, int(round(ratio * 1000)))
        for capacity in (1, 2, 3, 4):
            result, seconds = run(trips, requests, travel, capacity, args.cap, args.time_limit)
            served = result.matched
            per_parcel = result.assignment.total_detour / served if served else 0.0
            bundles = sum(result.solve.bundles.values())
            rows.append((ratio, capacity, served, len(requests), per_parcel))
            print(
                f"{ratio:5.1f} {capacity:3d} {served:6d} {served / len(requests):6.1%} "
                f"{per_parcel:13.2f} {bundles:8d} {seconds:7.1f}  {state(result)}",
                flush=True,
            )
    plot(rows, ROOT / "docs" / "img" / "capacity.png")


def plot(rows: list[tuple[float, int, int, int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for capacity in sorted({r[1] for r in rows}):
        mine = [r for r in rows if r[1] == capacity]
        ratio = [r[0] for r in mine]
        left.plot(ratio, [r[2] / r[3] for r in mine], marker="o", label=f"capacity {capacity}")
        right.plot(ratio, [r[4] for r in mine], marker="o", label=f"capacity {capacity}")
    left.set(xlabel="requests / trips", ylabel="requests served", title="Match rate")
    right.set(xlabel="requests / trips", ylabel="minutes", title="Detour per parcel")
    left.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("The paper's day, 1000 trips: several parcels per trip (max-matches)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)}")


def priced(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    capacity: int,
    gap: float,
    time_limit: float | None,
    method: str = "price",
) -> tuple[RouteMatchResult, float]:
    started = time.perf_counter()
    result = match_routes(
        with_capacity(trips, capacity),
        requests,
        travel,
        time_limit=time_limit,
        method=method,
        gap=gap,
    )
    return result, time.perf_counter() - started


def describe(name: str, result: RouteMatchResult, seconds: float) -> None:
    solve, t = result.solve, result.stats.timings
    phases = (
        "pairs",
        "capacity 1",
        "pricing",
        "lp",
        "rounding",
        "search",
        "cuts",
        "zero-half",
        "milp",
        "completion",
    )
    split = ", ".join(f"{p} {t[p]:.1f}" for p in phases if p in t)
    other = seconds - sum(t.get(p, 0.0) for p in phases)
    proof = (
        "proven optimum over every bundle"
        if solve.exact
        else f"proven gap {solve.gap:.3%} over every bundle (served <= {solve.served_bound})"
    )
    print(
        f"{name}: {seconds:.1f} s ({split}, other {other:.1f}); served {result.matched}, "
        f"detour {result.assignment.total_detour:.1f} min; {proof}; {solve.method}: "
        f"{solve.rounds} LP rounds, {solve.routed} routes searched, columns {solve.bundles}"
        + (f", {solve.cuts} subset-row cuts" if solve.cuts else "")
        + (f", {solve.completed} added to prove it" if solve.completed else ""),
        flush=True,
    )


def speed(args: argparse.Namespace) -> None:
    """The issue's two targets, by column generation (every feasible bundle priced, none
    listed): 1000 x 1000 at capacity 3 to the proven optimum, 20000 x 8000 at capacity 2
    within a proven 1 % gap; and both methods on a day where listing every bundle ends."""
    trips, requests, travel = day(1000, 400)
    for method in ("enumerate", "price"):
        result, seconds = priced(trips, requests, travel, 2, 0.0, None, method)
        describe(f"1000 x 400, capacity 2, {method}", result, seconds)
    trips, requests, travel = day(1000, 1000)
    result, seconds = priced(trips, requests, travel, 3, 0.0, args.speed_limit)
    describe("1000 x 1000, capacity 3, exact (target: < 10 s)", result, seconds)
    result, seconds = priced(trips, requests, travel, 3, 0.01, args.speed_limit)
    describe("1000 x 1000, capacity 3, gap 1 %", result, seconds)
    trips, requests, travel = day(20000, 8000)
    result, seconds = priced(trips, requests, travel, 2, 0.01, args.speed_limit)
    describe("20000 x 8000, capacity 2, gap 1 % (target: < 60 s)", result, seconds)
    if args.other_days:
        # The exact target on days built differently: other seeds, commuter peaks with
        # wide windows (bench_matching's "wide" family at this size).
        for name, seed, extra in (
            ("seed 7", 7, {}),
            ("seed 11", 11, {}),
            ("wide windows", SEED, {"departure_profile": "commuter", "flexibility": 0.6}),
        ):
            params = ScenarioParams(trips=1000, requests=1000, **extra)  # type: ignore[arg-type]
            scenario = generate_scenario(params, seed)
            result, seconds = priced(
                scenario.trips, scenario.requests, scenario.travel, 3, 0.0, args.speed_limit
            )
            describe(f"1000 x 1000, capacity 3, exact, {name}", result, seconds)
        # The gap target on other draws of the paper's settings (seed 2 took 121 s until
        # a packing near the cut LP within the gap ended the solve).
        for seed in (1, 2, 3):
            scenario = generate_scenario(ScenarioParams(trips=20000, requests=8000), seed)
            result, seconds = priced(
                scenario.trips, scenario.requests, scenario.travel, 2, 0.01, args.speed_limit
            )
            describe(f"20000 x 8000, capacity 2, gap 1 %, seed {seed}", result, seconds)


#: The ``days`` part's families: ScenarioParams beyond the size and the capacities.
DAY_FAMILIES: dict[str, dict[str, object]] = {
    "paper": {},
    "wide windows": {"departure_profile": "commuter", "flexibility": 0.6},
    "pickup points": {
        "departure_profile": "commuter",
        "flexibility": 0.6,
        "pickup_points": 4,
        "pickup_point_share": 0.9,
    },
    "one-hour windows": {"delivery_window": 60.0},
    "8 km city": {"city_km": 8.0},
}


def days(args: argparse.Namespace) -> None:
    """The exact solve on days built differently: how many are proven, and how fast."""
    size = args.days_size
    for name, extra in DAY_FAMILIES.items():
        proven, seconds = 0, []
        for seed in range(1, args.seeds + 1):
            params = ScenarioParams(
                trips=size,
                requests=size,
                trip_capacity=(0.0, 0.5, 0.5),
                **extra,  # type: ignore[arg-type]
            )
            scenario = generate_scenario(params, seed)
            started = time.perf_counter()
            result = match_routes(
                scenario.trips,
                scenario.requests,
                scenario.travel,
                time_limit=args.speed_limit,
                method="price",
            )
            took = time.perf_counter() - started
            seconds.append(took)
            solve = result.solve
            proven += solve.exact
            how = (
                "proven" if solve.exact else f"gap {solve.gap:.3%} (served <= {solve.served_bound})"
            )
            print(
                f"{name}, seed {seed}: {result.matched} served, "
                f"{result.assignment.total_detour:.1f} min, {how}, {took:.1f} s",
                flush=True,
            )
        print(
            f"{name}: {proven} of {args.seeds} proven; median {np.median(seconds):.1f} s, "
            f"slowest {max(seconds):.1f} s",
            flush=True,
        )


def seeds(args: argparse.Namespace) -> None:
    """The exact target (1000 x 1000 at capacity 3, proven, < 10 s) on the paper's settings
    drawn with other seeds: the benchmark's own day is one draw of many a user could bring."""
    seconds, proven, fast = [], 0, 0
    for seed in range(1, args.exact_seeds + 1):
        scenario = generate_scenario(ScenarioParams(trips=1000, requests=1000), seed)
        result, took = priced(
            scenario.trips, scenario.requests, scenario.travel, 3, 0.0, args.speed_limit
        )
        describe(f"1000 x 1000, capacity 3, exact, seed {seed}", result, took)
        seconds.append(took)
        proven += result.solve.exact
        fast += result.solve.exact and took < 10.0
    print(
        f"seeds 1-{args.exact_seeds}: {proven} proven, {fast} of them in < 10 s; median "
        f"{np.median(seconds):.1f} s, slowest {max(seconds):.1f} s",
        flush=True,
    )


def routes(args: argparse.Namespace) -> None:
    trips, requests, travel = day(1000, 1000)
    trips = with_capacity(trips, 3)
    result = match_routes(
        trips, requests, travel, bundles_per_trip=args.cap, time_limit=args.speed_limit
    )
    a = result.assignment
    by_trip: dict[int, list[int]] = {}
    for k in range(len(a)):
        by_trip.setdefault(int(a.trip_index[k]), []).append(int(a.request_index[k]))
    bundles = [(t, m) for t, m in by_trip.items() if len(m) >= 2][: args.route_sample]
    tally = {"ortools": [0, 0, 0, 0], "vroom": [0, 0, 0, 0]}  # equal, ours better, theirs, bad
    spent = {"ours": 0.0, "ortools": 0.0, "vroom": 0.0}
    for t, members in bundles:
        coords = np.vstack(
            (
                trips.origin[t : t + 1],
                trips.destination[t : t + 1],
                np.column_stack((requests.pickup[members], requests.delivery[members])).reshape(
                    -1, 2
                ),
            )
        )
        minutes = travel.matrix(coords, coords)
        started = time.perf_counter()
        ours_stops = our_route(trips, requests, travel, t, members)
        spent["ours"] += time.perf_counter() - started
        ours = driving(minutes, ours_stops, members)
        for name, solver in (("ortools", ortools_route), ("vroom", vroom_route)):
            started = time.perf_counter()
            theirs_stops = solver(trips, requests, minutes, t, members)
            spent[name] += time.perf_counter() - started
            if theirs_stops is None or route_problems(
                trips, requests, travel, t, [(r, k) for r, k in theirs_stops]
            ):
                tally[name][3] += 1
                continue
            theirs = driving(minutes, theirs_stops, members)
            if abs(theirs - ours) <= 1e-6 * max(1.0, ours):
                tally[name][0] += 1
            elif ours < theirs:
                tally[name][1] += 1
            else:
                tally[name][2] += 1
    print(
        f"{len(bundles)} chosen bundles of 2 or 3 requests (1000 x 1000, capacity 3, "
        f"{state(result)})"
    )
    print(
        f"{'solver':>8} {'equal':>6} {'ours shorter':>12} {'theirs shorter':>14} "
        f"{'no valid route':>14} {'ms per bundle':>13}"
    )
    for name in ("ortools", "vroom"):
        equal, better, worse, bad = tally[name]
        print(
            f"{name:>8} {equal:6d} {better:12d} {worse:14d} {bad:14d} "
            f"{1000 * spent[name] / max(len(bundles), 1):13.1f}"
        )
    print(
        f"{'ours':>8} {'':>6} {'':>12} {'':>14} {'':>14} "
        f"{1000 * spent['ours'] / max(len(bundles), 1):13.1f}"
    )


def our_route(
    trips: Trips, requests: Requests, travel: TravelModel, t: int, members: list[int]
) -> list[tuple[int, str]]:
    from crowdship.core.routes import best_route

    found = best_route(trips, requests, travel, t, sorted(members))
    assert found is not None
    return [(s.request, "pickup" if s.kind == PICKUP else "delivery") for s in found[0]]


def driving(minutes: np.ndarray, stops: list[tuple[int, str]], members: list[int]) -> float:
    place = {r: i for i, r in enumerate(members)}
    points = [0] + [2 + 2 * place[r] + (k == "delivery") for r, k in stops] + [1]
    return float(sum(minutes[a, b] for a, b in zip(points, points[1:], strict=False)))


def _units(value: float) -> int:
    return int(round(value * UNITS_PER_MINUTE))


def ortools_route(
    trips: Trips, requests: Requests, minutes: np.ndarray, t: int, members: list[int]
) -> list[tuple[int, str]] | None:
    """OR-Tools routing: one vehicle from node 0 to node 1, pickups and deliveries with
    time windows (waiting allowed) and a capacity, least driving."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(coords_of(members))
    matrix = np.rint(minutes * UNITS_PER_MINUTE).astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(n, 1, [0], [1])
    routing = pywrapcp.RoutingModel(manager)

    def transit(i: int, j: int) -> int:
        return int(matrix[manager.IndexToNode(i), manager.IndexToNode(j)])

    callback = routing.RegisterTransitCallback(transit)
    routing.SetArcCostEvaluatorOfAllVehicles(callback)
    horizon = _units(float(trips.latest_arrival[t])) + 1
    routing.AddDimension(callback, horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    start, end = routing.Start(0), routing.End(0)
    clock.CumulVar(start).SetRange(
        _units(float(trips.earliest_departure[t])), _units(float(trips.earliest_departure[t]))
    )
    clock.CumulVar(end).SetMax(_units(float(trips.latest_arrival[t])))
    sizes = [0, 0]
    for r in members:
        sizes += [int(requests.size[r]), -int(requests.size[r])]

    def demand(i: int) -> int:
        return sizes[manager.IndexToNode(i)]

    load = routing.RegisterUnaryTransitCallback(demand)
    routing.AddDimensionWithVehicleCapacity(load, 0, [int(trips.capacity[t])], True, "load")
    for i, r in enumerate(members):
        p, d = manager.NodeToIndex(2 + 2 * i), manager.NodeToIndex(3 + 2 * i)
        routing.AddPickupAndDelivery(p, d)
        routing.solver().Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        routing.solver().Add(clock.CumulVar(p) <= clock.CumulVar(d))
        clock.CumulVar(p).SetMin(_units(float(requests.earliest_pickup[r])))
        clock.CumulVar(d).SetMax(_units(float(requests.latest_delivery[r])))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(200)
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    stops = []
    index = solution.Value(routing.NextVar(start))
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        stops.append((members[(node - 2) // 2], "pickup" if node % 2 == 0 else "delivery"))
        index = solution.Value(routing.NextVar(index))
    return stops


def coords_of(members: list[int]) -> list[int]:
    return [0, 1] + [2 + i for i in range(2 * len(members))]


def vroom_route(
    trips: Trips, requests: Requests, minutes: np.ndarray, t: int, members: list[int]
) -> list[tuple[int, str]] | None:
    """VROOM: one vehicle from location 0 to 1, a shipment per request with time windows."""
    import vroom

    matrix = np.rint(minutes * UNITS_PER_MINUTE).astype(np.uint32)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix)
    problem.add_vehicle(
        vroom.Vehicle(
            id=0,
            start=0,
            end=1,
            capacity=[int(trips.capacity[t])],
            time_window=vroom.TimeWindow(
                _units(float(trips.earliest_departure[t])), _units(float(trips.latest_arrival[t]))
            ),
        )
    )
    for i, r in enumerate(members):
        problem.add_shipment(
            vroom.ShipmentStep(
                id=i,
                location=2 + 2 * i,
                time_windows=[vroom.TimeWindow(_units(float(requests.earliest_pickup[r])), 2**31)],
            ),
            vroom.ShipmentStep(
                id=i,
                location=3 + 2 * i,
                time_windows=[vroom.TimeWindow(0, _units(float(requests.latest_delivery[r])))],
            ),
            amount=vroom.Amount([int(requests.size[r])]),
        )
    solution = problem.solve(exploration_level=5, nb_threads=1)
    frame = solution.routes
    steps = frame[frame["type"].isin(["pickup", "delivery"])]
    if len(steps) != 2 * len(members):
        return None
    return [(members[int(row.id)], str(row.type)) for row in steps.itertuples()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--part", choices=["quality", "speed", "seeds", "days", "routes", "all"], default="all"
    )
    parser.add_argument("--cap", type=int, default=20, help="bundles of one size per trip kept")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per run")
    parser.add_argument(
        "--speed-limit", type=float, default=60.0, help="seconds for each 0-1 program (speed)"
    )
    parser.add_argument("--route-sample", type=int, default=200)
    parser.add_argument(
        "--other-days",
        action="store_true",
        help="speed: the exact target also on seeds 7 and 11 and a wide-windows day, "
        "the gap target on seeds 1-3",
    )
    parser.add_argument("--days-size", type=int, default=300, help="days: trips (= requests)")
    parser.add_argument("--seeds", type=int, default=8, help="days: seeds per family")
    parser.add_argument(
        "--exact-seeds", type=int, default=12, help="seeds: the paper's day drawn with seeds 1-N"
    )
    parser.add_argument(
        "--weighted-zero-half",
        action="store_true",
        help="priced zero-half cuts on the weighted LP before the completion (off in the "
        "matcher: colgen.ZERO_HALF_WEIGHTED)",
    )
    args = parser.parse_args()
    if args.weighted_zero_half:
        from crowdship.core import colgen

        colgen.ZERO_HALF_WEIGHTED = True
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if args.part in ("quality", "all"):
        quality(args)
    if args.part in ("speed", "all"):
        speed(args)
    if args.part in ("seeds", "all"):
        seeds(args)
    if args.part in ("days", "all"):
        days(args)
    if args.part in ("routes", "all"):
        routes(args)


if __name__ == "__main__":
    main()
