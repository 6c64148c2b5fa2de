"""Where runs execute: in this process, on local worker processes, or on a Dask cluster.

Every executor returns the rows in the order of the specs, whatever order they finish in,
so ``runs.csv`` is the same for the same seeds on any executor.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from crowdship.experiments.runs import RunSpec, run

log = logging.getLogger(__name__)

Progress = Callable[[], None]  # called once per finished run


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def _single_threaded_worker() -> None:
    # Several worker processes share the cores; a parallel kernel in each would oversubscribe.
    import numba

    numba.set_num_threads(1)


def execute(
    specs: Sequence[RunSpec],
    workers: int | None = None,
    cluster: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run every spec and return their rows in spec order.

    ``cluster`` is a Dask scheduler address (``tcp://host:8786``); otherwise ``workers``
    local processes (default: one per core; 1 runs in this process).
    """
    tick = progress or (lambda: None)
    if cluster is not None:
        return _on_dask(specs, cluster, tick)
    count = default_workers() if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be >= 1, got {count}")
    if count == 1 or len(specs) <= 1:
        rows = []
        for spec in specs:
            rows.append(run(spec))
            tick()
        return rows
    log.info("running %d runs on %d local worker processes", len(specs), count)
    # "spawn": the parent may already hold OR-Tools and numba threads, which fork would copy.
    context = multiprocessing.get_context("spawn")
    results: list[dict[str, Any] | None] = [None] * len(specs)
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_single_threaded_worker
    ) as pool:
        futures = {pool.submit(run, spec): index for index, spec in enumerate(specs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            tick()
    return [row for row in results if row is not None]


def _on_dask(specs: Sequence[RunSpec], address: str, tick: Progress) -> list[dict[str, Any]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    log.info("running %d runs on the Dask cluster at %s", len(specs), address)
    with Client(address, timeout="30s") as client:
        futures = client.map(run, list(specs), pure=False)
        index = {future.key: position for position, future in enumerate(futures)}
        results: list[dict[str, Any] | None] = [None] * len(specs)
        for future in dask_completed(futures):
            results[index[future.key]] = future.result()
            tick()
    return [row for row in results if row is not None]
