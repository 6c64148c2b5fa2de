"""The straightforward pipeline of ``bench_matching.py``, as its own process.

    python benchmarks/straightforward.py DIRECTORY COORDS TRAVEL_ARGS_JSON

A plain, well-written NumPy + OR-Tools program: read the two CSV files with NumPy, check
*every* trip x request pair with vectorised NumPy (chunks broadcast in float32 with a slack,
survivors checked exactly in float64, so it finds exactly the rule's pairs and detours), and
solve OR-Tools min-cost max-flow on all feasible pairs. Prints one JSON line: feasible pairs,
matches, total cost (integer thousandths of a minute) and where the time went.

It loads nothing it does not need: no numba, none of crowdship's compiled kernels. The
travel models' formulas come from ``crowdship/core/travel.py`` itself (loaded without the
``crowdship.core`` package, whose modules compile kernels with numba), so its minutes are
the models' own. Only the road network needs crowdship's ``RoadNetworkTravel`` (loaded the
same way, with SciPy: a plain program has no road network of its own) and its prepared copy
(``crowdship.roads``, as ``crowdship match`` reads it).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

COST_SCALE = 1000  # integer cost units per minute (crowdship.core.flow.COST_SCALE)
TIME_TOLERANCE = 1e-6  # crowdship.core.feasibility.TIME_TOLERANCE


def _travel_module() -> Any:
    """``crowdship.core.travel`` without running ``crowdship/core/__init__.py`` (which loads
    the matcher, its kernels and numba): a bare package stands in for ``crowdship.core``,
    so only ``travel.py`` and ``model.py`` (NumPy only) are loaded."""
    if "crowdship.core" not in sys.modules:
        spec = importlib.util.find_spec("crowdship")
        assert spec is not None and spec.submodule_search_locations
        package = types.ModuleType("crowdship.core")
        package.__path__ = [str(Path(spec.submodule_search_locations[0]) / "core")]
        sys.modules["crowdship.core"] = package
    import crowdship.core.travel as travel

    return travel


def _columns(path: Path, names: list[str]) -> np.ndarray:
    """The named columns of a plain CSV file as float64 (rows x names)."""
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    use = [header.index(name) for name in names]
    return np.loadtxt(
        path, delimiter=",", skiprows=1, usecols=use, dtype=np.float64, comments=None, ndmin=2
    )


def _legs32(travel: Any, a: np.ndarray, b: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """Minutes from each point of ``a`` (rows) to each of ``b`` (columns), float32, into
    ``out`` (planar or great-circle)."""
    scale = np.float32(travel.detour_factor / travel.speed_kmh * 60.0)
    if not hasattr(travel, "_haversine_km"):  # planar
        np.subtract(a[:, 0:1], b[None, :, 0], out=out)
        np.square(out, out=out)
        np.subtract(a[:, 1:2], b[None, :, 1], out=tmp)
        np.square(tmp, out=tmp)
        out += tmp
        np.sqrt(out, out=out)
        out *= scale
        return
    # Haversine on radians (a: lat, lon, cos lat per row).
    np.subtract(b[None, :, 0], a[:, 0:1], out=out)
    out *= np.float32(0.5)
    np.sin(out, out=out)
    np.square(out, out=out)
    np.subtract(b[None, :, 1], a[:, 1:2], out=tmp)
    tmp *= np.float32(0.5)
    np.sin(tmp, out=tmp)
    np.square(tmp, out=tmp)
    tmp *= a[:, 2:3]
    tmp *= b[None, :, 2]
    out += tmp
    np.clip(out, 0, 1, out=out)
    np.sqrt(out, out=out)
    np.arcsin(out, out=out)
    out *= np.float32(2 * 6371.0088) * scale


def _prepare32(travel: Any, points: np.ndarray) -> np.ndarray:
    if not hasattr(travel, "_haversine_km"):
        return points.astype(np.float32)
    lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
    return np.column_stack((lat, lon, np.cos(lat))).astype(np.float32)


def straightforward(directory: Path, coords: str, args: list[str]) -> dict[str, object]:
    """Every pair with plain NumPy, then OR-Tools min-cost max-flow on all feasible pairs."""
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    road = "--road-network" in args
    x, y = ("lat", "lon") if coords == "latlon" else ("x", "y")
    t = _columns(
        directory / "trips.csv",
        [
            f"origin_{x}",
            f"origin_{y}",
            f"destination_{x}",
            f"destination_{y}",
            "earliest_departure",
            "latest_arrival",
        ],
    )
    r = _columns(
        directory / "requests.csv",
        [
            f"pickup_{x}",
            f"pickup_{y}",
            f"delivery_{x}",
            f"delivery_{y}",
            "earliest_pickup",
            "latest_delivery",
        ],
    )
    origin, dest = np.ascontiguousarray(t[:, 0:2]), np.ascontiguousarray(t[:, 2:4])
    pickup, delivery = np.ascontiguousarray(r[:, 0:2]), np.ascontiguousarray(r[:, 2:4])
    ed_trip, la_trip = t[:, 4].copy(), t[:, 5].copy()
    ed_req, la_req = r[:, 4].copy(), r[:, 5].copy()
    travel: Any
    if road:
        _travel_module()  # the bare package first: road.py then loads without numba
        from crowdship.core.road import bundled_extract
        from crowdship.roads import load_road_network

        travel = load_road_network(bundled_extract())
    else:
        model = _travel_module()
        speed = float(args[args.index("--speed-kmh") + 1])
        factor = float(args[args.index("--detour-factor") + 1])
        kind = model.PlanarTravel if coords == "km" else model.GreatCircleTravel
        travel = kind(speed_kmh=speed, detour_factor=factor)
    read_s = time.perf_counter() - start
    if road:
        # Every point snapped to its network node once; every leg is then a table lookup.
        o_node, d_node = travel.snap(origin), travel.snap(dest)
        p_node, q_node = travel.snap(pickup), travel.snap(delivery)
        table = travel.node_matrix(np.arange(travel.nodes), np.arange(travel.nodes))
        direct_trip, direct_req = table[o_node, d_node], table[p_node, q_node]
    else:
        direct_trip = travel.pairwise(origin, dest)
        direct_req = travel.pairwise(pickup, delivery)
    n_t, n_r = len(origin), len(pickup)
    # float32 is exact to ~1e-4 min here; the slack keeps every feasible pair, and the
    # survivors are checked again in float64 with the rule itself.
    slack = np.float32(0.05)
    ed_t = ed_trip.astype(np.float32)
    la_t = (la_trip + TIME_TOLERANCE).astype(np.float32) + slack
    ed_r = ed_req.astype(np.float32)
    d_r = direct_req.astype(np.float32)
    la_r = (la_req + TIME_TOLERANCE).astype(np.float32) + slack
    if not road:
        origin32, dest32 = _prepare32(travel, origin), _prepare32(travel, dest)
        pickup32, delivery32 = _prepare32(travel, pickup), _prepare32(travel, delivery)
    rows = max(1, (1 << 19) // max(1, n_r))  # trips per chunk: ~0.5 M pairs, 2 MB arrays
    shape = (rows, n_r)
    leg, tmp, when = (np.empty(shape, np.float32) for _ in range(3))
    ok, ok2 = np.empty(shape, bool), np.empty(shape, bool)
    found_t, found_r = [], []
    for lo in range(0, n_t, rows):
        hi = min(n_t, lo + rows)
        b = hi - lo
        lg, tp, wh, good, good2 = leg[:b], tmp[:b], when[:b], ok[:b], ok2[:b]
        if road:
            np.take(table[o_node[lo:hi]], p_node, axis=1, out=lg)
        else:
            _legs32(travel, origin32[lo:hi], pickup32, lg, tp)
        np.add(ed_t[lo:hi, None], lg, out=wh)  # arrive at the pickup
        np.maximum(wh, ed_r[None, :], out=wh)  # wait until it opens
        wh += d_r[None, :]  # deliver
        np.less_equal(wh, la_r[None, :], out=good)
        if road:
            np.take(table[:, d_node[lo:hi]].T, q_node, axis=1, out=lg)
        else:
            _legs32(travel, dest32[lo:hi], delivery32, lg, tp)
        wh += lg  # reach the trip's destination
        np.less_equal(wh, la_t[lo:hi, None], out=good2)
        good &= good2
        ti, ri = np.nonzero(good)  # only the survivors get index arrays
        found_t.append(ti.astype(np.int64) + lo)
        found_r.append(ri.astype(np.int64))
    trip, request = np.concatenate(found_t), np.concatenate(found_r)
    # The exact rule (float64, the travel model's own minutes) on the survivors, as
    # crowdship.core.feasibility.evaluate writes it.
    if road:
        to_pickup = table[o_node[trip], p_node[request]]
        from_delivery = table[q_node[request], d_node[trip]]
    else:
        to_pickup = travel.pairwise(origin[trip], pickup[request])
        from_delivery = travel.pairwise(delivery[request], dest[trip])
    at_pickup = np.maximum(ed_trip[trip] + to_pickup, ed_req[request])
    at_delivery = at_pickup + direct_req[request]
    feasible = (at_delivery <= la_req[request] + TIME_TOLERANCE) & (
        at_delivery + from_delivery <= la_trip[trip] + TIME_TOLERANCE
    )
    detour = to_pickup + direct_req[request] + from_delivery - direct_trip[trip]
    trip, request = trip[feasible], request[feasible]
    cost = np.rint(np.maximum(detour[feasible], 0.0) * COST_SCALE).astype(np.int64)
    pairs_s = time.perf_counter() - start - read_s
    matched, total = _ortools_max_matching_min_cost(min_cost_flow, trip, request, cost)
    seconds = time.perf_counter() - start
    return {
        "feasible": len(trip),
        "matched": matched,
        "cost": total,
        "read_s": read_s,
        "pairs_s": pairs_s,
        "solve_s": seconds - read_s - pairs_s,
    }


def _ortools_max_matching_min_cost(
    min_cost_flow: Any, trip: np.ndarray, request: np.ndarray, cost: np.ndarray
) -> tuple[int, int]:
    """source -> trips -> requests -> sink, unit capacities, max flow then min cost."""
    if len(trip) == 0:
        return 0, 0
    t_nodes, t_dense = np.unique(trip, return_inverse=True)
    r_nodes, r_dense = np.unique(request, return_inverse=True)
    n_t, n_r = len(t_nodes), len(r_nodes)
    sink = 1 + n_t + n_r
    tails = np.concatenate((1 + t_dense, np.zeros(n_t, np.int64), 1 + n_t + np.arange(n_r)))
    heads = np.concatenate((1 + n_t + r_dense, 1 + np.arange(n_t), np.full(n_r, sink)))
    costs = np.concatenate((cost, np.zeros(n_t + n_r, np.int64)))
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int64), heads.astype(np.int64), np.ones(len(tails), np.int64), costs
    )
    supply = min(n_t, n_r)
    flow.set_node_supply(0, supply)
    flow.set_node_supply(sink, -supply)
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError("OR-Tools did not reach an optimum")
    used = flow.flows(np.arange(len(trip), dtype=np.int64)) > 0
    return int(used.sum()), int(cost[used].sum())


if __name__ == "__main__":
    directory, coords, travel_args = sys.argv[1:4]
    print(json.dumps(straightforward(Path(directory), coords, json.loads(travel_args))))
