"""Shared fixtures: tiny hand-checkable instances on a plane where 1 km takes 1 minute."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from crowdship.core.model import Requests, Trips
from crowdship.core.travel import PlanarTravel


@pytest.fixture(scope="session", autouse=True)
def data_dir_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The service's default data folder (payout CSVs, SMS outbox, secret key) in a tmp
    folder, not ``./crowdship-data`` in the checkout, where two test workers would share it;
    prepared road networks in a tmp folder too, not the user's ``~/.cache``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CROWDSHIP_DATA_DIR", str(tmp_path_factory.mktemp("crowdship-data")))
        patch.setenv("CROWDSHIP_CACHE_DIR", str(tmp_path_factory.mktemp("crowdship-cache")))
        yield


@pytest.fixture
def minute_per_km() -> PlanarTravel:
    """60 km/h, no detour factor: distances in km equal minutes."""
    return PlanarTravel(speed_kmh=60.0, detour_factor=1.0)


def make_trips(
    rows: list[tuple[str, tuple[float, float], tuple[float, float], float, float]],
) -> Trips:
    return Trips.from_columns(
        ids=[r[0] for r in rows],
        origin=[r[1] for r in rows],
        destination=[r[2] for r in rows],
        earliest_departure=[r[3] for r in rows],
        latest_arrival=[r[4] for r in rows],
    )


def make_requests(
    rows: list[tuple[str, tuple[float, float], tuple[float, float], float, float]], **extra: object
) -> Requests:
    return Requests.from_columns(
        ids=[r[0] for r in rows],
        pickup=[r[1] for r in rows],
        delivery=[r[2] for r in rows],
        earliest_pickup=[r[3] for r in rows],
        latest_delivery=[r[4] for r in rows],
        **extra,  # type: ignore[arg-type]
    )


def random_instance(
    rng: np.random.Generator, n_trips: int, n_requests: int, city: float = 10.0
) -> tuple[Trips, Requests]:
    """Random trips and requests with windows loose enough that many pairs are feasible."""
    origin = rng.uniform(0, city, (n_trips, 2))
    destination = rng.uniform(0, city, (n_trips, 2))
    direct = np.hypot(*(origin - destination).T)
    departure = rng.uniform(0, 60, n_trips)
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(n_trips)],
        origin=origin,
        destination=destination,
        earliest_departure=departure,
        latest_arrival=departure
        + direct * rng.uniform(1.0, 2.5, n_trips)
        + rng.uniform(0, 5, n_trips),
    )
    earliest = rng.uniform(0, 60, n_requests)
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n_requests)],
        pickup=rng.uniform(0, city, (n_requests, 2)),
        delivery=rng.uniform(0, city, (n_requests, 2)),
        earliest_pickup=earliest,
        latest_delivery=earliest + rng.uniform(5, 90, n_requests),
        value=rng.uniform(0, 15, n_requests),
    )
    return trips, requests
