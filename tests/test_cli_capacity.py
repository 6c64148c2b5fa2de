"""`crowdship match` with trips that carry several parcels: routes, stop order, bad input."""

from __future__ import annotations

import csv
import json
import re

import pytest
from typer.testing import CliRunner

from crowdship.cli import app
from crowdship.core.routes import route_problems
from crowdship.core.travel import PlanarTravel
from crowdship.tables import read_inputs

runner = CliRunner()

TRIPS = (
    "id,origin_x,origin_y,destination_x,destination_y,earliest_departure,latest_arrival,capacity"
    """
t1,0,0,20,0,08:00,08:40,3
t2,0,5,20,5,08:00,08:25,1
"""
)
REQUESTS = """id,pickup_x,pickup_y,delivery_x,delivery_y,earliest_pickup,latest_delivery,size
a,2,0,8,0,08:00,12:00,1
b,5,0,15,0,08:00,12:00,1
c,3,0,12,0,08:00,12:00,1
d,40,40,41,41,08:00,09:00,1
"""


def run(tmp_path, trips=TRIPS, requests=REQUESTS, *extra):
    (tmp_path / "trips.csv").write_text(trips)
    (tmp_path / "requests.csv").write_text(requests)
    return runner.invoke(
        app,
        [
            "match",
            "--trips",
            str(tmp_path / "trips.csv"),
            "--requests",
            str(tmp_path / "requests.csv"),
            "--coords",
            "km",
            "--speed-kmh",
            "60",
            "--detour-factor",
            "1",
            *extra,
        ],
    )


def test_three_parcels_on_one_trip_with_routes(tmp_path):
    """Three requests along one trip's line ride together; the matches carry their stop
    places and the routes file one row per stop, each route passing the checker."""
    out, routes = tmp_path / "m.csv", tmp_path / "r.csv"
    result = run(tmp_path, TRIPS, REQUESTS, "--out", str(out), "--routes", str(routes))
    assert result.exit_code == 0, result.output
    assert "matched 3 / 4 requests" in result.output
    assert "proven optimal" in result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == [
        "trip_id",
        "request_id",
        "detour_min",
        "pickup_time",
        "delivery_time",
        "pickup_seq",
        "delivery_seq",
    ]
    assert {r["trip_id"] for r in rows} == {"t1"}
    seq = {r["request_id"]: (int(r["pickup_seq"]), int(r["delivery_seq"])) for r in rows}
    assert seq == {"a": (1, 4), "c": (2, 5), "b": (3, 6)}  # along the line: 2, 3, 5, 8, 12, 15
    stops = list(csv.DictReader(routes.open()))
    assert [s["kind"] for s in stops] == ["origin"] + ["pickup"] * 3 + ["delivery"] * 3 + [
        "destination"
    ]
    assert [int(s["load"]) for s in stops] == [0, 1, 2, 3, 2, 1, 0, 0]
    assert stops[-1]["arrival_time"] == "08:20"
    inputs = read_inputs(tmp_path / "trips.csv", tmp_path / "requests.csv", "km")
    index = {rid: j for j, rid in enumerate(inputs.requests.ids)}
    route = [(index[s["request_id"]], s["kind"]) for s in stops[1:-1]]
    travel = PlanarTravel(speed_kmh=60, detour_factor=1)
    assert route_problems(inputs.trips, inputs.requests, travel, 0, route) == []


def test_routes_json_and_capacity_one(tmp_path):
    """With every capacity 1 the matches file is today's; --routes still writes stops."""
    trips = TRIPS.replace(",3\n", ",1\n")
    out, routes = tmp_path / "m.csv", tmp_path / "r.json"
    result = run(tmp_path, trips, REQUESTS, "--out", str(out), "--routes", str(routes))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["trip_id", "request_id", "detour_min", "pickup_time", "delivery_time"]
    stops = json.loads(routes.read_text())
    assert len(stops) == 4 * len(rows)
    assert {s["kind"] for s in stops} == {"origin", "pickup", "delivery", "destination"}


def test_time_limit_and_printing(tmp_path):
    """--time-limit is accepted; without --out the matches are printed with the solve's
    state."""
    result = run(tmp_path, TRIPS, REQUESTS, "--time-limit", "5")
    assert result.exit_code == 0, result.output
    assert "bundles by size" in result.output


def test_the_time_limit_has_a_default_and_inf_lifts_it(tmp_path):
    """Each 0-1 program gets 60 s unless told (a busy day's proof may take minutes, the
    gap proven by then is printed); `--time-limit inf` proves the optimum however long."""
    shown = CliRunner().invoke(app, ["match", "--help"], env={"COLUMNS": "200"})
    assert "default: 60.0" in shown.output
    unlimited = run(tmp_path, TRIPS, REQUESTS, "--time-limit", "inf")
    assert unlimited.exit_code == 0, unlimited.output
    assert "proven optimal" in unlimited.output


def test_a_gap_allowed_gives_a_matching_within_it(tmp_path):
    """--gap: the priced solve may stop within the gap; on this small day it still finds
    the same number served as the proof of the optimum (the gap is proven, not guessed)."""
    exact = run(tmp_path, TRIPS, REQUESTS)
    within = run(tmp_path, TRIPS, REQUESTS, "--gap", "0.05")
    assert exact.exit_code == 0 and within.exit_code == 0, within.output

    def served(output: str) -> str:
        found = re.search(r"matched (\d+) / (\d+) requests", output)
        assert found is not None, output
        return found.group(0)

    assert served(within.output) == served(exact.output) == "matched 3 / 4 requests"
    assert "proven optimal" in exact.output


@pytest.mark.parametrize(
    ("trips", "requests", "extra", "message"),
    [
        (
            TRIPS.replace("08:40,3", "08:40,0"),
            REQUESTS,
            (),
            "trips.csv row 1, capacity: must be a whole number >= 1, got 0",
        ),
        (
            TRIPS,
            REQUESTS.replace("12:00,1\nb", "12:00,4\nb"),
            (),
            "requests.csv row 1, size: 4 is above every trip's capacity (the largest is 3)",
        ),
        (
            TRIPS,
            REQUESTS.replace("12:00,1\nb", "12:00,0\nb"),
            (),
            "requests.csv row 1, size: must be a whole number >= 1, got 0",
        ),
        (TRIPS, REQUESTS, ("--time-limit", "0"), "--time-limit must be > 0 seconds, got 0"),
        (
            TRIPS,
            REQUESTS,
            ("--bundles-per-trip", "0"),
            "--bundles-per-trip must be at least 1, got 0",
        ),
        (TRIPS, REQUESTS, ("--gap", "1"), "--gap must be at least 0 and below 1, got 1"),
        (TRIPS, REQUESTS, ("--gap", "-0.1"), "--gap must be at least 0 and below 1, got -0.1"),
    ],
)
def test_bad_input_names_the_field(tmp_path, trips, requests, extra, message):
    """Bad capacities, sizes and solver options exit with status 2 and one clear line."""
    result = run(tmp_path, trips, requests, *extra)
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")


def test_experiment_capacity_writes_a_figure(tmp_path):
    """`crowdship experiment capacity`: each capacity is a variant of the same days, and
    capacity 2 serves at least what capacity 1 serves offline."""
    out = tmp_path / "capacity"
    result = runner.invoke(
        app,
        [
            "experiment",
            "capacity",
            *("--trips", "60", "--ratios", "1", "--capacities", "1,2", "--repetitions", "1"),
            *("--strategies", "offline", "--workers", "1", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "figure5_ratio.png").exists()
    rows = list(csv.DictReader((out / "runs.csv").open()))
    by_variant = {row["variant"]: int(row["matched"]) for row in rows}
    assert set(by_variant) == {"capacity 1", "capacity 2"}
    assert by_variant["capacity 2"] >= by_variant["capacity 1"]
    assert json.loads((out / "params.json").read_text())["capacity 2"]["trip_capacity"] == [0, 1]


@pytest.mark.parametrize(
    ("capacities", "message"),
    [("0", "capacities must be whole numbers >= 1, got 0"), ("1.5", "got 1.5")],
)
def test_experiment_capacity_refuses_bad_capacities(tmp_path, capacities, message):
    """Capacities must be whole numbers of parcels."""
    result = runner.invoke(
        app, ["experiment", "capacity", "--capacities", capacities, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_a_packing_stopped_before_any_is_found_falls_back_to_one_parcel_per_trip(tmp_path):
    """A time limit too short for HiGHS to find any packing gave 0 matches; the best
    one-request-per-trip matching is a packing too, and is what the command gives then."""
    out = tmp_path / "m.csv"
    result = run(
        tmp_path,
        TRIPS,
        REQUESTS,
        "--bundles-per-trip",
        "5",
        "--time-limit",
        "1e-9",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "no packing found in time: the best one request per trip" in result.output.replace(
        "\n", " "
    )
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2  # t1 and t2 each carry one of a, b, c (d is out of reach)
    assert {row["trip_id"] for row in rows} == {"t1", "t2"}


def test_a_gap_that_cannot_be_used_is_said_to_be_unused(tmp_path, caplog):
    """--gap applies where bundles are priced; with the listed bundles (here capped per trip)
    the command says it is not used rather than ignoring it without a word."""
    with caplog.at_level("WARNING", logger="crowdship"):
        result = run(tmp_path, TRIPS, REQUESTS, "--bundles-per-trip", "5", "--gap", "0.1")
    assert result.exit_code == 0, result.output
    assert "gap 0.1 is not used" in caplog.text
    assert "bundles per trip caps the listed bundles" in caplog.text
