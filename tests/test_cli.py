"""The `crowdship match` command: real runs on the example files, and every bad input."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crowdship.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def crowdship(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command in a fresh process, as a user would."""
    exe = shutil.which("crowdship") or str(Path(sys.executable).parent / "crowdship")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)


def match_examples(*args: str):
    """`crowdship match` on the Helsinki example files, in-process, with extra options."""
    return runner.invoke(
        app,
        [
            "match",
            "--trips",
            str(EXAMPLES / "trips.csv"),
            "--requests",
            str(EXAMPLES / "requests.csv"),
            *args,
        ],
    )


def test_match_example_files_end_to_end(tmp_path):
    """The README's example matches every request and writes the promised columns."""
    out = tmp_path / "matches.csv"
    done = crowdship(
        "match",
        "--trips",
        str(EXAMPLES / "trips.csv"),
        "--requests",
        str(EXAMPLES / "requests.csv"),
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "matched 6 / 6 requests" in done.stdout
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["trip_id", "request_id", "detour_min", "pickup_time", "delivery_time"]
    assert len(rows) == 6


def test_km_coordinates_and_json_output(tmp_path):
    """Planar km input and JSON output; min-cost uses the requests' value column."""
    out = tmp_path / "m.json"
    result = runner.invoke(
        app,
        [
            "match",
            "--trips",
            str(EXAMPLES / "km" / "trips.csv"),
            "--requests",
            str(EXAMPLES / "km" / "requests.csv"),
            "--coords",
            "km",
            "--speed-kmh",
            "50",
            "--detour-factor",
            "1",
            "--policy",
            "min-cost",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data and all(row["detour_min"] < 15 for row in data)


def test_road_network_option_uses_helsinki():
    """--road-network helsinki matches the example on real streets."""
    result = match_examples("--road-network", "helsinki")
    assert result.exit_code == 0, result.output
    assert "matched" in result.output


def test_json_input_and_iso_times(tmp_path):
    """JSON files with ISO 8601 times are read; output times come back as ISO."""
    trips = [
        {
            "id": "t",
            "origin_x": 0,
            "origin_y": 0,
            "destination_x": 10,
            "destination_y": 0,
            "earliest_departure": "2026-11-23T08:00",
            "latest_arrival": "2026-11-23T08:30",
        }
    ]
    requests = [
        {
            "id": "r",
            "pickup_x": 2,
            "pickup_y": 0,
            "delivery_x": 5,
            "delivery_y": 0,
            "earliest_pickup": "2026-11-23T07:00",
            "latest_delivery": "2026-11-23T12:00",
        }
    ]
    (tmp_path / "t.json").write_text(json.dumps(trips))
    (tmp_path / "r.json").write_text(json.dumps({"requests": requests}))
    out = tmp_path / "m.csv"
    result = runner.invoke(
        app,
        [
            "match",
            "--trips",
            str(tmp_path / "t.json"),
            "--requests",
            str(tmp_path / "r.json"),
            "--coords",
            "km",
            "--speed-kmh",
            "60",
            "--detour-factor",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(out.open()))
    assert row["pickup_time"] == "2026-11-23T08:02:00"


TRIPS_HEADER = (
    "id,origin_lat,origin_lon,destination_lat,destination_lon,earliest_departure,latest_arrival"
)
TRIP_OK = "t1,60.16,24.93,60.17,24.95,08:00,09:00"
REQUESTS_HEADER = (
    "id,pickup_lat,pickup_lon,delivery_lat,delivery_lon,earliest_pickup,latest_delivery"
)
REQUEST_OK = "r1,60.16,24.94,60.17,24.94,08:00,12:00"


@pytest.mark.parametrize(
    ("trips", "requests", "message"),
    [
        (
            f"{TRIPS_HEADER}\n{TRIP_OK}",
            "id,pickup_lat,pickup_lon,delivery_lat,delivery_lon,earliest_pickup\nr1,60,24,60,24,08:00",
            "requests.csv: missing column latest_delivery",
        ),
        (
            f"{TRIPS_HEADER}\n{TRIP_OK}",
            f"{REQUESTS_HEADER}\nr1,60.16,24.94,60.17,24.94,8h,12:00",
            "requests.csv row 1, earliest_pickup: cannot read '8h' as a time",
        ),
        (
            f"{TRIPS_HEADER}\n{TRIP_OK}\nt2,95,24.93,60.17,24.95,08:00,09:00",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv row 2, origin_lat: latitude 95 is outside [-90, 90]",
        ),
        (
            f"{TRIPS_HEADER}\n{TRIP_OK}",
            f"{REQUESTS_HEADER}\nr1,60.16,24.94,60.17,24.94,18:00,17:00",
            "requests.csv row 1, latest_delivery: 17:00 is before earliest_pickup 18:00",
        ),
        (
            f"{TRIPS_HEADER}\n{TRIP_OK}\n{TRIP_OK}",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv row 2, id: 't1' is already used in row 1",
        ),
        (
            f"{TRIPS_HEADER}\nt1,60.16,24.93,60.17,24.95,09:00,08:00",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv row 1, latest_arrival: 08:00 is before earliest_departure 09:00",
        ),
        (
            f"{TRIPS_HEADER}\nt1,60.16,abc,60.17,24.95,08:00,09:00",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv row 1, origin_lon: cannot read 'abc' as a number",
        ),
        (
            f"{TRIPS_HEADER},capacity\n{TRIP_OK},0",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv row 1, capacity: must be a whole number >= 1, got 0",
        ),
        ("", f"{REQUESTS_HEADER}\n{REQUEST_OK}", "trips.csv: file is empty"),
        (  # minutes after midnight are never negative (the output could not be read back)
            f"{TRIPS_HEADER}\nt1,60.16,24.93,60.17,24.95,-30,09:00",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv row 1, earliest_departure: -30 is before midnight",
        ),
        (  # a typo'd time far in the future (it would overflow the costs' integer units)
            f"{TRIPS_HEADER}\n{TRIP_OK}",
            f"{REQUESTS_HEADER}\nr1,60.16,24.94,60.17,24.94,08:00,1e308",
            "requests.csv row 1, latest_delivery: 1e+308 minutes is more than ten years",
        ),
        (  # a column twice: which one is meant is not clear
            f"{TRIPS_HEADER},id\n{TRIP_OK},t9",
            f"{REQUESTS_HEADER}\n{REQUEST_OK}",
            "trips.csv, id: appears twice in the header (columns 1 and 8)",
        ),
        (  # past what the integer cost units hold: the request was dropped without a word
            f"{TRIPS_HEADER}\n{TRIP_OK}",
            f"{REQUESTS_HEADER},value\n{REQUEST_OK},1e300",
            "requests.csv row 1, value: must be between -1e+09 and 1e+09 minutes, got 1e+300",
        ),
        (
            f"{TRIPS_HEADER}\n{TRIP_OK}",
            f"{REQUESTS_HEADER},priority\n{REQUEST_OK},1e300",
            "requests.csv row 1, priority: must be at most 1e+09, got 1e+300",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, trips, requests, message):
    """Each bad input gives status 2 and one line naming file, row and field; no traceback."""
    (tmp_path / "trips.csv").write_text(trips + "\n")
    (tmp_path / "requests.csv").write_text(requests + "\n")
    result = runner.invoke(
        app,
        [
            "match",
            "--trips",
            str(tmp_path / "trips.csv"),
            "--requests",
            str(tmp_path / "requests.csv"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_json_values_that_are_objects_or_lists_are_refused(tmp_path):
    """A JSON object or list where a text or number belongs is named, not turned into text
    (a list stays allowed for preferred_couriers)."""
    trip = dict(zip(TRIPS_HEADER.split(","), TRIP_OK.split(","), strict=True))
    request = dict(zip(REQUESTS_HEADER.split(","), REQUEST_OK.split(","), strict=True))
    for bad, message in (
        ({**trip, "id": {"a": 1}}, "t.json row 1, id: must be a text or a number, got an object"),
        (
            {**trip, "earliest_departure": [480]},
            "t.json row 1, earliest_departure: must be a text or a number, got a list",
        ),
    ):
        (tmp_path / "t.json").write_text(json.dumps([bad]))
        (tmp_path / "r.json").write_text(json.dumps([{**request, "preferred_couriers": ["t1"]}]))
        result = runner.invoke(
            app,
            ["match", "--trips", str(tmp_path / "t.json"), "--requests", str(tmp_path / "r.json")],
        )
        assert result.exit_code == 2, result.output
        assert message in result.stderr
    (tmp_path / "t.json").write_text(json.dumps([trip]))
    result = runner.invoke(
        app, ["match", "--trips", str(tmp_path / "t.json"), "--requests", str(tmp_path / "r.json")]
    )
    assert result.exit_code == 0, result.output


def test_outputs_are_checked_before_the_work(tmp_path):
    """No output may replace an input or the other output, nor name a format the command
    does not write; each is refused before the files are read, and the inputs stay."""
    trips = tmp_path / "trips.csv"
    shutil.copy(EXAMPLES / "trips.csv", trips)
    before = trips.read_bytes()
    alias = tmp_path / "alias.csv"  # another name of the same file
    os.link(trips, alias)
    for args, message in (
        (["--routes", str(alias)], f"--routes {alias} is the file given to --trips"),
        (
            ["--out", str(trips)],
            f"--out {trips} is the file given to --trips: writing it would replace that input; "
            "choose another file",
        ),
        (
            ["--out", str(tmp_path / "m.csv"), "--routes", str(tmp_path / "m.csv")],
            f"--routes {tmp_path / 'm.csv'} is the file given to --out too: one output would "
            "replace the other; choose another file",
        ),
        (["--out", str(tmp_path / "m.xlsx")], "writes CSV, or JSON for a .json name, not Excel"),
        (["--routes", str(tmp_path)], "is a directory, not a file"),
        (["--out", "/proc/no/such/m.csv"], "--out /proc/no/such/m.csv: cannot write the file"),
        # Checked, then refused later: the directory made to try the file is not left.
        (["--out", str(tmp_path / "new" / "m.csv"), "--time-limit", "0"], "--time-limit must"),
    ):
        result = runner.invoke(
            app,
            ["match", "--trips", str(trips), "--requests", str(EXAMPLES / "requests.csv"), *args],
        )
        assert result.exit_code == 2, result.output
        assert message in result.stderr.replace("\n", " ")
    assert trips.read_bytes() == before
    assert not (tmp_path / "m.csv").exists()
    assert not (tmp_path / "new").exists()


def test_a_cost_term_past_the_integer_units_is_refused():
    """A weight that would overflow the solver's integer costs is named (it gave a solver
    traceback, or silently dropped requests)."""
    result = match_examples("--priority-weight", "1e15")
    assert result.exit_code == 2
    assert "the priority cost term gives a pair" in result.stderr
    result = match_examples("--priority-weight", "2")  # an ordinary weight still works
    assert result.exit_code == 0, result.output


def test_times_off_the_minute_are_written_with_seconds(tmp_path):
    """Output times keep their seconds: rounded to the minute, an arrival at 13:25:43 was
    printed as 13:26, after its latest arrival."""
    (tmp_path / "t.csv").write_text(f"{TRIPS_HEADER}\nt1,60.16,24.93,60.17,24.95,480.5,600\n")
    (tmp_path / "r.csv").write_text(f"{REQUESTS_HEADER}\n{REQUEST_OK}\n")
    out = tmp_path / "m.csv"
    result = runner.invoke(
        app,
        ["match", "--trips", str(tmp_path / "t.csv"), "--requests", str(tmp_path / "r.csv")]
        + ["--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(out.open()))
    assert row["pickup_time"].startswith("08:0") and row["pickup_time"].count(":") == 2


def test_trips_that_cannot_reach_their_destination_are_warned_of(tmp_path):
    """A day drawn at other speeds than the command's (a `crowdship scenario` day at its
    defaults) matches nothing: the command says why instead of printing 0 matches alone."""
    day = tmp_path / "day"
    done = crowdship("scenario", "--out", str(day), "--trips", "60", "--requests", "30")
    assert done.returncode == 0, done.stderr
    files = ["--trips", str(day / "trips.csv"), "--requests", str(day / "requests.csv")]
    done = crowdship("match", *files, "--coords", "km")
    assert done.returncode == 0, done.stderr
    assert "of 60 trips cannot reach their own destination" in done.stderr
    assert "Check --speed-kmh and --detour-factor" in done.stderr
    done = crowdship("match", *files, "--coords", "km", "--speed-kmh", "50", "--detour-factor", "1")
    assert "cannot reach" not in done.stderr


def test_bad_input_through_the_real_command(tmp_path):
    """The installed command also exits 2 with one line for a missing file."""
    done = crowdship(
        "match", "--trips", str(tmp_path / "none.csv"), "--requests", str(tmp_path / "none.csv")
    )
    assert done.returncode == 2
    assert "none.csv: file" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "min-cost"], "policy min-cost needs a value for every request"),
        (["--speed-kmh", "0"], "speed must be > 0 km/h, got 0"),
        (["--max-detour", "-3"], "max detour must be >= 0 minutes, got -3"),
    ],
)
def test_bad_options_exit_2(args, message):
    """Options that cannot work are refused with status 2 and a clear line."""
    result = match_examples(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_help_explains_the_columns():
    """--help lists the input columns (the optional ones too) and the policies."""
    result = runner.invoke(app, ["match", "--help"])
    assert result.exit_code == 0
    assert "earliest_departure" in result.output and "acceptance-aware" in result.output
    text = " ".join(result.output.split())
    assert "optional: capacity, courier, rating" in text
    assert "optional: announced_at, size" in text


@pytest.mark.parametrize(("user_setting", "huge_pages_after"), [(None, False), ("1", True)])
def test_match_asks_numpy_for_no_huge_pages_unless_the_user_says(
    monkeypatch, user_setting, huge_pages_after
):
    from numpy._core.multiarray import _set_madvise_hugepage

    if user_setting is None:
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    else:
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", user_setting)
    before = _set_madvise_hugepage(True)
    try:
        assert match_examples().exit_code == 0
        assert _set_madvise_hugepage(True) is huge_pages_after
    finally:
        _set_madvise_hugepage(before)


def test_match_does_not_load_the_other_subcommands():
    """`crowdship match` imports neither the simulator, nor the experiments' plotting and
    statistics, nor the service (they cost 1.4 s per process before any file was read)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from crowdship.cli import app\n"
        "assert CliRunner().invoke(app, ['match', '--help']).exit_code == 0\n"
        "heavy = ('matplotlib', 'crowdship.service', 'crowdship.sim', 'crowdship.experiments')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_match_converts_its_options_without_pydantic(tmp_path):
    """Typer converts option text through pydantic adapters; importing pydantic for them
    cost each `crowdship match` process 0.08 to 0.10 s. A real run with flags (the group's
    `-v`, `--help`'s own flag), numbers, a choice and paths converts them all without it."""
    probe = (
        "import sys\n"
        "from crowdship.cli import app\n"
        f"app(['-v', 'match', '--trips', {str(EXAMPLES / 'trips.csv')!r},\n"
        f"     '--requests', {str(EXAMPLES / 'requests.csv')!r}, '--coords', 'latlon',\n"
        "     '--speed-kmh', '30', '--detour-factor', '1.3', '--bundles-per-trip', '20',\n"
        f"     '--out', {str(tmp_path / 'm.csv')!r}], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
    assert len(list(csv.DictReader((tmp_path / "m.csv").open()))) == 6


def test_the_command_list_loads_no_subcommand_and_says_what_each_says():
    """`crowdship --help` lists every subcommand from its summary, with no module of them
    imported (2.2 s -> 0.3 s), and each summary is the first paragraph of that command's
    own help, as Typer would list it."""
    import inspect

    from crowdship.cli import SUBCOMMANDS, load_command

    for name, subcommand in SUBCOMMANDS.items():
        command = load_command(name)
        first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert subcommand.summary == first.replace("\n", " ").strip(), name
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from crowdship.cli import app\n"
        "shown = CliRunner().invoke(app, ['--help'], env={'COLUMNS': '250'})\n"
        "assert shown.exit_code == 0, shown.output\n"
        "print(shown.output)\n"
        "print(sorted(m for m in sys.modules if m.startswith('crowdship.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    *listing, loaded = out.stdout.strip().splitlines()
    assert loaded == "['crowdship.cli.common']", loaded
    for name in SUBCOMMANDS:
        assert any(line.startswith(f"│ {name} ") for line in listing), name
    assert "Match requests to trips and print the result." in out.stdout


def test_a_planar_match_imports_no_numba(tmp_path):
    """The planar match path (the pairs, the certified matching) is compiled ahead of time
    (Cython): a `crowdship match` process of a day on km coordinates imports no numba, whose
    import and first call cost 0.4 to 0.6 s of every such process (docs/benchmarks.md). The
    day is large enough for the certified solve (over 100,000 pairs) and its answer is the
    OR-Tools optimum on all pairs."""
    from crowdship.core.feasibility import all_pairs
    from crowdship.core.flow import max_matching_min_cost, to_units
    from crowdship.core.travel import PlanarTravel
    from crowdship.sim.scenarios import ScenarioParams, generate_scenario, save_scenario

    day = generate_scenario(ScenarioParams(trips=3000, requests=1200, city_km=8.0), seed=5)
    save_scenario(tmp_path, day)
    out = tmp_path / "m.csv"
    probe = (
        "import sys\n"
        "from crowdship.cli import app\n"
        f"app(['match', '--trips', {str(tmp_path / 'trips.csv')!r},\n"
        f"     '--requests', {str(tmp_path / 'requests.csv')!r}, '--coords', 'km',\n"
        "     '--speed-kmh', '50', '--detour-factor', '1',\n"
        f"     '--out', {str(out)!r}], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert ran.stdout.strip().splitlines()[-1] == "[]", ran.stdout + ran.stderr
    pairs = all_pairs(day.trips, day.requests, PlanarTravel(speed_kmh=50, detour_factor=1))
    assert len(pairs) > 100_000
    best = max_matching_min_cost(pairs.trip, pairs.request, to_units(pairs.detour))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(best.selected)
    chosen = round(sum(float(row["detour_min"]) for row in rows) * 1000)
    assert abs(chosen - best.total_cost) <= len(rows)  # each detour printed to 1/1000 min


def test_a_column_nobody_reads_may_come_twice(tmp_path):
    """Only a column the command reads is refused when it comes twice (which one is meant
    is not clear); two of a column it leaves alone (a spreadsheet's notes) are left alone."""
    (tmp_path / "t.csv").write_text(f"{TRIPS_HEADER},note,note\n{TRIP_OK},a,b\n")
    (tmp_path / "r.csv").write_text(f"{REQUESTS_HEADER}\n{REQUEST_OK}\n")
    result = runner.invoke(
        app, ["match", "--trips", str(tmp_path / "t.csv"), "--requests", str(tmp_path / "r.csv")]
    )
    assert result.exit_code == 0, result.output
