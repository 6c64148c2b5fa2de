"""SCIP's side of the race on a 0-1 program (``colgen._Master.race``), in its own process.

Run as a file (``python .../_scip_racer.py``), not as a module of the package, so that it
loads NumPy, SciPy's sparse matrices and OR-Tools' model builder alone (importing
``crowdship.core`` would load numba and every kernel). It reads the program from stdin
(an ``.npz``, as ``_highs_racer.py`` does, with SCIP's parameters in ``options``),
solves it with SCIP as OR-Tools ships it (to the unit: the objective is integral) from
the start given, and writes the packing, the status and the bound to stdout.

Why a process: in a thread beside HiGHS in the matcher's own process it slowed HiGHS by
half (the paper's 1000 x 1000 at capacity 3: 3.0 -> 4.3-5.0 s), where a process of its
own did not; and a process can be stopped at once when HiGHS proves first.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import threading
import time
from typing import Any

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy.sparse import csc_matrix


def _orphaned(parent: int) -> None:
    """Exit once the process that started this one is gone (killed before it could stop
    this one): SCIP would otherwise run on to its time limit, or for ever without one."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def main() -> None:
    threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()
    data = np.load(io.BytesIO(sys.stdin.buffer.read()))
    n_col, n_row = int(data["n_col"]), int(data["n_row"])
    matrix = csc_matrix((data["value"], data["index"], data["start"]), shape=(n_row, n_col))
    model = mbh.ModelBuilderHelper()
    # OR-Tools' stub types these arrays as ``ndarray[float64, ...]``, which no array is.
    fill: Any = model.fill_model_from_sparse_data
    fill(
        np.zeros(n_col),
        np.ones(n_col),
        np.asarray(data["cost"], dtype=np.float64),
        np.asarray(data["row_lower"], dtype=np.float64),
        np.asarray(data["row_upper"], dtype=np.float64),
        matrix.tocsr(),
    )
    start = np.asarray(data["start_values"], dtype=np.float64)
    for j in range(n_col):
        model.set_var_integrality(j, True)
        model.add_hint(j, float(start[j]))
    model.set_maximize(True)
    solver = mbh.ModelSolverHelper("scip")
    options = json.loads(str(data["options"]))
    solver.set_solver_specific_parameters(
        "limits/gap = 0\nlimits/absgap = 0\n" + options.get("parameters", "")
    )
    limit = float(data["time_limit"])
    if limit < 1e30:
        solver.set_time_limit_in_seconds(limit)
    solver.solve(model)
    found = solver.has_solution()
    values = np.asarray(solver.variable_values(), dtype=np.float64) if found else start
    # Stopped before its root, SCIP answers nothing.
    bound = float(solver.best_objective_bound()) if solver.has_response() else math.inf
    out = io.BytesIO()
    np.savez(
        out,
        values=values if len(values) == n_col else start,
        optimal=found and solver.status() == mbh.SolveStatus.OPTIMAL,
        status=str(solver.status()).rsplit(".", 1)[-1].lower(),
        bound=bound,
    )
    sys.stdout.buffer.write(out.getvalue())
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
