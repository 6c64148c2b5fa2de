"""Trips and Requests check themselves however they are built (from_columns, the
constructor, subset)."""

from dataclasses import replace

import numpy as np
import pytest

from crowdship.core.model import ModelError, Requests, Trips
from tests.conftest import make_requests, make_trips


def _trips() -> Trips:
    return make_trips(
        [("a", (0.0, 0.0), (10.0, 0.0), 0.0, 20.0), ("b", (1.0, 0.0), (9.0, 0.0), 5.0, 40.0)]
    )


def _requests() -> Requests:
    return make_requests(
        [("r", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0), ("s", (3.0, 0.0), (6.0, 0.0), 10.0, 90.0)]
    )


def test_constructor_checks_the_time_order():
    trips = _trips()
    with pytest.raises(ModelError, match="trip b: latest_arrival 00:01 is before earliest"):
        replace(trips, latest_arrival=np.array([20.0, 1.0]))


def test_constructor_checks_column_lengths():
    with pytest.raises(ModelError, match="capacity must have 2 values"):
        replace(_trips(), capacity=np.array([1], dtype=np.int64))
    with pytest.raises(ModelError, match="pickup must be 2 points"):
        replace(_requests(), pickup=np.zeros((3, 2)))


def test_constructor_checks_unique_ids():
    with pytest.raises(ModelError, match="request id 'r' appears twice"):
        replace(_requests(), ids=np.array(["r", "r"], dtype=object))


def test_constructor_checks_values():
    with pytest.raises(ModelError, match="request s: size must be >= 1"):
        replace(_requests(), size=np.array([1, 0], dtype=np.int64))
    with pytest.raises(ModelError, match="trip a: origin is not a finite number"):
        replace(_trips(), origin=np.array([[np.nan, 0.0], [1.0, 0.0]]))


def test_subset_keeps_columns_aligned_and_valid():
    requests = _requests().subset([1])
    assert list(requests.ids) == ["s"]
    assert requests.earliest_pickup.tolist() == [10.0]
    with pytest.raises(ModelError, match="appears twice"):
        _trips().subset([0, 0])
