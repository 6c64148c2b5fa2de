"""Generated days: reproducible, within their parameters, and saved/loaded exactly."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from crowdship.core.travel import GreatCircleTravel, PlanarTravel
from crowdship.sim.scenarios import (
    ScenarioParams,
    generate,
    generate_scenario,
    load_scenario,
    save_scenario,
)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b))


def test_same_seed_same_day_and_other_seed_other_day() -> None:
    params = ScenarioParams(trips=200, requests=80)
    t1, r1 = generate(params, 7)
    t2, r2 = generate(params, 7)
    t3, _ = generate(params, 8)
    assert _same(t1.origin, t2.origin) and _same(r1.announced_at, r2.announced_at)
    assert not _same(t1.origin, t3.origin)


def test_paper_defaults_are_respected() -> None:
    params = ScenarioParams(trips=500, requests=300)
    trips, requests = generate(params, 1)
    minutes = params.travel.pairwise(trips.origin, trips.destination)
    km = np.hypot(*(trips.origin - trips.destination).T)
    assert (km >= 5 - 1e-9).all() and (km <= 100).all()
    assert (minutes >= 5 - 1e-9).all() and (minutes <= 120).all()
    flexibility = trips.latest_arrival - trips.earliest_departure - minutes
    np.testing.assert_allclose(flexibility, minutes / 3)
    assert ((trips.earliest_departure >= 480) & (trips.earliest_departure <= 1080)).all()
    assert ((requests.earliest_pickup >= 480) & (requests.earliest_pickup <= 720)).all()
    assert (requests.latest_delivery == 19 * 60).all()
    lead = requests.earliest_pickup - requests.announced_at
    assert (lead >= 60).all() and (lead <= 120).all()
    assert (trips.origin >= 0).all() and (trips.origin <= params.city_km).all()


def test_commuter_profile_has_two_peaks_inside_the_range() -> None:
    params = ScenarioParams(trips=4000, requests=0, departure_profile="commuter")
    trips, _ = generate(params, 3)
    departure = trips.earliest_departure
    assert ((departure >= 480) & (departure <= 1080)).all()
    counts, _ = np.histogram(departure, bins=[480, 600, 900, 1080])
    morning, midday, evening = counts
    # Each 2-3 h peak band holds far more trips per hour than the 5 h middle of the day.
    assert morning / 2 > 2 * midday / 5 and evening / 3 > 2 * midday / 5


def test_bounding_box_gives_latlon_points_and_great_circle_travel() -> None:
    box = (60.15, 24.85, 60.25, 25.05)
    params = ScenarioParams(
        trips=100, requests=50, bbox=box, speed_kmh=30, detour_factor=1.3, trip_km=(2, 100)
    )
    trips, requests = generate(params, 2)
    assert isinstance(params.travel, GreatCircleTravel)
    for points in (trips.origin, trips.destination, requests.pickup, requests.delivery):
        assert ((points[:, 0] >= box[0]) & (points[:, 0] <= box[2])).all()
        assert ((points[:, 1] >= box[1]) & (points[:, 1] <= box[3])).all()


@pytest.mark.parametrize(
    "params",
    [
        ScenarioParams(trips=60, requests=30),
        ScenarioParams(trips=60, requests=30, bbox=(60.1, 24.8, 60.3, 25.1), trip_km=(2, 50)),
        ScenarioParams(trips=60, requests=30, trip_announcement_lead=(30, 60)),
    ],
    ids=["km", "latlon", "trips-announced"],
)
def test_saved_scenario_loads_back_exactly(tmp_path, params: ScenarioParams) -> None:
    scenario = generate_scenario(params, 11)
    save_scenario(tmp_path, scenario)
    loaded = load_scenario(tmp_path)
    assert loaded.coords == scenario.coords
    assert type(loaded.travel) is type(scenario.travel)
    assert loaded.travel == scenario.travel
    for name in ("ids", "origin", "destination", "earliest_departure", "latest_arrival"):
        assert _same(getattr(loaded.trips, name), getattr(scenario.trips, name)), name
    for name in (
        "ids",
        "pickup",
        "delivery",
        "earliest_pickup",
        "latest_delivery",
        "announced_at",
    ):
        assert _same(getattr(loaded.requests, name), getattr(scenario.requests, name)), name
    assert loaded.description["seed"] == 11
    if scenario.trip_announced_at is None:
        assert loaded.trip_announced_at is None
    else:
        assert loaded.trip_announced_at is not None
        assert _same(loaded.trip_announced_at, scenario.trip_announced_at)


def test_trips_are_announced_a_drawn_lead_before_departure_on_the_same_day() -> None:
    known = generate_scenario(ScenarioParams(trips=200, requests=10), 5)
    assert known.trip_announced_at is None  # the paper's Figure 6: all trips known
    params = ScenarioParams(trips=200, requests=10, trip_announcement_lead=(30, 120))
    late = generate_scenario(params, 5)
    assert late.trip_announced_at is not None
    lead = late.trips.earliest_departure - late.trip_announced_at
    assert lead.min() >= 30 and lead.max() <= 120 and lead.std() > 10
    # The lead has its own random stream: the trips and requests are the same day.
    assert _same(late.trips.origin, known.trips.origin)
    assert _same(late.requests.announced_at, known.requests.announced_at)


def test_loading_without_metadata_needs_coords(tmp_path) -> None:
    scenario = generate_scenario(ScenarioParams(trips=10, requests=5), 1)
    save_scenario(tmp_path, scenario)
    (tmp_path / "scenario.json").unlink()
    loaded = load_scenario(tmp_path, coords="km", speed_kmh=50, detour_factor=1.0)
    assert loaded.travel == PlanarTravel(speed_kmh=50, detour_factor=1.0)
    with pytest.raises(ValueError, match="origin_lat"):
        load_scenario(tmp_path)  # lat/lon by default: the km columns are not enough
    with pytest.raises(ValueError, match="scenario.json is missing"):
        load_scenario(tmp_path, strict=True)  # the command line's saved days need it
    # What the arguments give need not be in scenario.json, even when strict.
    loaded = load_scenario(tmp_path, coords="km", speed_kmh=50, detour_factor=1.0, strict=True)
    assert loaded.travel == PlanarTravel(speed_kmh=50, detour_factor=1.0)


def test_a_bad_travel_value_is_said_to_come_from_where_it_came_from(tmp_path) -> None:
    """A bad speed or detour factor given as an argument is not blamed on scenario.json
    (which may be right), and one from scenario.json names the file and the key."""
    save_scenario(tmp_path, generate_scenario(ScenarioParams(trips=10, requests=5), 1))
    meta = tmp_path / "scenario.json"
    for arguments, message in (
        ({"speed_kmh": -5}, "load_scenario's speed_kmh argument: speed must be > 0 km/h"),
        ({"detour_factor": 0.5}, "load_scenario's detour_factor argument: detour factor must"),
        ({"coords": "miles"}, "the coords argument: must be latlon or km, got 'miles'"),
    ):
        with pytest.raises(ValueError) as refused:
            load_scenario(tmp_path, **arguments)
        assert str(refused.value).startswith(message), refused.value
        assert "scenario.json" not in str(refused.value)
    written = json.loads(meta.read_text())
    meta.write_text(json.dumps({**written, "detour_factor": 0.5}))
    with pytest.raises(ValueError, match=f"^{re.escape(str(meta))}, detour_factor: detour fac"):
        load_scenario(tmp_path)
    # An argument overrides the bad value in the file: nothing to blame.
    assert load_scenario(tmp_path, detour_factor=1.0).travel == PlanarTravel(50, 1.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"trips": -1}, "counts must be >= 0"),
        ({"city_km": 0}, "city size"),
        ({"city_km": 3}, "no trip of 5.0 km fits in a 3 km city"),
        ({"pickup_window": (720, 480)}, "pickup_window range is empty"),
        # Days the files could not say (minutes after midnight, within ten years).
        ({"departures": (-60, 600)}, "departures must start at 0 minutes after midnight"),
        ({"pickup_window": (-30, 600)}, "pickup_window must start at 0 minutes after"),
        ({"flexibility": 1e6}, "the day's latest times would reach"),
        ({"deadline": 600}, "deadline 600 is before the end of the pickup window"),
        ({"bbox": (60.3, 24.8, 60.1, 25.1)}, "bounding box"),
        ({"departure_profile": "random"}, "departure profile"),
        ({"speed_kmh": 0}, "speed must be > 0"),
        ({"flexibility": -0.1}, "flexibility"),
        ({"flexibility": float("nan")}, "flexibility .a share of the trip's driving time"),
        ({"requests": 1_000_001}, "a day holds at most 1000000 trips and 1000000 requests"),
        ({"trip_announcement_lead": (60, 30)}, "trip announcement lead"),
    ],
)
def test_bad_parameters_are_named(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScenarioParams(**changes)


def test_delivery_window_replaces_the_common_deadline() -> None:
    trips, requests = generate(ScenarioParams(trips=20, requests=50, delivery_window=60), 1)
    np.testing.assert_allclose(requests.latest_delivery - requests.earliest_pickup, 60)
    with pytest.raises(ValueError, match="delivery window must be >= 0"):
        ScenarioParams(delivery_window=-5)


def test_pickup_points_put_a_share_of_pickups_at_the_stations():
    """The campus short leg in the simulator: a share of the requests waits at a station,
    and their pickup is the station itself; the rest of the day is the same day."""
    from crowdship.sim.scenarios import ScenarioParams, generate, stations

    plain = ScenarioParams(requests=400)
    campus = ScenarioParams(requests=400, pickup_points=3, pickup_point_share=0.5)
    _, base = generate(plain, seed=5)
    _, day = generate(campus, seed=5)
    points = stations(campus, seed=5)
    at_station = (np.abs(day.pickup[:, None, :] - points[None, :, :]).sum(axis=2) < 1e-12).any(1)
    assert 0.4 < at_station.mean() < 0.6
    np.testing.assert_array_equal(day.pickup[~at_station], base.pickup[~at_station])
    np.testing.assert_array_equal(day.delivery, base.delivery)
    with pytest.raises(ValueError, match="needs pickup_points"):
        ScenarioParams(pickup_point_share=0.2)
