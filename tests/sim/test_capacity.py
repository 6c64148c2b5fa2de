"""Trip capacity as a scenario parameter, and simulated days with several parcels per trip."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from crowdship.core.routes import best_route
from crowdship.sim.day import Offline, RollingHorizon, simulate_day
from crowdship.sim.scenarios import (
    ScenarioParams,
    generate,
    generate_scenario,
    load_scenario,
    save_scenario,
)

SMALL = ScenarioParams(trips=120, requests=150, city_km=10.0, trip_km=(5.0, 14.0))


def test_default_capacity_keeps_the_papers_day():
    """Every trip carries one parcel by default, and naming that changes no draw."""
    trips, requests = generate(SMALL, 5)
    same, same_requests = generate(
        ScenarioParams(**{**SMALL.__dict__, "trip_capacity": (1.0, 0.0)}), 5
    )
    assert (trips.capacity == 1).all()
    assert np.array_equal(trips.origin, same.origin)
    assert np.array_equal(requests.pickup, same_requests.pickup)


def test_capacity_shares_are_drawn_from_their_own_stream():
    """Shares (0, 0.5, 0.5): capacities 2 and 3 only, about half each; the rest of the day
    is the day of the default."""
    mixed = ScenarioParams(**{**SMALL.__dict__, "trips": 2000, "trip_capacity": (0.0, 0.5, 0.5)})
    trips, requests = generate(mixed, 9)
    plain, plain_requests = generate(
        ScenarioParams(**{**mixed.__dict__, "trip_capacity": (1.0,)}), 9
    )
    assert set(np.unique(trips.capacity).tolist()) == {2, 3}
    assert 0.45 < (trips.capacity == 2).mean() < 0.55
    assert np.array_equal(trips.destination, plain.destination)
    assert np.array_equal(requests.delivery, plain_requests.delivery)


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ((), "one per capacity"),
        ((0.5, -0.5, 1.0), "numbers >= 0"),
        ((0.5, 0.4), "must sum to 1, got 0.9"),
        ((float("nan"),), "numbers >= 0"),
    ],
)
def test_bad_capacity_shares_are_refused(shares, message):
    """Trip capacity shares must be a distribution over capacities 1, 2, ..."""
    with pytest.raises(ValueError, match=message):
        ScenarioParams(trip_capacity=shares)


def test_capacities_survive_saving(tmp_path):
    """A saved day keeps its trips' capacities."""
    day = generate_scenario(ScenarioParams(**{**SMALL.__dict__, "trip_capacity": (0.5, 0.5)}), 2)
    save_scenario(tmp_path, day)
    loaded = load_scenario(tmp_path)
    assert np.array_equal(loaded.trips.capacity, day.trips.capacity)


@pytest.mark.parametrize("strategy", [Offline(), RollingHorizon(40.0)])
def test_simulated_parcels_fit_their_trips_routes(strategy):
    """With capacity 2 to 3, the parcels each trip accepted fit on one route of that trip
    (within its capacity), and the offline day serves at least what capacity 1 serves."""
    params = ScenarioParams(**{**SMALL.__dict__, "trip_capacity": (0.0, 0.5, 0.5)})
    day = generate_scenario(params, 4)
    result = simulate_day(day.trips, day.requests, day.travel, strategy, seed=1)
    trip_pos = {tid: i for i, tid in enumerate(day.trips.ids)}
    request_pos = {rid: j for j, rid in enumerate(day.requests.ids)}
    carried: dict[int, list[int]] = defaultdict(list)
    for a in result.assignments:
        carried[trip_pos[a.trip_id]].append(request_pos[a.request_id])
    assert any(len(members) > 1 for members in carried.values())
    for t, members in carried.items():
        assert len(members) <= day.trips.capacity[t]
        assert best_route(day.trips, day.requests, day.travel, t, sorted(members)) is not None
    if isinstance(strategy, Offline):
        one = generate_scenario(SMALL, 4)
        alone = simulate_day(one.trips, one.requests, one.travel, strategy, seed=1)
        assert result.matched >= alone.matched
