"""The 0-1 programs that settle a day at capacity 3, saved and replayed in SCIP.

    .venv/bin/python benchmarks/bench_proofs.py save --seeds 1 2 5 9   # ~30 s a seed
    .venv/bin/python benchmarks/bench_proofs.py replay                  # every saved program
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
  how much of a difference is chance.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("part", choices=["save", "replay"])
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
    args = parser.parse_args()
    save(args) if args.part == "save" else replay(args)


if __name__ == "__main__":
    main()
