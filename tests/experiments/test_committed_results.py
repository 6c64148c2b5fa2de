"""The CSVs committed under docs/paper/ are what the commands regenerate.

Every directory holds ``runs.csv`` and ``params.json``; together they describe each run
completely, so each row can be run again and compared, row by row, with what is committed.
The paper's default experiment (the figures of docs/paper-reproduction.md, 240 runs, seconds)
runs whole, its summary too; from the other directories a spread of rows runs (set
``CROWDSHIP_ALL_ROWS=1`` to run every row of every directory: some minutes). Every table
that docs/paper-reproduction.md marks as generated must be in its directory's tables.md.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from crowdship.experiments.executors import execute
from crowdship.experiments.runs import TIMING_COLUMNS
from crowdship.experiments.sweeps import (
    PARAMS_FILE,
    SUMMARY_COLUMNS,
    csv_row,
    read_runs,
    specs_from_runs,
    summarize,
    summary_row,
)

PAPER = Path(__file__).resolve().parents[2] / "docs" / "paper"
DIRECTORIES = sorted(p.parent.name for p in PAPER.glob(f"*/{PARAMS_FILE}"))
ALL_ROWS = os.environ.get("CROWDSHIP_ALL_ROWS") == "1"
SAMPLE = 4  # rows per directory besides the default one


def _same(committed: str, regenerated: str) -> bool:
    """Equal text, or numbers equal to the 6 significant digits written (a last-digit
    change from a floating-point summation order is not a different result)."""
    if committed == regenerated:
        return True
    try:
        a, b = float(committed), float(regenerated)
    except ValueError:
        return False
    return math.isclose(a, b, rel_tol=2e-5, abs_tol=1e-9)


def _differences(committed: dict[str, str], regenerated: dict[str, str]) -> dict[str, tuple]:
    return {
        key: (committed[key], regenerated.get(key))
        for key in committed
        if key not in TIMING_COLUMNS and not _same(committed[key], regenerated.get(key, ""))
    }


def test_every_results_directory_can_be_regenerated() -> None:
    assert {"default", "gap", "sensitivity"} <= set(DIRECTORIES)
    for name in DIRECTORIES:
        assert (PAPER / name / "summary.csv").exists(), name


@pytest.mark.parametrize("name", DIRECTORIES)
def test_committed_runs_are_what_the_command_regenerates(name: str) -> None:
    directory = PAPER / name
    committed = read_runs(directory / "runs.csv")
    specs = specs_from_runs(directory)
    if name == "default" or ALL_ROWS:
        chosen = list(range(len(specs)))
    else:
        step = max(1, len(specs) // SAMPLE)
        chosen = list(range(0, len(specs), step))[:SAMPLE]
    rows = execute([specs[k] for k in chosen], workers=1)
    for k, row in zip(chosen, rows, strict=True):
        assert not _differences(committed[k], csv_row(row)), (name, k)
    if len(chosen) == len(specs):
        # Every row ran: the summary (means, intervals, paired gaps) must be the same too.
        written = read_runs(directory / "summary.csv")
        regenerated = [summary_row(s) for s in summarize(rows)]
        assert len(written) == len(regenerated)
        for old, new in zip(written, regenerated, strict=True):
            diff = {
                c: (old[c], new[c])
                for c in SUMMARY_COLUMNS
                if c != "wall_s_mean" and not _same(old[c], new[c])
            }
            assert not diff, (name, old["strategy"], diff)


def test_the_pages_generated_tables_are_the_commands_tables() -> None:
    page = (PAPER.parent / "paper-reproduction.md").read_text(encoding="utf-8").splitlines()
    marked = [k for k, line in enumerate(page) if line.startswith("<!-- generated: ")]
    assert len(marked) >= 8
    for k in marked:
        source = page[k].removeprefix("<!-- generated: ").removesuffix(" -->")
        lines = set((PAPER.parent / source).read_text(encoding="utf-8").splitlines())
        table = []
        for line in page[k + 1 :]:
            if not line.startswith("|"):
                break
            table.append(line)
        assert len(table) > 2, source
        missing = [line for line in table if line not in lines]
        assert not missing, (source, missing)
