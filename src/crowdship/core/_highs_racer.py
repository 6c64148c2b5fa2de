"""HiGHS's side of the race on a 0-1 program (``colgen._Master.race``), in its own process.

Run as a file (``python .../_highs_racer.py``), not as a module of the package, so that it
loads NumPy and HiGHS alone (importing ``crowdship.core`` would load numba and every
kernel). It reads the program from stdin (an ``.npz``: the master's matrix, row bounds,
costs, the start, the time limit and more options), solves it with HiGHS's MIP (root restarts on, to
the unit) and writes the packing, the status and the bound to stdout.

Why a process: HiGHS looks at its interrupt callback between nodes, and on a large root
(cuts, restarts) that can be minutes apart; a race whose other runner (SCIP) has proven
the optimum must end now, and a process can be stopped at once.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time

import numpy as np
from scipy.optimize._highspy import _core as highspy


def _orphaned(parent: int) -> None:
    """Exit once the process that started this one is gone (killed before it could stop
    this one): HiGHS would otherwise run on to its time limit, or for ever without one."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def main() -> None:
    threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()
    data = np.load(io.BytesIO(sys.stdin.buffer.read()))
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
    for name, value in json.loads(str(data["options"])).items():
        h.setOptionValue(name, value)
    solution = highspy.HighsSolution()
    solution.col_value = data["start_values"].tolist()
    solution.value_valid = True
    h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    out = io.BytesIO()
    np.savez(
        out,
        values=values if len(values) == n_col else data["start_values"],
        optimal=status == highspy.HighsModelStatus.kOptimal,
        status=h.modelStatusToString(status).lower(),
        bound=float(h.getInfo().mip_dual_bound),
    )
    sys.stdout.buffer.write(out.getvalue())
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
