"""Travel models: known distances, the lower bound the index relies on, bad parameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core.travel import GreatCircleTravel, PlanarTravel


def test_one_degree_of_latitude_is_111_km():
    """Haversine: 1 degree of latitude is about 111.19 km; minutes follow factor and speed."""
    travel = GreatCircleTravel(speed_kmh=60.0, detour_factor=1.0)
    minutes = travel.pairwise(np.array([[60.0, 25.0]]), np.array([[61.0, 25.0]]))
    assert minutes[0] == pytest.approx(111.195, abs=0.01)
    default = GreatCircleTravel()
    assert default.pairwise(np.array([[60.0, 25.0]]), np.array([[61.0, 25.0]]))[0] == pytest.approx(
        111.195 * 1.3 / 30 * 60, rel=1e-4
    )


def test_planar_minutes_and_matrix_agree():
    """Planar: 3-4-5 triangle at 60 km/h is 5 minutes; matrix equals pairwise."""
    travel = PlanarTravel(speed_kmh=60.0, detour_factor=1.0)
    a = np.array([[0.0, 0.0], [1.0, 1.0]])
    b = np.array([[3.0, 4.0], [1.0, 1.0]])
    assert travel.pairwise(a, b).tolist() == pytest.approx([5.0, 0.0])
    assert np.diag(travel.matrix(a, b)).tolist() == pytest.approx([5.0, 0.0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-89.9, 89.9), st.floats(-180, 180)), min_size=2, max_size=20))
def test_great_circle_lower_bound_holds(points):
    """The chord bound never exceeds the great-circle minutes (what the index relies on)."""
    p = np.array(points)
    travel = GreatCircleTravel()
    e = travel.embed(p)
    bound = travel.minutes_per_km * np.linalg.norm(e[:, None] - e[None], axis=2)
    assert (bound <= travel.matrix(p, p) + 1e-9).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speed_kmh": 0}, "speed must be > 0 km/h, got 0"),
        ({"speed_kmh": -5}, "speed must be > 0 km/h"),
        ({"detour_factor": 0.9}, "detour factor must be >= 1, got 0.9"),
    ],
)
@pytest.mark.parametrize("model", [GreatCircleTravel, PlanarTravel])
def test_bad_parameters_are_refused(model, kwargs, message):
    """Speeds and detour factors that make no sense raise a clear error."""
    with pytest.raises(ValueError, match=message):
        model(**kwargs)


def test_latitude_out_of_range_is_reported():
    """The great-circle model names the first unusable point."""
    bad = np.array([[60.0, 24.0], [91.0, 24.0]])
    assert GreatCircleTravel().invalid_point(bad) == (1, "latitude 91.0 is outside [-90, 90]")
