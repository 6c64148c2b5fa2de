"""The 0-1 programs that settle a day at capacity 3, saved and replayed in SCIP.

    .venv/bin/python benchmarks/bench_proofs.py save --seeds 1 2 5 9   # ~30 s a seed
    .venv/bin/python benchmarks/bench_proofs.py replay                  # every saved program
    .venv/bin/python benchmarks/bench_proofs.py rounds --rounds 40     # our zero-half rounds
    .venv/bin/python benchmarks/bench_proofs.py replay --runs 3 \\
        --setting "" --setting "separating/maxroundsroot = 10"

Most of a proven 1000 x 1000 day at capacity 3 is its last 0-1 program (``colgen``'s proof:
SCIP racing HiGHS over the bundles a better packing could use): 6-16 s of 11-27 s on the
paper's settings drawn with other seeds. Whole solves vary by seconds from run to run on
this machine, so a change to how that program is solved is measured on the programs
themselves:

- ``save``: solves the paper's settings at 1000 x 1000, capacity 3 (exact) for each seed
  and writes every program raced (``colgen.SAVE_PROGRAMS``) to ``--folder``, as the racer
  gets it (the free columns, the rows with the cuts, the start packing);
- ``replay``: runs each saved program through the racer (``core/_racer.py scip``, a
  process of its own, as the matcher does) with ``colgen.SCIP_SETTINGS`` plus each
  ``--setting`` (``name = value`` lines, ``;`` between them), ``--runs`` times each,
  alternating the settings, and prints per program the seconds of each setting's runs
  and the optimum reached (which every setting must reach), then each setting's total.
  ``--seed-shifts N`` adds SCIP's random seed shifts 1..N to every setting, which shows
  how much of a difference is chance;
- ``cuts``: how far a family of cuts the pricing could carry closes a saved program's gap:
  the program's LP (HiGHS), then rounds of the family's most broken cuts, each printed as
  the LP bound above the saved packing (the optimum, for a proof). ``rank1``: rank-1
  cuts on 3, 4 and 5 rows with the multipliers of Pecin et al. (2017) (1/2 on three
  rows; 2/3, 1/3, 1/3, 1/3 on four; on five 1/3 each, 2/4 2/4 1/4 1/4 1/4, 3/5 2/5 2/5
  1/5 1/5, 3/4 1/4 1/4 1/4 1/4, and 1/2 each with 2 on the right), on the rows of two
  columns of the LP's support that share one; ``oddset``: the most broken odd-set cut
  (1/2 on an odd set of requests' and trips' rows, and the count row if it helps) per
  component of the rows the fractional columns join, by a small 0-1 program (exact
  when it ends within ``--seconds``). Both could be priced like the subset-row cuts (a
  column's coefficient depends on its rows only); SCIP's zero-half cuts, which close the
  proofs, also add our cuts' rows (rank 2) and the columns' bounds.
- ``rounds``: the proof's own zero-half rounds (``colgen._Master.close_by_cuts``'s, up to
  ``--rounds`` of them, without its stall and time limits; ``core/zerohalf.py``'s cuts) on
  each seed's last program, from a cold LP: per round the
  LP's bound above the start and the columns held by their reduced costs; when the rounds
  stop short, SCIP and HiGHS (the racer, each alone) on the columns they left, their cuts
  out. ``--priceable``: only cuts the pricing could carry (no column's bound used, every
  odd coefficient rounded down; the program's rows from above only, none fixed; our
  subset-row cuts' rows summed but not the rounds' own cuts; no columns held), so the
  rounds show how far such cuts, priced in the column generation, would take the LP bound
  over every bundle before the completion.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from crowdship.core import colgen
from crowdship.core.bundles import match_routes
from crowdship.sim.scenarios import ScenarioParams, generate_scenario

sys.path.insert(0, str(Path(__file__).parent))
from bench_capacity import with_capacity  # noqa: E402  (the capacity benchmark's trips)

ROOT = Path(__file__).resolve().parent.parent
RACER = ROOT / "src" / "crowdship" / "core" / "_racer.py"
FOLDER = ROOT / "out" / "proofs"  # (ignored by git)


def save(args: argparse.Namespace) -> None:
    for seed in args.seeds:
        folder = args.folder / f"seed-{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("program-*.npz"):
            old.unlink()
        colgen.SAVE_PROGRAMS = folder
        scenario = generate_scenario(ScenarioParams(trips=1000, requests=1000), seed)
        started = time.perf_counter()
        result = match_routes(
            with_capacity(scenario.trips, 3),
            scenario.requests,
            scenario.travel,
            time_limit=args.time_limit,
            method="price",
        )
        took = time.perf_counter() - started
        colgen.SAVE_PROGRAMS = None
        saved = sorted(folder.glob("program-*.npz"))
        print(
            f"seed {seed}: {took:.1f} s, {'proven' if result.solve.exact else 'not proven'}, "
            f"{len(saved)} programs raced -> {folder}",
            flush=True,
        )


def replay_one(payload: bytes, setting: str, time_limit: float) -> tuple[float, float, str]:
    """One run of the racer on a saved program with more SCIP settings: seconds from the
    outside, the packing's value, the status."""
    data = dict(np.load(io.BytesIO(payload)))
    parameters = f"{colgen.SCIP_SETTINGS}\n{setting.replace(';', chr(10))}"
    data["options"] = np.array(json.dumps({"parameters": parameters}))
    data["time_limit"] = np.array(time_limit)
    out = io.BytesIO()
    np.savez(out, **data)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(RACER), "scip"], input=out.getvalue(), capture_output=True
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the racer failed: {done.stderr.decode()[-2000:]}")
    answer = np.load(io.BytesIO(done.stdout))
    value = float(np.asarray(data["cost"]) @ np.asarray(answer["values"]))
    return took, value, str(answer["status"])


def replay(args: argparse.Namespace) -> None:
    programs = sorted(args.folder.glob("seed-*/program-*.npz"))
    if not programs:
        raise SystemExit(f"no saved programs under {args.folder}: run `save` first")
    settings = list(args.setting or [""])
    settings += [
        f"{s};randomization/randomseedshift = {k}".lstrip(";")
        for s in list(settings)
        for k in range(1, args.seed_shifts + 1)
    ]
    totals = {s: 0.0 for s in settings}
    for path in programs:
        payload = path.read_bytes()
        with np.load(io.BytesIO(payload)) as data:
            size = f"{int(data['n_col'])} columns x {int(data['n_row'])} rows"
        times: dict[str, list[float]] = {s: [] for s in settings}
        values = set()
        for _ in range(args.runs):
            for setting in settings:
                took, value, status = replay_one(payload, setting, args.time_limit)
                times[setting].append(took)
                values.add((round(value), status))
        name = f"{path.parent.name}/{path.stem}"
        print(f"{name} ({size}), reached {sorted(values)}:", flush=True)
        for setting in settings:
            totals[setting] += float(np.mean(times[setting]))
            runs = ", ".join(f"{t:.1f}" for t in times[setting])
            print(f"    {setting or 'as shipped'}: {runs} s", flush=True)
    print("mean seconds per program, summed over the programs:")
    for setting, total in totals.items():
        print(f"    {setting or 'as shipped'}: {total:.1f} s")


#: Rank-1 multipliers per number of rows (numerators, denominator, right-hand side).
RANK1 = {
    3: [((1, 1, 1), 2, 1)],
    4: [((2, 1, 1, 1), 3, 1)],
    5: [
        ((1, 1, 1, 1, 1), 3, 1),
        ((2, 2, 1, 1, 1), 4, 1),
        ((3, 2, 2, 1, 1), 5, 1),
        ((3, 1, 1, 1, 1), 4, 1),
        ((1, 1, 1, 1, 1), 2, 2),
    ],
}


class SavedProgram:
    """A saved program's matrix, its requests' and trips' rows (those before the count
    row, which holds the most requests served), and the cuts added to its LP."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as data:
            shape = (int(data["n_row"]), int(data["n_col"]))
            self.matrix = sp.csc_matrix((data["value"], data["index"], data["start"]), shape)
            self.cost = np.asarray(data["cost"], dtype=np.float64)
            self.upper = np.asarray(data["row_upper"], dtype=np.float64)
            self.optimum = float(self.cost @ data["start_values"])
        counts = np.flatnonzero(self.upper > 2.5)
        self.base = int(counts[0]) if len(counts) else shape[0]
        base = self.matrix[: self.base].tocsc()
        self.rows = [base.indices[base.indptr[j] : base.indptr[j + 1]] for j in range(shape[1])]
        self.incidence = (base != 0).astype(np.float64).tocsc()
        self.size = np.asarray(self.matrix[self.base].todense()).ravel() if len(counts) else None
        self.cut_rows: list[np.ndarray] = []
        self.cut_rhs: list[float] = []

    def lp(self) -> tuple[np.ndarray, float]:
        rows = sp.vstack([self.matrix, *[sp.csr_matrix(r) for r in self.cut_rows]]).tocsr()
        upper = np.r_[self.upper, self.cut_rhs]
        done = linprog(-self.cost, A_ub=rows, b_ub=upper, bounds=(0, 1), method="highs-ds")
        return done.x, -done.fun


def rank1_cuts(program: SavedProgram, x: np.ndarray) -> list[tuple[np.ndarray, float, float]]:
    support = np.flatnonzero(x > 1e-6)
    fractional = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
    by_row: dict[int, list[int]] = {}
    for j in support:
        for r in program.rows[j]:
            by_row.setdefault(int(r), []).append(int(j))
    sets: set[tuple[int, ...]] = set()
    for j in fractional:
        mine = set(program.rows[j].tolist())
        for r in program.rows[j]:
            for k in by_row[int(r)]:
                joined = sorted(mine | set(program.rows[k].tolist()))
                for n in RANK1:
                    sets.update(itertools.combinations(joined, n))
    found = []
    for rows in sets:
        columns = sorted({c for r in rows for c in by_row.get(r, ())})
        held = np.array([[r in set(program.rows[c].tolist()) for r in rows] for c in columns])
        for numerators, denominator, rhs in RANK1[len(rows)]:
            for order in set(itertools.permutations(numerators)):
                lhs = np.floor(held @ np.array(order) / denominator + 1e-9) @ x[columns]
                if lhs > rhs + 1e-3:
                    weights = np.zeros(program.base)
                    weights[list(rows)] = np.array(order) / denominator
                    found.append((weights, float(rhs), float(lhs - rhs)))
    return found


def oddset_cuts(
    program: SavedProgram, x: np.ndarray, seconds: float
) -> list[tuple[np.ndarray, float, float]]:
    slack = 1 - program.incidence @ x
    support = np.flatnonzero(x > 1e-6)
    fractional = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
    joined = program.incidence[:, fractional]
    graph = (joined @ joined.T).tocsr()
    _, label = connected_components(graph, directed=False)
    count_slack = (
        0.0 if program.size is None else float(program.upper[program.base] - program.size @ x)
    )
    found = []
    for part in np.unique(label[np.diff(joined.tocsr().indptr) > 0]):
        rows = np.flatnonzero((label == part) & (slack < 1 - 1e-6))
        if len(rows) < 3:
            continue
        columns = support[np.asarray(program.incidence[rows][:, support].sum(axis=0)).ravel() > 0]
        held = program.incidence[rows][:, columns]
        costs = [slack[rows]]
        parity = np.ones(len(rows))
        if program.size is not None:  # the count row may join (its right-hand side's parity)
            held = sp.vstack([held, sp.csr_matrix(program.size[columns][None, :])])
            costs.append(np.array([count_slack]))
            parity = np.r_[parity, program.upper[program.base] % 2]
        n_rows, n_cols = held.shape
        eye = sp.identity(n_cols, format="csc")
        # Each column's rows in the set = 2 w + z (z: odd), the set's right-hand side odd.
        equal = sp.vstack(
            [
                sp.hstack([held.T, -eye, -2 * eye, sp.csc_matrix((n_cols, 1))]),
                sp.hstack([sp.csr_matrix(parity[None, :]), sp.csr_matrix((1, 2 * n_cols)), [[-2]]]),
            ]
        )
        objective = np.r_[*costs, x[columns], np.zeros(n_cols + 1)]
        upper = np.r_[np.ones(n_rows + n_cols), np.full(n_cols, 3), n_rows + 1000]
        done = milp(
            objective,
            constraints=LinearConstraint(
                equal, np.r_[np.zeros(n_cols), 1], np.r_[np.zeros(n_cols), 1]
            ),
            integrality=np.ones(len(objective)),
            bounds=Bounds(np.zeros(len(objective)), upper),
            options={"time_limit": seconds},
        )
        if done.x is None or done.fun > 1 - 1e-3:
            continue
        weights = np.zeros(program.base + 1)
        picked = done.x[:n_rows] > 0.5
        weights[rows[picked[: len(rows)]]] = 0.5
        rhs = picked[: len(rows)].sum()
        if n_rows > len(rows) and picked[-1]:
            weights[program.base] = 0.5
            rhs += program.upper[program.base]
        found.append((weights, float(np.floor(rhs / 2)), float((1 - done.fun) / 2)))
    return found


def cuts(args: argparse.Namespace) -> None:
    programs = sorted(args.folder.glob("seed-*/program-*.npz"))
    if not programs:
        raise SystemExit(f"no saved programs under {args.folder}: run `save` first")
    if args.last:  # each seed's proof (its last program)
        programs = [max(group) for _, group in itertools.groupby(programs, lambda p: p.parent)]
    for path in programs:
        program = SavedProgram(path)
        started = time.perf_counter()
        print(f"{path.parent.name}/{path.stem}, {args.family}:", flush=True)
        for round_ in range(args.rounds + 1):
            x, bound = program.lp()
            print(
                f"    round {round_}: LP {bound - program.optimum:.1f} above the packing, "
                f"{len(program.cut_rows)} cuts, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            if round_ == args.rounds or bound - program.optimum < 1:
                break
            if args.family == "rank1":
                found = rank1_cuts(program, x)
            else:
                found = oddset_cuts(program, x, args.seconds)
            if not found:
                print("    no cut broken", flush=True)
                break
            found.sort(key=lambda cut: -cut[2])
            for weights, rhs, _ in found[:300]:
                rows = program.matrix[: len(weights)]
                coefficients = np.floor(rows.T @ weights + 1e-9)
                program.cut_rows.append(coefficients)
                program.cut_rhs.append(rhs)


def rounds(args: argparse.Namespace) -> None:
    """The proof's zero-half rounds (``colgen._Master.close_by_cuts``'s rule) on each saved
    proof (its last program): the LP (HiGHS, the count's units taken out, the count row an
    equality), each round's cuts and the columns held by their reduced costs, until the
    bound is below the start's next unit, the LP is integral or no cut is found; then
    SCIP and HiGHS (the racer, alone each) on what is left, the cuts out."""
    from scipy.optimize._highspy import _core as highspy

    from crowdship.core import zerohalf

    programs = sorted(args.folder.glob("seed-*/program-*.npz"))
    programs = [max(group) for _, group in itertools.groupby(programs, lambda p: p.parent)]
    if not programs:
        raise SystemExit(f"no saved programs under {args.folder}: run `save` first")
    for path in programs:
        data = dict(np.load(path))
        shape = (int(data["n_row"]), int(data["n_col"]))
        matrix = sp.csc_matrix((data["value"], data["index"], data["start"]), shape)
        lower, upper = data["row_lower"].astype(float), data["row_upper"].astype(float)
        cost, start = data["cost"].astype(float), data["start_values"].astype(float)
        count = int(np.flatnonzero(upper > 2.5)[0])  # the requests-served row
        size = matrix.tocsr()[count].toarray().ravel()
        big = float(np.round(np.median(cost / size)))  # any constant: the count is fixed
        weight, lower[count] = cost - big * size, upper[count]
        value = float(weight @ start)
        h = highspy._Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = shape[1], shape[0]
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = weight, np.zeros(shape[1]), np.ones(shape[1])
        lp.row_lower_ = np.where(np.isfinite(lower), lower, -highspy.kHighsInf)
        lp.row_upper_ = upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
        lp.a_matrix_.value_, lp.a_matrix_.num_col_ = matrix.data, shape[1]
        lp.a_matrix_.num_row_, lp.sense_ = shape[0], highspy.ObjSense.kMaximize
        if args.priceable:  # rows from above only (those fixed hold for better packings)
            lower[np.arange(shape[0]) != count] = -np.inf
            lp.row_lower_ = np.where(np.isfinite(lower), lower, -highspy.kHighsInf)
        h.passModel(lp)
        rows, held, keep = matrix.tocsr(), np.zeros(shape[1], bool), start > 0.5
        started = time.perf_counter()
        print(f"{path.parent.name}/{path.stem} ({shape[1]} columns x {shape[0]} rows):")
        for round_ in range(1, args.rounds + 1):
            # (dual simplex throughout: cold here, where colgen's first LP is warm, primal)
            h.setOptionValue("simplex_strategy", 1)
            h.run()
            bound = h.getInfo().objective_function_value
            x = np.asarray(h.getSolution().col_value)
            rc = np.asarray(h.getSolution().col_dual)
            gone = np.flatnonzero((bound + rc < value + 1 - 1e-6) & (x < 1e-6) & ~held & ~keep)
            gone = gone[:0] if args.priceable else gone
            h.changeColsBounds(
                len(gone), gone.astype(np.int32), np.zeros(len(gone)), np.zeros(len(gone))
            )
            held[gone] = True
            integral = not ((x > 1e-6) & (x < 1 - 1e-6)).any()
            print(
                f"    round {round_}: LP {bound - value:.1f} above the start, {held.sum()} held"
                + (", integral" if integral else "")
                + f", {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            if bound < value + 1 - 1e-6 or integral:
                break
            found = zerohalf.separate(
                rows, lower, upper, x, ~held, 200, complement=not args.priceable
            )
            if not len(found):
                break
            cut = found.matrix
            h.addRows(
                len(found),
                np.full(len(found), -highspy.kHighsInf),
                found.rhs,
                cut.nnz,
                cut.indptr[:-1].astype(np.int32),
                cut.indices.astype(np.int32),
                cut.data,
            )
            if not args.priceable:  # (priced, a cut of cuts would be rank 3)
                rows = sp.vstack([rows, cut], format="csr")
                lower = np.r_[lower, np.full(len(found), -np.inf)]
                upper = np.r_[upper, found.rhs]
        if bound < value + 1 - 1e-6 or integral:
            print(f"    proven by the cuts in {time.perf_counter() - started:.1f} s")
            continue
        free = np.flatnonzero(~held)
        left = matrix[:, free]
        data.update(
            n_col=np.array(len(free)),
            cost=cost[free],
            start=left.indptr.astype(np.int32),
            index=left.indices.astype(np.int32),
            value=left.data,
            start_values=start[free],
            time_limit=np.array(args.time_limit),
        )
        for solver, options in (("scip", {"parameters": colgen.SCIP_SETTINGS}), ("highs", {})):
            data["options"] = np.array(json.dumps(options))
            out = io.BytesIO()
            np.savez(out, **data)
            began = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(RACER), solver], input=out.getvalue(), capture_output=True
            )
            answer = np.load(io.BytesIO(done.stdout))
            print(
                f"    then {solver} on the {len(free)} columns left: "
                f"{time.perf_counter() - began:.1f} s, {answer['status']}, "
                f"{cost[free] @ answer['values'] - cost @ start:.0f} above the start",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("part", choices=["save", "replay", "cuts", "rounds"])
    parser.add_argument("--folder", type=Path, default=FOLDER, help=f"default {FOLDER}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 5, 9, 11])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per 0-1 program")
    parser.add_argument(
        "--setting",
        action="append",
        help="replay: more SCIP settings (name = value; several joined by ';'); repeat the "
        "option to compare settings (default: as shipped)",
    )
    parser.add_argument("--runs", type=int, default=1, help="replay: runs per setting")
    parser.add_argument(
        "--seed-shifts", type=int, default=0, help="replay: SCIP's seed shifts 1..N as well"
    )
    parser.add_argument("--family", choices=["rank1", "oddset"], default="rank1", help="cuts")
    parser.add_argument(
        "--rounds", type=int, default=5, help="cuts, rounds: rounds of cuts (rounds: say 40)"
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="cuts (oddset): seconds per separation"
    )
    parser.add_argument("--last", action="store_true", help="cuts: each seed's last program only")
    parser.add_argument(
        "--priceable",
        action="store_true",
        help="rounds: only cuts the pricing could carry, no columns held (see above)",
    )
    args = parser.parse_args()
    {"save": save, "replay": replay, "cuts": cuts, "rounds": rounds}[args.part](args)


if __name__ == "__main__":
    main()
