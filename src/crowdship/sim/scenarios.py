"""Random days of trips and requests with the paper's defaults, reproducible from a seed.

Paper (Soto Setzke et al., "Evaluation"): trips take 5 min to 2 h and 5 to 100 km, with a
time flexibility of one third of the trip time; requests are picked up from 8:00 and
delivered by 19:00, announced at least 1 h before their earliest pickup; 1000 trips.
Locations are uniform in a square city given in planar km.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdship.core.model import Requests, Trips
from crowdship.core.travel import PlanarTravel


@dataclass(frozen=True)
class ScenarioParams:
    """Everything that shapes a generated day; the defaults are the paper's."""

    trips: int = 1000
    requests: int = 400
    city_km: float = 20.0
    speed_kmh: float = 50.0
    detour_factor: float = 1.0
    trip_minutes: tuple[float, float] = (5.0, 120.0)
    trip_km: tuple[float, float] = (5.0, 100.0)
    flexibility: float = 1 / 3  # of the trip's driving time
    departures: tuple[float, float] = (8 * 60, 18 * 60)  # earliest departures drawn from here
    pickup_window: tuple[float, float] = (8 * 60, 12 * 60)  # earliest pickups drawn from here
    deadline: float = 19 * 60  # latest delivery of every request
    announcement_lead: tuple[float, float] = (60.0, 120.0)  # minutes before earliest pickup

    def __post_init__(self) -> None:
        if self.trips < 0 or self.requests < 0:
            raise ValueError(
                f"counts must be >= 0, got {self.trips} trips, {self.requests} requests"
            )
        if not self.city_km > 0:
            raise ValueError(f"city size must be > 0 km, got {self.city_km}")
        for name, (low, high) in (
            ("trip_minutes", self.trip_minutes),
            ("trip_km", self.trip_km),
            ("departures", self.departures),
            ("pickup_window", self.pickup_window),
            ("announcement_lead", self.announcement_lead),
        ):
            if low > high:
                raise ValueError(f"{name} range is empty: {low} > {high}")
        if self.flexibility < 0:
            raise ValueError(f"flexibility must be >= 0, got {self.flexibility}")
        reachable = min(self.trip_km[1], self.city_km * np.sqrt(2))
        if reachable < self.trip_km[0]:
            raise ValueError(f"no trip of {self.trip_km[0]} km fits in a {self.city_km} km city")

    @property
    def travel(self) -> PlanarTravel:
        return PlanarTravel(speed_kmh=self.speed_kmh, detour_factor=self.detour_factor)


def generate(params: ScenarioParams, seed: int) -> tuple[Trips, Requests]:
    """One random day; the same ``params`` and ``seed`` always give the same day."""
    rng = np.random.default_rng(seed)
    travel = params.travel
    origin, destination = _trip_ends(params, rng)
    minutes = travel.pairwise(origin, destination)
    departure = rng.uniform(*params.departures, size=params.trips)
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(params.trips)],
        origin=origin,
        destination=destination,
        earliest_departure=departure,
        latest_arrival=departure + minutes * (1 + params.flexibility),
    )
    n = params.requests
    pickup = rng.uniform(0, params.city_km, size=(n, 2))
    delivery = rng.uniform(0, params.city_km, size=(n, 2))
    earliest = rng.uniform(*params.pickup_window, size=n)
    lead = rng.uniform(*params.announcement_lead, size=n)
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n)],
        pickup=pickup,
        delivery=delivery,
        earliest_pickup=earliest,
        latest_delivery=np.maximum(np.full(n, params.deadline), earliest),
        announced_at=earliest - lead,
    )
    return trips, requests


def _trip_ends(params: ScenarioParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform origins and destinations, redrawn until length and time are in range."""
    n = params.trips
    origin = np.empty((n, 2))
    destination = np.empty((n, 2))
    todo = np.arange(n)
    travel = params.travel
    for _ in range(10_000):
        if len(todo) == 0:
            return origin, destination
        o = rng.uniform(0, params.city_km, size=(len(todo), 2))
        d = rng.uniform(0, params.city_km, size=(len(todo), 2))
        km = np.hypot(*(o - d).T)
        minutes = travel.pairwise(o, d)
        ok = (
            (km >= params.trip_km[0])
            & (km <= params.trip_km[1])
            & (minutes >= params.trip_minutes[0])
            & (minutes <= params.trip_minutes[1])
        )
        origin[todo[ok]] = o[ok]
        destination[todo[ok]] = d[ok]
        todo = todo[~ok]
    raise ValueError("could not draw trips within the length and time ranges; widen them")
