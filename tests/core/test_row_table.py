"""The table of each pickup cell's rows by delivery cell: the binary searches' answers, and
the same pairs, in the same order, with or without it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core import feasibility
from crowdship.core.feasibility import delivery_row_table, feasible_pairs
from crowdship.core.travel import GreatCircleTravel, PlanarTravel
from tests.conftest import random_instance


@settings(max_examples=100, deadline=None)
@given(
    n_cells=st.integers(1, 30),
    cells=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=200),
)
def test_row_table_equals_the_binary_searches(n_cells, cells):
    """Every entry is where ``searchsorted`` puts that delivery cell among the pickup
    cell's rows (rows sorted by pickup cell, then delivery cell; empty cells too)."""
    pairs = sorted((p % n_cells, d % n_cells) for p, d in cells)
    pickup = np.array([p for p, _ in pairs], dtype=np.int64)
    delivery = np.array([d for _, d in pairs], dtype=np.int64)
    cell_start = np.searchsorted(pickup, np.arange(n_cells + 1)).astype(np.int64)
    table = delivery_row_table(cell_start, delivery)
    assert table.shape == (n_cells, n_cells + 1)
    for cell in range(n_cells):
        lo, hi = cell_start[cell], cell_start[cell + 1]
        for k in range(n_cells + 1):
            assert table[cell, k] == lo + np.searchsorted(delivery[lo:hi], k)


@pytest.mark.parametrize("sphere", [False, True])
def test_pairs_are_the_same_without_the_table(monkeypatch, sphere):
    """With the table switched off (binary searches, as on grids past its size), the index
    writes the same pairs with the same detours in the same order."""
    trips, requests = random_instance(np.random.default_rng(11), 400, 300, 30.0)
    travel: PlanarTravel | GreatCircleTravel = PlanarTravel(speed_kmh=40.0, detour_factor=1.2)
    if sphere:
        travel = GreatCircleTravel(speed_kmh=40.0, detour_factor=1.2)
        degrees, base = np.array([1 / 111.0, 1 / 55.5]), np.array([60.0, 24.6])
        trips = type(trips).from_columns(
            trips.ids,
            base + trips.origin * degrees,
            base + trips.destination * degrees,
            trips.earliest_departure,
            trips.latest_arrival,
        )
        requests = type(requests).from_columns(
            requests.ids,
            base + requests.pickup * degrees,
            base + requests.delivery * degrees,
            requests.earliest_pickup,
            requests.latest_delivery + 60.0,
        )
    with_table = feasible_pairs(trips, requests, travel)
    monkeypatch.setattr(feasibility, "ROW_TABLE_CELLS", 0)
    without = feasible_pairs(trips, requests, travel)
    assert len(with_table) > 500
    assert with_table.trip.tolist() == without.trip.tolist()
    assert with_table.request.tolist() == without.request.tolist()
    assert with_table.detour.tolist() == without.detour.tolist()
