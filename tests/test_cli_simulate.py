"""`crowdship simulate`, `crowdship scenario` and `crowdship experiment`: real runs, written
files, and bad input answered with one line and exit status 2."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crowdship.cli import app
from crowdship.experiments.runs import RUN_COLUMNS, TIMING_COLUMNS
from crowdship.experiments.sweeps import SUMMARY_COLUMNS
from tests.test_cli import crowdship

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_simulate_prints_the_days_metrics_and_writes_logs(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            "--trips",
            "200",
            "--requests",
            "80",
            "--strategy",
            "instant",
            "--seed",
            "3",
            "--matches",
            str(tmp_path / "matches.csv"),
            "--batch-log",
            str(tmp_path / "batches.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "match rate" in result.output and "instant" in result.output
    matches = _rows(tmp_path / "matches.csv")
    batches = _rows(tmp_path / "batches.csv")
    assert matches and set(matches[0]) == {
        "trip_id",
        "request_id",
        "clock",
        "detour_min",
        "wait_min",
    }
    assert sum(int(b["accepted"]) for b in batches) == len(matches)


def test_a_scenario_with_trip_capacities_set_on_the_command_line(tmp_path) -> None:
    day = tmp_path / "day"
    saved = runner.invoke(
        app,
        ["scenario", "--out", str(day), "--trips", "400", "--set", "trip_capacity=0.25,0,0.75"],
    )
    assert saved.exit_code == 0, saved.output
    capacity = [int(row["capacity"]) for row in _rows(day / "trips.csv")]
    assert set(capacity) == {1, 3}
    assert 0.65 < capacity.count(3) / len(capacity) < 0.85


def test_a_saved_scenario_simulates_like_the_generated_one_and_can_be_matched(tmp_path) -> None:
    day = tmp_path / "day"
    saved = runner.invoke(
        app,
        [
            "scenario",
            "--out",
            str(day),
            "--trips",
            "150",
            "--seed",
            "4",
            "--requests",
            "60",
            "--set",
            "departure_profile=commuter",
        ],
    )
    assert saved.exit_code == 0, saved.output
    generated = runner.invoke(
        app,
        [
            "simulate",
            "--trips",
            "150",
            "--requests",
            "60",
            "--seed",
            "4",
            "--set",
            "departure_profile=commuter",
            "--matches",
            str(tmp_path / "a.csv"),
        ],
    )
    loaded = runner.invoke(
        app,
        ["simulate", "--scenario", str(day), "--seed", "4", "--matches", str(tmp_path / "b.csv")],
    )
    assert generated.exit_code == loaded.exit_code == 0, loaded.output
    assert _rows(tmp_path / "a.csv") == _rows(tmp_path / "b.csv")
    # The files are what `crowdship match --coords km` reads.
    matched = runner.invoke(
        app,
        [
            "match",
            "--coords",
            "km",
            "--speed-kmh",
            "50",
            "--detour-factor",
            "1",
            "--trips",
            str(day / "trips.csv"),
            "--requests",
            str(day / "requests.csv"),
        ],
    )
    assert matched.exit_code == 0, matched.output
    assert "matched" in matched.output


def _small_paper(out, workers: str):
    return crowdship(
        *("experiment", "paper", "--trips", "60", "--ratios", "0.2,0.6"),
        *("--intervals", "30,90", "--repetitions", "2", "--seed", "1"),
        *("--policies", "max-matches,acceptance-aware", "--workers", workers, "--out", str(out)),
    )


def test_experiment_paper_writes_runs_summary_and_plots(tmp_path) -> None:
    out = tmp_path / "paper"
    result = _small_paper(out, workers="2")
    assert result.returncode == 0, result.stderr
    runs = _rows(out / "runs.csv")
    assert list(runs[0]) == list(RUN_COLUMNS)
    # ratio: 2 ratios x 2 days; interval: 2 days x (2 policies x (2 intervals + instant) + offline)
    assert len(runs) == 2 * 2 + 2 * (2 * 3 + 1)
    summary = _rows(out / "summary.csv")
    assert list(summary[0]) == list(SUMMARY_COLUMNS)
    assert len(summary) == 2 + 2 * 3 + 1
    for name in ("figure5_ratio.png", "figure6_interval.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    # The same seed gives the same rows again, in one process (less the elapsed-time columns).
    again = _small_paper(tmp_path / "again", workers="1")
    assert again.returncode == 0, again.stderr

    def strip(rows):
        return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]

    assert strip(_rows(tmp_path / "again" / "runs.csv")) == strip(runs)


def test_experiment_ratio_can_add_online_strategies(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "experiment",
            "ratio",
            "--trips",
            "40",
            "--ratios",
            "0.5",
            "--repetitions",
            "2",
            "--strategies",
            "offline,rolling,instant",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert {r["strategy"] for r in _rows(tmp_path / "runs.csv")} == {
        "offline",
        "rolling",
        "instant",
    }


def test_simulate_runs_just_in_time_with_anticipation_and_late_trips(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            *("simulate", "--trips", "150", "--requests", "60", "--seed", "2"),
            *("--strategy", "jit", "--lead", "20", "--max-wait", "60"),
            *("--policy", "anticipatory", "--rejection", "exclude"),
            *("--set", "trip_announcement_lead=30-90", "--matches", str(tmp_path / "m.csv")),
            *("--save-scenario", str(tmp_path / "day")),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "jit" in result.output and "median wait min" in result.output
    matches = _rows(tmp_path / "m.csv")
    assert matches
    # Offered at the latest an hour after the announcement (after opening) or 20 minutes
    # before the trip departs.
    assert "announced_at" in _rows(tmp_path / "day" / "trips.csv")[0]
    again = runner.invoke(
        app, ["simulate", "--scenario", str(tmp_path / "day"), "--strategy", "jit"]
    )
    assert again.exit_code == 0, again.output


def test_experiment_gap_and_sensitivity_write_plots_and_tables(tmp_path) -> None:
    gap = runner.invoke(
        app,
        [
            *("experiment", "gap", "--trips", "60", "--repetitions", "2", "--intervals", "40"),
            *("--max-waits", "60,none", "--workers", "1", "--out", str(tmp_path / "gap")),
        ],
    )
    assert gap.exit_code == 0, gap.output
    assert (tmp_path / "gap" / "match_vs_wait.png").read_bytes().startswith(PNG)
    tables = (tmp_path / "gap" / "tables.md").read_text()
    assert "| jit 15/60, anticipatory |" in tables and "| offline bound |" in tables
    sensitivity = runner.invoke(
        app,
        [
            *("experiment", "sensitivity", "--trips", "30", "--repetitions", "1"),
            *("--ratios", "0.5,1", "--intervals", "40", "--workers", "1"),
            *("--out", str(tmp_path / "sens")),
        ],
    )
    assert sensitivity.exit_code == 0, sensitivity.output
    tables = (tmp_path / "sens" / "tables.md").read_text()
    for label in ("| paper defaults |", "| city 70 km |", "| commuter peaks |"):
        assert label in tables
    variants = {r["variant"] for r in _rows(tmp_path / "sens" / "runs.csv")}
    assert len(variants) == 9
    for name in ("figure5_ratio.png", "figure6_interval.png"):
        assert (tmp_path / "sens" / name).read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["experiment", "ratio", "--ratios", "0.1,abc"], "--ratios '0.1,abc': expected numbers"),
        (["experiment", "interval", "--intervals", "0"], "planning interval must be > 0"),
        (["experiment", "paper", "--repetitions", "0"], "--repetitions must be >= 1"),
        (["experiment", "paper", "--policies", "greedy"], "unknown policy 'greedy'"),
        (["experiment", "ratio", "--strategies", "fast"], "unknown strategy 'fast'"),
        (["experiment", "paper", "--set", "colour=blue"], "--set 'colour=blue': expected NAME"),
        (["simulate", "--set", "deadline=soon"], "--set deadline=soon: cannot read 'soon'"),
        (["simulate", "--set", "pickup_window=12:00-08:00"], "pickup_window range is empty"),
        (["simulate", "--set", "bbox=1,2,3"], "needs four numbers"),
        (["simulate", "--set", "trip_capacity=half"], "trip_capacity=half: needs shares"),
        (["simulate", "--set", "trip_capacity=0.5,0.6"], "shares must sum to 1, got 1.1"),
        (["simulate", "--operations", "18:00-08:00"], "operations must start before"),
        (["simulate", "--scenario", "nowhere"], "nowhere"),
        (["simulate", "--trips", "-5"], "counts must be >= 0"),
        (["simulate", "--strategy", "jit", "--lead", "-5"], "just-in-time lead must be >= 0"),
        (["simulate", "--set", "trip_announcement_lead=60-30"], "trip announcement lead"),
        (["experiment", "gap", "--max-waits", "soon"], "--max-waits 'soon': expected numbers"),
        (["experiment", "gap", "--policies", "greedy"], "unknown policy 'greedy'"),
        (["experiment", "gap", "--phantom-weights", "1.5"], "phantom weight must be in [0, 1)"),
        (["experiment", "ratio", "--strategies", ""], "error: --strategies is empty"),
        (["experiment", "ratio", "--strategies", ","], "error: --strategies is empty"),
        (["experiment", "capacity", "--strategies", " , "], "error: --strategies is empty"),
        (["experiment", "gap", "--policies", " , "], "error: --policies is empty"),
        (["experiment", "ratio", "--ratios", ","], "error: --ratios is empty"),
        (["experiment", "ratio", "--ratios", "0.5,half"], "--ratios '0.5,half': expected numbers"),
        (["scenario", "--seed", "-1"], "error: --seed must be >= 0, got -1"),
        (["simulate", "--seed", "-1"], "error: --seed must be >= 0, got -1"),
        (["experiment", "paper", "--seed", "-3"], "error: --seed must be >= 0, got -3"),
        (
            ["simulate", "--set", "flexibility=nan"],
            "--set flexibility=nan: 'nan' is not a finite number (a share of the trip's "
            "driving time",
        ),
        (["simulate", "--set", "trip_km=5-inf"], "'inf' is not a finite number (a trip's length"),
        (
            ["experiment", "ratio", "--trips", "40", "--ratios", "0.5,1e6"],
            "error: request/trip ratio 1e+06 with 40 trips: a day holds at most 1000000 trips "
            "and 1000000 requests, got 40 trips, 40000000 requests",
        ),
        (
            ["experiment", "interval", "--trips", "40", "--ratio", "1e6"],
            "error: request/trip ratio 1e+06 with 40 trips: a day holds at most 1000000 trips",
        ),
        (
            ["experiment", "capacity", "--trips", "40", "--ratios", "1e308"],
            "error: request/trip ratio 1e+308 with 40 trips gives more requests than a day holds",
        ),
        (
            ["experiment", "sensitivity", "--trips", "2000000", "--ratios", "0.1"],
            "a day holds at most 1000000 trips and 1000000 requests, got 2000000 trips",
        ),
        (
            ["scenario", "--requests", "2000000"],
            "a day holds at most 1000000 trips and 1000000 requests, got 1000 trips, 2000000",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, tmp_path) -> None:
    writes = args[0] in ("experiment", "scenario")
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")] if writes else args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "out" / "runs.csv").exists()


def _output_paths(tmp_path):
    """An existing file, a path under a file, and (on Linux) one no one can create."""
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    paths = [(afile, "is a file, not a directory"), (afile / "x", "cannot create the directory")]
    if Path("/proc/self").exists():
        paths.append((Path("/proc/crowdship-x"), "cannot create the directory"))
    return afile, paths


def test_experiment_out_that_cannot_be_a_directory_fails_before_any_run(tmp_path) -> None:
    afile, paths = _output_paths(tmp_path)
    for out, problem in paths:
        result = runner.invoke(
            app,
            [
                *("experiment", "ratio", "--trips", "40", "--ratios", "0.5"),
                *("--repetitions", "1", "--workers", "1", "--out", str(out)),
            ],
        )
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: --out {out}: {problem}"), result.output
        assert "runs in" not in result.output and "Traceback" not in result.output
    assert afile.read_text() == "keep me\n"


def test_simulate_output_paths_are_checked_before_the_day_is_simulated(tmp_path) -> None:
    afile, _ = _output_paths(tmp_path)
    unwritable = [afile / "x.csv"]
    if Path("/proc/self").exists():
        unwritable.append(Path("/proc/x.csv"))
    for option in ("--matches", "--batch-log"):
        for path in unwritable:
            result = runner.invoke(
                app, ["simulate", "--trips", "30", "--requests", "10", option, str(path)]
            )
            assert result.exit_code == 2, result.output
            assert result.output.startswith(f"error: {option} {path}: cannot write the file")
            assert "match rate" not in result.output  # nothing was simulated
    result = runner.invoke(app, ["simulate", "--trips", "30", "--save-scenario", str(afile)])
    assert result.exit_code == 2, result.output
    assert f"error: --save-scenario {afile}: is a file, not a directory" in result.output
    same = tmp_path / "m.csv"
    result = runner.invoke(app, ["simulate", "--matches", str(same), "--batch-log", str(same)])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: --batch-log {same} is the file given to --matches too: one output would "
        "replace the other; choose another file\n"
    )
    assert not (tmp_path / "m.csv").exists()


# Settings the command line takes but no day can be drawn with: the commuter peaks lie far
# outside the departure range (the generator finds that out only when it draws the day).
UNDRAWABLE = (
    *("--trips", "30", "--requests", "5", "--set", "departure_profile=commuter"),
    *("--set", "peaks=00:00-00:30", "--set", "peak_spread=1", "--set", "departures=12:00-13:00"),
)


def test_an_output_directory_is_made_only_when_written(tmp_path) -> None:
    """`scenario --out` and `simulate --save-scenario` check the directory can be written
    before drawing the day, but make it only to write there: a day that cannot be drawn
    leaves no empty directory behind (nor the parents made for it)."""
    out = tmp_path / "new" / "day"
    for command, option in (("scenario", "--out"), ("simulate", "--save-scenario")):
        result = runner.invoke(app, [command, option, str(out), *UNDRAWABLE])
        assert result.exit_code == 2, result.output
        assert "error: commuter peaks (0.0, 30.0) lie too far outside" in result.output
        assert not (tmp_path / "new").exists(), command
    afile = tmp_path / "afile"
    afile.write_text("keep me\n")
    result = runner.invoke(app, ["scenario", "--out", str(afile / "day"), *UNDRAWABLE])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: --out {afile / 'day'}: cannot create the directory")
    result = runner.invoke(app, ["scenario", "--out", str(out), "--trips", "30"])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == [
        "requests.csv",
        "scenario.json",
        "trips.csv",
    ]


def test_simulate_refuses_outputs_that_would_replace_the_day_it_reads(tmp_path) -> None:
    """--save-scenario, --matches and --batch-log never name a file of the --scenario day
    (nor of the day --save-scenario writes), whatever the spelling of the path; the day is
    left as it was and nothing is simulated."""
    day = tmp_path / "day"
    saved = runner.invoke(app, ["scenario", "--out", str(day), "--trips", "30", "--requests", "9"])
    assert saved.exit_code == 0, saved.output
    before = {path.name: path.read_bytes() for path in day.iterdir()}
    other = tmp_path / "other"
    spelt = tmp_path / "x" / ".." / "day"  # the same directory, written another way
    (tmp_path / "x").mkdir()
    for args, message in (
        (
            ("--save-scenario", str(day)),
            f"--save-scenario {day} (its trips.csv) is --scenario {day}'s trips.csv: writing "
            "it would replace that input; choose another directory",
        ),
        (
            ("--save-scenario", str(spelt)),
            f"--save-scenario {spelt} (its trips.csv) is --scenario {day}'s trips.csv",
        ),
        (
            ("--matches", str(day / "requests.csv")),
            f"--matches {day / 'requests.csv'} is --scenario {day}'s requests.csv: writing it "
            "would replace that input; choose another file",
        ),
        (
            ("--batch-log", str(spelt / "scenario.json")),
            f"--batch-log {spelt / 'scenario.json'} is --scenario {day}'s scenario.json",
        ),
        (
            ("--save-scenario", str(other), "--matches", str(other / "trips.csv")),
            f"--matches {other / 'trips.csv'} is --save-scenario {other}'s trips.csv too: one "
            "output would replace the other; choose another file",
        ),
    ):
        result = runner.invoke(app, ["simulate", "--scenario", str(day), *args])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: {message}"), result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert {path.name: path.read_bytes() for path in day.iterdir()} == before
    assert not other.exists()
    # A file of its own beside the day's is fine.
    result = runner.invoke(
        app, ["simulate", "--scenario", str(day), "--matches", str(day / "matches.csv")]
    )
    assert result.exit_code == 0, result.output
    assert (day / "matches.csv").exists()


def test_a_saved_day_needs_its_scenario_json(tmp_path) -> None:
    """A saved km day without scenario.json is not read as lat/lon at 30 km/h (the library's
    default when no travel model is given): simulate names the missing file or keys."""
    day = tmp_path / "day"
    saved = runner.invoke(app, ["scenario", "--out", str(day), "--trips", "30", "--requests", "10"])
    assert saved.exit_code == 0, saved.output
    meta = day / "scenario.json"
    complete = meta.read_text()
    meta.unlink()
    result = runner.invoke(app, ["simulate", "--scenario", str(day)])
    assert result.exit_code == 2, result.output
    assert f"error: {meta} is missing" in result.output
    assert "origin_lat" not in result.output
    for text, missing in (
        ("{}", "coords, speed_kmh, detour_factor"),
        ('{"coords": "km", "speed_kmh": 50}', "detour_factor"),
    ):
        meta.write_text(text)
        result = runner.invoke(app, ["simulate", "--scenario", str(day)])
        assert result.exit_code == 2, result.output
        assert f"error: {meta} is incomplete: missing {missing} (" in result.output
    meta.write_text('{"coords": "km", "speed_kmh": "fast", "detour_factor": 1}')
    result = runner.invoke(app, ["simulate", "--scenario", str(day)])
    assert result.exit_code == 2, result.output
    assert "speed_kmh: must be a number, got 'fast'" in result.output
    meta.write_text(complete)
    assert runner.invoke(app, ["simulate", "--scenario", str(day)]).exit_code == 0
