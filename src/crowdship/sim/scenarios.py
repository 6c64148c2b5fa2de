"""Random days of trips and requests with the paper's defaults, reproducible from a seed.

Paper (Soto Setzke et al., "Evaluation"): trips take 5 min to 2 h and 5 to 100 km, with a
time flexibility of one third of the trip time; requests are picked up from 8:00 and
delivered by 19:00, announced at least 1 h before their earliest pickup; 1000 trips.
Locations are uniform in a square city given in planar km, or uniform in a latitude/longitude
bounding box (then travel is great-circle). A scenario is saved as the two files that
``crowdship match`` reads, plus ``scenario.json`` naming the travel model.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crowdship.core.model import FloatArray, Requests, Trips
from crowdship.core.travel import GreatCircleTravel, PlanarTravel, TravelModel
from crowdship.tables import LATEST_MINUTE, Coords, read_inputs

DepartureProfile = Literal["uniform", "commuter"]
BoundingBox = tuple[float, float, float, float]  # south, west, north, east in degrees

# The most trips, and the most requests, a generated day may hold: ten times the largest day
# the benchmarks run (100000 trips x 40000 requests, docs/benchmarks.md). A larger count is
# almost surely a typing slip (a ratio of 1e6), and would take hours and gigabytes.
MAX_PER_DAY = 1_000_000


@dataclass(frozen=True)
class ScenarioParams:
    """Everything that shapes a generated day; the defaults are the paper's."""

    trips: int = 1000
    requests: int = 400
    city_km: float = 20.0  # side of the square city (ignored when ``bbox`` is set)
    bbox: BoundingBox | None = None
    speed_kmh: float = 50.0
    detour_factor: float = 1.0
    trip_minutes: tuple[float, float] = (5.0, 120.0)
    trip_km: tuple[float, float] = (5.0, 100.0)  # driven distance (travel minutes x speed)
    flexibility: float = 1 / 3  # of the trip's driving time
    departures: tuple[float, float] = (8 * 60, 18 * 60)  # earliest departures drawn from here
    departure_profile: DepartureProfile = "uniform"
    # The commuter profile: half the trips around each peak, normal with this spread (min).
    peaks: tuple[float, float] = (8 * 60, 17 * 60)
    peak_spread: float = 60.0
    pickup_window: tuple[float, float] = (8 * 60, 12 * 60)  # earliest pickups drawn from here
    deadline: float = 19 * 60  # latest delivery of every request ...
    delivery_window: float | None = None  # ... or this many minutes after its earliest pickup
    announcement_lead: tuple[float, float] = (60.0, 120.0)  # minutes before earliest pickup
    # Trips announced this many minutes before their departure (drawn uniformly, like the
    # requests' lead); None: every trip is known from the start (the paper's Figure 6).
    trip_announcement_lead: tuple[float, float] | None = None
    # Pickup points (campus stations): this many, placed at random, and this share of the
    # requests waiting at one of them for the short leg (their pickup is the station).
    pickup_points: int = 0
    pickup_point_share: float = 0.0
    # Trip capacity in parcels as a distribution: the share of trips that carry 1, 2, 3, ...
    # parcels (issue 15). The paper's (1.0,): every trip carries one.
    trip_capacity: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        shares = tuple(float(x) for x in self.trip_capacity)
        object.__setattr__(self, "trip_capacity", shares)  # a list read from JSON, too
        if not shares or any(not (math.isfinite(x) and x >= 0) for x in shares):
            raise ValueError(
                f"trip capacity shares must be numbers >= 0, one per capacity 1, 2, ...; "
                f"got {self.trip_capacity}"
            )
        if abs(sum(shares) - 1.0) > 1e-9:
            raise ValueError(f"trip capacity shares must sum to 1, got {sum(shares):g}")
        if self.trips < 0 or self.requests < 0:
            raise ValueError(
                f"counts must be >= 0, got {self.trips} trips, {self.requests} requests"
            )
        if max(self.trips, self.requests) > MAX_PER_DAY:
            raise ValueError(
                f"a day holds at most {MAX_PER_DAY} trips and {MAX_PER_DAY} requests, "
                f"got {self.trips} trips, {self.requests} requests"
            )
        if self.bbox is None and not self.city_km > 0:
            raise ValueError(f"city size must be > 0 km, got {self.city_km}")
        if self.bbox is not None:
            south, west, north, east = self.bbox
            if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
                raise ValueError(
                    f"bounding box must be south,west,north,east with south < north and "
                    f"west < east in degrees, got {self.bbox}"
                )
        for name, (low, high) in (
            ("trip_minutes", self.trip_minutes),
            ("trip_km", self.trip_km),
            ("departures", self.departures),
            ("pickup_window", self.pickup_window),
            ("announcement_lead", self.announcement_lead),
        ):
            if low > high:
                raise ValueError(f"{name} range is empty: {low} > {high}")
        if self.bbox is None and min(self.trip_km[1], self.city_km * np.sqrt(2)) < self.trip_km[0]:
            raise ValueError(f"no trip of {self.trip_km[0]} km fits in a {self.city_km} km city")
        if not (self.flexibility >= 0 and math.isfinite(self.flexibility)):
            raise ValueError(
                f"flexibility (a share of the trip's driving time) must be a finite number "
                f">= 0, got {self.flexibility}"
            )
        # Times are minutes after midnight, as the files say them (``crowdship.tables``): a
        # day drawn before midnight or past LATEST_MINUTE could be simulated, but not saved
        # and read back.
        for name, low in (
            ("departures", self.departures[0]),
            ("pickup_window", self.pickup_window[0]),
        ):
            if not low >= 0:
                raise ValueError(
                    f"{name} must start at 0 minutes after midnight or later, got {low}"
                )
        latest = max(
            self.departures[1] + self.trip_minutes[1] * (1 + self.flexibility),
            self.deadline
            if self.delivery_window is None
            else self.pickup_window[1] + self.delivery_window,
        )
        if not latest <= LATEST_MINUTE:
            raise ValueError(
                f"the day's latest times would reach {latest:g} minutes after midnight, past "
                f"the {LATEST_MINUTE:g} (ten years) a saved day may hold: check departures, "
                "trip_minutes, flexibility, deadline and delivery_window"
            )
        if self.trip_announcement_lead is not None:
            low, high = self.trip_announcement_lead
            if not 0 <= low <= high:
                raise ValueError(
                    f"trip announcement lead must be a range of minutes >= 0, got "
                    f"{self.trip_announcement_lead}"
                )
        if self.pickup_points < 0:
            raise ValueError(f"pickup points must be >= 0, got {self.pickup_points}")
        if not 0 <= self.pickup_point_share <= 1:
            raise ValueError(
                f"pickup point share must be between 0 and 1, got {self.pickup_point_share}"
            )
        if self.pickup_point_share > 0 and self.pickup_points == 0:
            raise ValueError("a pickup point share needs pickup_points >= 1")
        if self.announcement_lead[0] < 0:
            raise ValueError(f"announcement lead must be >= 0 min, got {self.announcement_lead}")
        if self.departure_profile not in ("uniform", "commuter"):
            raise ValueError(
                f"departure profile must be uniform or commuter, got {self.departure_profile!r}"
            )
        if not self.peak_spread > 0:
            raise ValueError(f"peak spread must be > 0 min, got {self.peak_spread}")
        if self.delivery_window is not None and not self.delivery_window >= 0:
            raise ValueError(f"delivery window must be >= 0 min, got {self.delivery_window}")
        if self.delivery_window is None and self.deadline < self.pickup_window[1]:
            raise ValueError(
                f"deadline {self.deadline:g} is before the end of the pickup window "
                f"{self.pickup_window[1]:g}"
            )
        _ = self.travel  # builds the travel model, which checks speed and detour factor

    @property
    def coords(self) -> Coords:
        return "latlon" if self.bbox is not None else "km"

    @property
    def travel(self) -> TravelModel:
        if self.bbox is not None:
            return GreatCircleTravel(speed_kmh=self.speed_kmh, detour_factor=self.detour_factor)
        return PlanarTravel(speed_kmh=self.speed_kmh, detour_factor=self.detour_factor)

    def points(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` uniform locations in the city (x, y km) or the box (lat, lon)."""
        if self.bbox is None:
            return rng.uniform(0, self.city_km, size=(n, 2))
        south, west, north, east = self.bbox
        return np.column_stack([rng.uniform(south, north, n), rng.uniform(west, east, n)])


@dataclass(frozen=True)
class Scenario:
    """A day to simulate: trips, requests (with ``announced_at``) and how people travel."""

    trips: Trips
    requests: Requests
    travel: TravelModel
    coords: Coords
    description: dict[str, Any]  # the parameters and seed it came from, when generated
    trip_announced_at: FloatArray | None = None  # None: every trip known from the start


def generate(params: ScenarioParams, seed: int) -> tuple[Trips, Requests]:
    """One random day; the same ``params`` and ``seed`` always give the same day."""
    rng = np.random.default_rng(seed)
    travel = params.travel
    origin, destination = _trip_ends(params, rng)
    minutes = travel.pairwise(origin, destination)
    departure = _departures(params, rng)
    trips = Trips.from_columns(
        ids=[f"t{i}" for i in range(params.trips)],
        origin=origin,
        destination=destination,
        earliest_departure=departure,
        latest_arrival=departure + minutes * (1 + params.flexibility),
    )
    trips = _with_capacities(params, trips, seed)
    n = params.requests
    pickup = params.points(rng, n)
    delivery = params.points(rng, n)
    if params.pickup_points:
        pickup = _at_stations(params, pickup, seed)
    earliest = rng.uniform(*params.pickup_window, size=n)
    lead = rng.uniform(*params.announcement_lead, size=n)
    requests = Requests.from_columns(
        ids=[f"r{j}" for j in range(n)],
        pickup=pickup,
        delivery=delivery,
        earliest_pickup=earliest,
        latest_delivery=(
            earliest + params.delivery_window
            if params.delivery_window is not None
            else np.maximum(np.full(n, params.deadline), earliest)
        ),
        announced_at=earliest - lead,
    )
    return trips, requests


def _with_capacities(params: ScenarioParams, trips: Trips, seed: int) -> Trips:
    """Each trip's capacity drawn from ``trip_capacity``, from its own random stream (the
    day's trips and requests do not depend on it; every trip carries one by default)."""
    shares = np.asarray(params.trip_capacity)
    if len(shares) == 1 or shares[1:].sum() == 0:
        return trips
    rng = np.random.default_rng([seed, 3])
    capacity = rng.choice(np.arange(1, len(shares) + 1), size=len(trips), p=shares / shares.sum())
    return Trips.from_columns(
        trips.ids,
        trips.origin,
        trips.destination,
        trips.earliest_departure,
        trips.latest_arrival,
        capacity=capacity,
    )


def stations(params: ScenarioParams, seed: int) -> FloatArray:
    """The day's pickup points, drawn from their own stream (the day's other draws do not
    depend on them)."""
    return params.points(np.random.default_rng([seed, 7]), params.pickup_points)


def _at_stations(params: ScenarioParams, pickup: FloatArray, seed: int) -> FloatArray:
    """A share of the requests waits at a station: their pickup is that station."""
    rng = np.random.default_rng([seed, 8])
    where = stations(params, seed)
    waiting = rng.random(len(pickup)) < params.pickup_point_share
    moved = pickup.copy()
    moved[waiting] = where[rng.integers(len(where), size=int(waiting.sum()))]
    return moved


def trip_announcements(params: ScenarioParams, trips: Trips, seed: int) -> FloatArray | None:
    """When each trip becomes known: its departure minus a lead drawn uniformly from
    ``trip_announcement_lead`` (None when every trip is known from the start). The draw has
    its own random stream, so the day's trips and requests do not depend on the lead."""
    if params.trip_announcement_lead is None:
        return None
    rng = np.random.default_rng([seed, 1])
    lead = rng.uniform(*params.trip_announcement_lead, size=len(trips))
    announced: FloatArray = trips.earliest_departure - lead
    return announced


def generate_scenario(params: ScenarioParams, seed: int) -> Scenario:
    trips, requests = generate(params, seed)
    description = {"seed": seed, **asdict(params)}
    return Scenario(
        trips,
        requests,
        params.travel,
        params.coords,
        description,
        trip_announcements(params, trips, seed),
    )


def _departures(params: ScenarioParams, rng: np.random.Generator) -> FloatArray:
    n = params.trips
    low, high = params.departures
    if params.departure_profile == "uniform":
        return rng.uniform(low, high, size=n)
    # Commuter peaks: a normal around the morning or the evening peak, redrawn when it falls
    # outside the departure range (truncation, so no mass piles up at the range's ends).
    peak = np.asarray(params.peaks)[rng.integers(0, 2, size=n)]
    out = np.empty(n)
    todo = np.arange(n)
    for _ in range(10_000):
        if len(todo) == 0:
            return out
        draw = rng.normal(peak[todo], params.peak_spread)
        ok = (draw >= low) & (draw <= high)
        out[todo[ok]] = draw[ok]
        todo = todo[~ok]
    raise ValueError(
        f"commuter peaks {params.peaks} lie too far outside the departure range {params.departures}"
    )


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
        o = params.points(rng, len(todo))
        d = params.points(rng, len(todo))
        minutes = travel.pairwise(o, d)
        km = minutes * params.speed_kmh / 60
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


SCENARIO_FILE = "scenario.json"
TRIPS_FILE = "trips.csv"
REQUESTS_FILE = "requests.csv"


def save_scenario(directory: Path, scenario: Scenario) -> None:
    """Write ``trips.csv``, ``requests.csv`` (the columns ``crowdship match`` reads, plus
    ``announced_at``) and ``scenario.json``. Times are minutes after midnight written with
    full precision, so loading gives back exactly the same day."""
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ("lat", "lon") if scenario.coords == "latlon" else ("x", "y")
    trips, requests = scenario.trips, scenario.requests
    _write_csv(
        directory / TRIPS_FILE,
        {
            "id": trips.ids,
            f"origin_{suffix[0]}": trips.origin[:, 0],
            f"origin_{suffix[1]}": trips.origin[:, 1],
            f"destination_{suffix[0]}": trips.destination[:, 0],
            f"destination_{suffix[1]}": trips.destination[:, 1],
            "earliest_departure": trips.earliest_departure,
            "latest_arrival": trips.latest_arrival,
            "capacity": trips.capacity,
            **(
                {"announced_at": scenario.trip_announced_at}
                if scenario.trip_announced_at is not None
                else {}
            ),
        },
    )
    _write_csv(
        directory / REQUESTS_FILE,
        {
            "id": requests.ids,
            f"pickup_{suffix[0]}": requests.pickup[:, 0],
            f"pickup_{suffix[1]}": requests.pickup[:, 1],
            f"delivery_{suffix[0]}": requests.delivery[:, 0],
            f"delivery_{suffix[1]}": requests.delivery[:, 1],
            "earliest_pickup": requests.earliest_pickup,
            "latest_delivery": requests.latest_delivery,
            "announced_at": requests.announced_at,
            "size": requests.size,
        },
    )
    travel = scenario.travel
    meta = {
        "coords": scenario.coords,
        "speed_kmh": getattr(travel, "speed_kmh", None),
        "detour_factor": getattr(travel, "detour_factor", None),
        "generated_by": scenario.description,
    }
    (directory / SCENARIO_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in zip(*(columns[name] for name in names), strict=True):
            writer.writerow([_cell(value) for value in row])


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))  # shortest text that reads back as the same float
    return str(value)


# What scenario.json must say about the travel model for a day to load as it was generated.
TRAVEL_KEYS = ("coords", "speed_kmh", "detour_factor")


def load_scenario(
    directory: Path,
    coords: Coords | None = None,
    speed_kmh: float | None = None,
    detour_factor: float | None = None,
    strict: bool = False,
) -> Scenario:
    """Read a scenario directory. ``scenario.json`` supplies the travel model; arguments
    given here override it, and without it coordinates default to lat/lon (great-circle).

    With ``strict`` (``crowdship simulate --scenario``, which has no options for the travel
    model), ``scenario.json`` must be there and give every value of :data:`TRAVEL_KEYS` that
    no argument gives: a guessed travel model would simulate another day than the saved one.
    """
    meta: dict[str, Any] = {}
    meta_path = directory / SCENARIO_FILE
    given = {"coords": coords, "speed_kmh": speed_kmh, "detour_factor": detour_factor}
    needed = [key for key in TRAVEL_KEYS if given[key] is None]
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{meta_path}: not valid JSON ({error.msg}, line {error.lineno})"
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{meta_path}: cannot read it: {error}") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{meta_path}: must hold a JSON object")
        missing = [key for key in needed if meta.get(key) is None]
        if strict and missing:
            raise ValueError(
                f"{meta_path} is incomplete: missing {', '.join(missing)} (the travel model; "
                f"crowdship scenario writes them)"
            )
    elif strict and needed:
        raise ValueError(
            f"{meta_path} is missing: it names the day's coordinates and travel model "
            f"({', '.join(TRAVEL_KEYS)}); crowdship scenario writes it beside trips.csv "
            f"and requests.csv"
        )
    chosen_coords = coords or meta.get("coords") or "latlon"
    if chosen_coords not in ("latlon", "km"):
        source = "the coords argument" if coords else f"{meta_path}, coords"
        raise ValueError(f"{source}: must be latlon or km, got {chosen_coords!r}")
    for key in ("speed_kmh", "detour_factor"):
        value = meta.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{meta_path}, {key}: must be a number, got {value!r}")
    generated_by = meta.get("generated_by")
    if generated_by is not None and not isinstance(generated_by, dict):
        raise ValueError(f"{meta_path}, generated_by: must be a JSON object")
    model = PlanarTravel if chosen_coords == "km" else GreatCircleTravel
    # The defaults: a generated day's travel in km, the command line's on lat/lon.
    defaults = (
        {"speed_kmh": 50.0, "detour_factor": 1.0}
        if chosen_coords == "km"
        else {"speed_kmh": 30.0, "detour_factor": 1.3}
    )
    chosen = {}
    for key in ("speed_kmh", "detour_factor"):
        argument = speed_kmh if key == "speed_kmh" else detour_factor
        value, source = _first_given(key, argument, meta, meta_path, defaults)
        try:  # each value on its own (the other at its default), to name where it came from
            model(**{key: value})
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
        chosen[key] = value
    travel: TravelModel = model(**chosen)
    inputs = read_inputs(directory / TRIPS_FILE, directory / REQUESTS_FILE, chosen_coords)
    return Scenario(
        inputs.trips,
        inputs.requests,
        travel,
        chosen_coords,
        dict(generated_by or {}),
        _trip_announced_at(directory / TRIPS_FILE, inputs.trips),
    )


def _first_given(
    key: str,
    argument: float | None,
    meta: dict[str, Any],
    meta_path: Path,
    defaults: dict[str, float],
) -> tuple[float, str]:
    """The travel model's ``key``: the argument, else scenario.json's, else the default;
    with where it came from, for a message."""
    if argument is not None:
        return float(argument), f"load_scenario's {key} argument"
    if meta.get(key) is not None:
        return float(meta[key]), f"{meta_path}, {key}"
    return defaults[key], f"the default {key}"


def _trip_announced_at(path: Path, trips: Trips) -> FloatArray | None:
    """The trips' optional ``announced_at`` column (empty cells: known from the start)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "announced_at" not in (reader.fieldnames or ()):
            return None
        by_id = {row["id"]: row["announced_at"].strip() for row in reader}
    try:
        return np.asarray(
            [float(by_id[str(i)]) if by_id.get(str(i)) else -np.inf for i in trips.ids]
        )
    except ValueError as error:
        raise ValueError(f"{path}, announced_at: {error}") from None
