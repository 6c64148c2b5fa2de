"""Road-network travel on the real Helsinki extract and on tiny hand-made networks."""

from __future__ import annotations

import numpy as np
import pytest

from crowdship.core import road as road_module
from crowdship.core.feasibility import NO_LIMITS, Limits, all_pairs, feasible_pairs
from crowdship.core.matcher import match
from crowdship.core.model import Requests, Trips
from crowdship.core.road import RoadNetworkTravel, bundled_extract, parse_maxspeed
from tests.conftest import random_instance


@pytest.fixture(scope="module")
def helsinki() -> RoadNetworkTravel:
    return RoadNetworkTravel.from_pbf(bundled_extract())


def line_network(oneway: str) -> RoadNetworkTravel:
    """Three nodes on a line 0.01 degrees of longitude apart, at 60 degrees north."""
    return RoadNetworkTravel.from_frames(
        node_ids=np.array([1, 2, 3]),
        node_lat=np.array([60.0, 60.0, 60.0]),
        node_lon=np.array([24.0, 24.01, 24.02]),
        edge_u=np.array([1, 2]),
        edge_v=np.array([2, 3]),
        highway=np.array(["residential", "primary"]),
        oneway=np.array([oneway, oneway], dtype=object),
        maxspeed=np.array([None, "50"], dtype=object),
        tags=np.array([None, None], dtype=object),
    )


def test_speeds_come_from_maxspeed_or_road_class():
    """Residential without maxspeed drives 30 km/h; a posted 50 is used as 50 km/h."""
    net = line_network("no")
    km = 0.01 * np.pi / 180 * 6371.0088 * np.cos(np.radians(60))
    m = net.matrix(np.array([[60.0, 24.0]]), np.array([[60.0, 24.01], [60.0, 24.02]]))
    assert m[0, 0] == pytest.approx(km / 30 * 60, rel=1e-3)
    assert m[0, 1] == pytest.approx(km / 30 * 60 + km / 50 * 60, rel=1e-3)


def test_one_way_streets_are_respected():
    """On a one-way line only one direction exists; the network keeps its strong part."""
    two_way = line_network("no")
    assert two_way.nodes == 3
    one_way = line_network("yes")
    # Nothing is mutually reachable: the strongly connected part is a single node.
    assert one_way.nodes == 1


def test_maxspeed_parsing():
    """Posted speeds in km/h, mph and lists; unusable values give None."""
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("50;40") == 50
    assert parse_maxspeed("signals") is None
    assert parse_maxspeed(float("nan")) is None


def test_helsinki_matrix_is_finite_and_consistent(helsinki):
    """All points reach each other; matrix and pairwise agree; the lower bound holds."""
    rng = np.random.default_rng(0)
    lo, hi = helsinki.node_latlon.min(axis=0), helsinki.node_latlon.max(axis=0)
    a, b = rng.uniform(lo, hi, (200, 2)), rng.uniform(lo, hi, (200, 2))
    m = helsinki.matrix(a, b)
    assert np.isfinite(m).all() and (m >= 0).all()
    np.testing.assert_allclose(helsinki.pairwise(a, b), np.diag(m))
    e_a, e_b = helsinki.embed(a), helsinki.embed(b)
    bound = helsinki.minutes_per_km * np.linalg.norm(e_a[:, None] - e_b[None], axis=2)
    assert (bound <= m + 1e-9).all()
    # One-way streets make some trips asymmetric.
    assert not np.allclose(helsinki.matrix(a, a), helsinki.matrix(a, a).T)


def test_matching_on_helsinki_roads_equals_all_pairs(helsinki):
    """The index keeps every feasible pair on a real network; matching runs end to end."""
    rng = np.random.default_rng(5)
    trips, requests = random_instance(rng, 40, 40, 1.0)
    lo, hi = helsinki.node_latlon.min(axis=0), helsinki.node_latlon.max(axis=0)

    def place(unit):
        return lo + unit / 1.0 * (hi - lo)

    trips = type(trips).from_columns(
        trips.ids,
        place(trips.origin),
        place(trips.destination),
        trips.earliest_departure,
        trips.earliest_departure + 12,
    )
    requests = type(requests).from_columns(
        requests.ids,
        place(requests.pickup),
        place(requests.delivery),
        requests.earliest_pickup,
        requests.latest_delivery,
    )
    reference = all_pairs(trips, requests, helsinki)
    found = feasible_pairs(trips, requests, helsinki)
    assert len(reference) > 0
    assert set(zip(found.trip.tolist(), found.request.tolist(), strict=True)) == set(
        zip(reference.trip.tolist(), reference.request.tolist(), strict=True)
    )
    assert match(trips, requests, helsinki).matched > 0


def helsinki_day(
    helsinki: RoadNetworkTravel, seed: int, n_trips: int, n_requests: int
) -> tuple[Trips, Requests]:
    """Trips and requests placed over the extract, trips with a few minutes to spare."""
    rng = np.random.default_rng(seed)
    trips, requests = random_instance(rng, n_trips, n_requests, 1.0)
    lo, hi = helsinki.node_latlon.min(axis=0), helsinki.node_latlon.max(axis=0)
    origin, destination = lo + trips.origin * (hi - lo), lo + trips.destination * (hi - lo)
    direct = helsinki.pairwise(origin, destination)
    trips = Trips.from_columns(
        trips.ids,
        origin,
        destination,
        trips.earliest_departure,
        trips.earliest_departure + direct + rng.uniform(0, 6, n_trips),
    )
    requests = Requests.from_columns(
        requests.ids,
        lo + requests.pickup * (hi - lo),
        lo + requests.delivery * (hi - lo),
        requests.earliest_pickup,
        requests.latest_delivery,
    )
    return trips, requests


@pytest.mark.parametrize("full_table", [True, False])
@pytest.mark.parametrize(
    "limits", [NO_LIMITS, Limits(max_detour_min=2.0), Limits(max_detour_fraction=0.5)]
)
def test_pairs_on_a_network_are_the_rule_pair_by_pair(helsinki, monkeypatch, full_table, limits):
    """Legs read from the node table (every pair checked in one compiled pass) or found
    through the grid index give exactly the reference's pairs and detours, bit for bit."""
    if not full_table:  # the path a network too large for a kept table takes
        monkeypatch.setattr(road_module, "_FULL_TABLE_NODES", 10)
        helsinki = RoadNetworkTravel.from_arrays(helsinki.arrays())
    assert helsinki.has_full_table is full_table
    trips, requests = helsinki_day(helsinki, 11, 120, 90)
    reference = all_pairs(trips, requests, helsinki, limits=limits)
    found = feasible_pairs(trips, requests, helsinki, limits=limits)
    assert 0 < len(reference) < len(trips) * len(requests)
    ours = np.lexsort((found.request, found.trip))
    theirs = np.lexsort((reference.request, reference.trip))
    np.testing.assert_array_equal(found.trip[ours], reference.trip[theirs])
    np.testing.assert_array_equal(found.request[ours], reference.request[theirs])
    np.testing.assert_array_equal(found.detour[ours], reference.detour[theirs])


def test_network_arrays_round_trip_and_damaged_arrays_are_refused(helsinki):
    """arrays() and from_arrays() give the same network; inconsistent arrays are refused
    with a message saying what does not fit."""
    again = RoadNetworkTravel.from_arrays(helsinki.arrays())
    points = helsinki.node_latlon[::97]
    np.testing.assert_array_equal(again.matrix(points, points), helsinki.matrix(points, points))
    assert again.max_speed_kmh == helsinki.max_speed_kmh
    arrays = helsinki.arrays()
    for name, broken, message in [
        ("indptr", arrays["indptr"][:-1], "same nodes"),
        ("minutes", arrays["minutes"][:-1], "do not match"),
        ("indices", arrays["indices"] + helsinki.nodes, "out of order or range"),
        ("minutes", -arrays["minutes"], "finite and positive"),
        ("indices", arrays["indices"].astype(float), "must be integers"),
    ]:
        with pytest.raises(ValueError, match=message):
            RoadNetworkTravel.from_arrays({**arrays, name: broken})


def test_missing_file_is_a_clear_error(tmp_path):
    """A road network path that does not exist says so."""
    with pytest.raises(ValueError, match="does not exist"):
        RoadNetworkTravel.from_pbf(tmp_path / "nowhere.osm.pbf")
