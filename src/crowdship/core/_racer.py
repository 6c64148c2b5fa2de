"""One side of the race on a 0-1 program (``colgen._Master.race``), in a process of its own.

Run as a file (``python .../_racer.py highs`` or ``... scip``), not as a module of the
package, so that it loads NumPy and its solver alone (importing ``crowdship.core`` would
load numba and every kernel): HiGHS as SciPy ships it, or SCIP as OR-Tools ships it. It
reads the program from stdin (an ``.npz``: the matrix by columns, the row bounds, the
costs, the start, the time limit and the solver's options as JSON), solves the 0-1
program (maximised, to the unit: the objective is integral) from the start, and writes
the packing, whether optimal, the status and the bound to stdout.

Why processes: HiGHS looks at its interrupt callback between nodes only, and on a large
root (cuts, restarts) those can be minutes apart; SCIP in a thread beside HiGHS in the
matcher's process slowed HiGHS by half (the paper's 1000 x 1000 at capacity 3: 2.6-3.5 ->
4.3-5.0 s), where a process of its own did not. A race whose other runner has proven the
optimum must end now, and a process can be stopped at once.
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


def _orphaned(parent: int) -> None:
    """Exit once the process that started this one is gone (killed before it could stop
    this one): the solver would otherwise run on to its time limit, or for ever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def highs(data: Any, options: dict[str, Any]) -> dict[str, Any]:
    """HiGHS's MIP (root restarts on unless the options say otherwise)."""
    from scipy.optimize._highspy import _core as highspy

    h = highspy._Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    n_col, n_row = int(data["n_col"]), int(data["n_row"])
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.col_cost_ = data["cost"]
    lp.col_lower_, lp.col_upper_ = np.zeros(n_col), np.ones(n_col)
    lp.row_lower_, lp.row_upper_ = data["row_lower"], data["row_upper"]
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.start_, matrix.index_, matrix.value_ = data["start"], data["index"], data["value"]
    matrix.num_col_, matrix.num_row_ = n_col, n_row
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_col
    h.passModel(lp)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-6)
    h.setOptionValue("time_limit", float(data["time_limit"]))
    for name, value in options.items():
        h.setOptionValue(name, value)
    solution = highspy.HighsSolution()
    solution.col_value = data["start_values"].tolist()
    solution.value_valid = True
    h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    return {
        "values": np.asarray(h.getSolution().col_value, dtype=np.float64),
        "optimal": status == highspy.HighsModelStatus.kOptimal,
        "status": h.modelStatusToString(status).lower(),
        "bound": float(h.getInfo().mip_dual_bound),
    }


def scip(data: Any, options: dict[str, Any]) -> dict[str, Any]:
    """SCIP, with more parameters in ``options["parameters"]`` (``name = value`` lines)."""
    from ortools.linear_solver.python import model_builder_helper as mbh
    from scipy.sparse import csc_matrix

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
    solver.set_solver_specific_parameters(
        "limits/gap = 0\nlimits/absgap = 0\n" + options.get("parameters", "")
    )
    limit = float(data["time_limit"])
    if limit < 1e30:
        solver.set_time_limit_in_seconds(limit)
    solver.solve(model)
    found = solver.has_solution()
    return {
        "values": np.asarray(solver.variable_values(), dtype=np.float64) if found else start,
        "optimal": found and solver.status() == mbh.SolveStatus.OPTIMAL,
        "status": str(solver.status()).rsplit(".", 1)[-1].lower(),
        # Stopped before its root, SCIP answers nothing.
        "bound": float(solver.best_objective_bound()) if solver.has_response() else math.inf,
    }


def main() -> None:
    threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()
    # The answer goes out through a copy of stdout; the solvers' own file descriptor 1 is
    # stderr: HiGHS prints some lines with printf whatever its ``output_flag`` says
    # (SciPy 1.17's: "HighsMipSolverData::transformNewIntegerFeasibleSolution
    # tmpSolver.run();", 31 KB of them on a nearest bundles' program), and in stdout
    # they came before the answer, which could then not be read.
    answer_out = os.fdopen(os.dup(1), "wb")
    sys.stdout.flush()
    os.dup2(2, 1)
    solve = {"highs": highs, "scip": scip}[sys.argv[1]]
    data = np.load(io.BytesIO(sys.stdin.buffer.read()))
    answer = solve(data, json.loads(str(data["options"])))
    if len(answer["values"]) != int(data["n_col"]):
        answer["values"] = data["start_values"]
    out = io.BytesIO()
    np.savez(out, **answer)
    answer_out.write(out.getvalue())
    answer_out.flush()


if __name__ == "__main__":
    main()
