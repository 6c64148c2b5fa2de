"""``crowdship match``: match the trips and requests of two files."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from crowdship.cli.common import check_outputs, console, fail, files, teardown_needless
from crowdship.core.bundles import RouteMatchResult, match_routes
from crowdship.core.costs import CostFunction
from crowdship.core.feasibility import TIME_TOLERANCE, Limits
from crowdship.core.flow import SolverError
from crowdship.core.matcher import MatchResult
from crowdship.core.model import ModelError
from crowdship.core.policies import policy_named
from crowdship.core.travel import GreatCircleTravel, PlanarTravel, TravelModel
from crowdship.tables import InputError, Inputs, TimeBase, read_inputs, write_matches

log = logging.getLogger("crowdship")
#: Seconds each 0-1 program may take with capacity > 1 unless told: the paper's 1000 x 1000
#: day at capacity 3 is proven in about 10 s, while some busy days would take the 0-1
#: programs minutes (docs/benchmarks.md); the gap proven by then is printed.
DEFAULT_TIME_LIMIT_S = 60.0


def _no_huge_pages() -> None:
    """NumPy asks the kernel for transparent huge pages on large arrays. Where the kernel
    then compacts memory on the first touch (``defrag`` = ``madvise``, the default of many
    distributions and of the machine this was measured on), writing the pairs' arrays
    stalls now and then: on the lat/lon day the pairs took 0.38-0.57 s with them and
    0.39-0.43 s without, the whole process 1.16 s against 1.08 s (medians of ten,
    interleaved; docs/benchmarks.md). A user's own ``NUMPY_MADVISE_HUGEPAGE`` decides."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core.multiarray import _set_madvise_hugepage  # type: ignore[attr-defined]
    except ImportError:  # a NumPy without the switch: its own default stays
        return
    _set_madvise_hugepage(False)


class CoordsOption(StrEnum):
    latlon = "latlon"
    km = "km"


class PolicyOption(StrEnum):
    max_matches = "max-matches"
    min_cost = "min-cost"
    acceptance_aware = "acceptance-aware"


def match_command(
    trips: Annotated[Path, typer.Option(help="Trips file (CSV or JSON).")],
    requests: Annotated[Path, typer.Option(help="Requests file (CSV or JSON).")],
    coords: Annotated[
        CoordsOption,
        typer.Option(help="latlon: WGS84 degrees, great-circle travel; km: planar x/y in km."),
    ] = CoordsOption.latlon,
    speed_kmh: Annotated[float, typer.Option(help="Driving speed in km/h.")] = 30.0,
    detour_factor: Annotated[
        float, typer.Option(help="Road distance / straight-line distance (>= 1).")
    ] = 1.3,
    policy: Annotated[
        PolicyOption,
        typer.Option(
            help="max-matches: most matches, then least cost (the paper). min-cost: serve a "
            "request only where its 'value' exceeds the cost. acceptance-aware: most expected "
            "accepted offers (reject probability detour / (LA_r - ED_r))."
        ),
    ] = PolicyOption.max_matches,
    road_network: Annotated[
        Path | None,
        typer.Option(
            help="Use driving times on this OpenStreetMap extract (.osm.pbf) instead of "
            "straight lines; needs --coords latlon. 'helsinki' uses the bundled extract. "
            "The built network is kept in ~/.cache/crowdship/roads (CROWDSHIP_CACHE_DIR) "
            "for the next run."
        ),
    ] = None,
    max_detour: Annotated[
        float | None, typer.Option(help="Hard limit on a driver's detour, minutes.")
    ] = None,
    max_detour_fraction: Annotated[
        float | None, typer.Option(help="Hard limit on detour / direct trip time.")
    ] = None,
    rating_weight: Annotated[
        float, typer.Option(help="Cost minutes added for a 1-star courier (0 for 5 stars).")
    ] = 0.0,
    preferred_weight: Annotated[
        float, typer.Option(help="Cost minutes taken off when the sender prefers the courier.")
    ] = 0.0,
    priority_weight: Annotated[
        float, typer.Option(help="Cost minutes taken off per unit of request priority.")
    ] = 0.0,
    out: Annotated[
        Path | None, typer.Option(help="Write matches here (CSV, or JSON if it ends in .json).")
    ] = None,
    routes: Annotated[
        Path | None,
        typer.Option(
            help="Write the routes here, one row per stop (origin, pickups, deliveries, "
            "destination; CSV, or JSON if it ends in .json)."
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            help="With capacity > 1: seconds each 0-1 program of the solve may take (a few "
            "run in turn); past it the best matching found is used and its proven gap printed. "
            "`inf` proves the optimum however long that takes (minutes on some busy days)."
        ),
    ] = DEFAULT_TIME_LIMIT_S,
    bundles_per_trip: Annotated[
        int | None,
        typer.Option(
            help="With capacity > 1, keep at most this many of each trip's bundles of each "
            "size (the least detour): faster on big days, then optimal over the bundles kept."
        ),
    ] = None,
    gap: Annotated[
        float,
        typer.Option(
            help="With capacity > 1: stop once the matching is proven within this relative "
            "gap of the optimum over every feasible bundle (0.01 = 1 %); 0 proves the "
            "optimum. Used where bundles are priced (planar or great-circle travel).",
        ),
    ] = 0.0,
) -> None:
    """Match requests to trips and print the result.

    Trips: id, origin_lat, origin_lon, destination_lat, destination_lon, earliest_departure,
    latest_arrival; optional: capacity, courier, rating. Requests: id, pickup_lat,
    pickup_lon, delivery_lat, delivery_lon, earliest_pickup, latest_delivery; optional:
    announced_at, size, priority, value, sender, preferred_couriers. With --coords km use
    `*_x`/`*_y` columns.
    Times: HH:MM, ISO 8601 or minutes after midnight. Bad input exits with status 2.

    A trip with capacity > 1 carries several parcels (total size up to its capacity) on one
    route; the matches then gain pickup_seq and delivery_seq (the stops' places on the
    trip's route, the origin being 0).
    """
    _no_huge_pages()
    try:
        _check_outputs(trips, requests, out, routes)
        travel = _travel(coords, speed_kmh, detour_factor, road_network)
        limits = Limits(max_detour_min=max_detour, max_detour_fraction=max_detour_fraction)
        cost = CostFunction.weighted(
            rating=rating_weight, preferred_courier=preferred_weight, priority=priority_weight
        )
        chosen_policy = policy_named(policy.value)
        if not time_limit > 0:
            raise ValueError(f"--time-limit must be > 0 seconds, got {time_limit:g}")
        if not 0 <= gap < 1:
            raise ValueError(f"--gap must be at least 0 and below 1, got {gap:g}")
        if bundles_per_trip is not None and bundles_per_trip < 1:
            raise ValueError(f"--bundles-per-trip must be at least 1, got {bundles_per_trip}")
        inputs = read_inputs(trips, requests, coords.value)
        log.info("read %d trips and %d requests", len(inputs.trips), len(inputs.requests))
        _check_sizes(inputs, requests)
        if road_network is None:  # on roads the times are the network's, not options
            _warn_unreachable(inputs, travel, speed_kmh, detour_factor)
        result = match_routes(
            inputs.trips,
            inputs.requests,
            travel,
            cost,
            chosen_policy,
            limits,
            None if math.isinf(time_limit) else time_limit,
            bundles_per_trip=bundles_per_trip,
            gap=gap,
        )
    except (InputError, ModelError, ValueError) as error:
        fail(str(error))
        return
    except SolverError as error:  # the checks above should leave none; never a traceback
        fail(f"the solver could not take this day: {error}")
        return
    several = result.plain is None
    if out is not None:
        try:
            if several:
                _write_rows(
                    out, match_rows_with_seq(result, inputs.time_base), MATCH_COLUMNS_WITH_SEQ
                )
            else:
                assert result.plain is not None
                write_matches(out, result.plain, inputs.time_base)
        except OSError as error:
            fail(f"cannot write {out}: {error}")
    else:
        _print_matches(result, inputs.time_base)
    if routes is not None:
        try:
            _write_rows(routes, route_rows(result, inputs.time_base, coords), route_columns(coords))
        except OSError as error:
            fail(f"cannot write {routes}: {error}")
    _print_summary(result, out, routes)
    teardown_needless()


# Suffixes of formats the command does not write (it writes CSV, or JSON for ``.json``).
_NOT_WRITTEN = {".xlsx": "Excel", ".xls": "Excel", ".ods": "OpenDocument", ".parquet": "Parquet"}


def _check_outputs(trips: Path, requests: Path, out: Path | None, routes: Path | None) -> None:
    """Before any work: every output is in a format the command writes, can be written, and
    is neither an input file nor the other output."""
    outputs = [*files("--out", out), *files("--routes", routes)]
    for place in outputs:
        suffix = place.path.suffix.lower()
        if suffix in _NOT_WRITTEN:
            raise ValueError(
                f"{place.subject()}: this command writes CSV, or JSON for a .json name, not "
                f"{_NOT_WRITTEN[suffix]}; use a .csv or .json name"
            )
    check_outputs([*files("--trips", trips), *files("--requests", requests)], outputs)


def _warn_unreachable(
    inputs: Inputs, travel: TravelModel, speed_kmh: float, detour_factor: float
) -> None:
    """Warn when trips cannot reach their own destination by their latest arrival at this
    travel model: such a trip carries nothing, and when most of a day's trips are so the
    travel options are likely not the ones its times were drawn with (a `crowdship
    scenario` day is drawn at 50 km/h with detour factor 1; the command's defaults are
    30 km/h and 1.3)."""
    trips = inputs.trips
    if not len(trips):
        return
    direct = travel.pairwise(trips.origin, trips.destination)
    late = int((trips.earliest_departure + direct > trips.latest_arrival + TIME_TOLERANCE).sum())
    if not late:
        return
    log.warning(
        "%d of %d trips cannot reach their own destination by their latest_arrival %s; they "
        "carry nothing.%s",
        late,
        len(trips),
        f"at {speed_kmh:g} km/h x {detour_factor:g}",
        " Check --speed-kmh and --detour-factor (a crowdship scenario day says its own in "
        "scenario.json)"
        if late * 2 > len(trips)
        else "",
    )


def _check_sizes(inputs: Inputs, requests: Path) -> None:
    """A parcel no trip can carry is a mistake in the file, not a request to leave open."""
    largest = int(inputs.trips.capacity.max(initial=1))
    too_big = inputs.requests.size > largest
    if len(inputs.trips) and too_big.any():
        row = int(too_big.argmax())
        raise InputError(
            requests.name,
            row + 1,
            "size",
            f"{int(inputs.requests.size[row])} is above every trip's capacity "
            f"(the largest is {largest})",
        )


MATCH_COLUMNS_WITH_SEQ = (
    "trip_id",
    "request_id",
    "detour_min",
    "pickup_time",
    "delivery_time",
    "pickup_seq",
    "delivery_seq",
)


def match_rows_with_seq(result: RouteMatchResult, base: TimeBase) -> list[dict[str, Any]]:
    """Matches with each request's place on its trip's route. A route's detour is shared
    equally by its requests (so the column still sums to the total detour)."""
    a = result.assignment
    return [
        {
            "trip_id": str(a.trip_ids[k]),
            "request_id": str(a.request_ids[k]),
            "detour_min": round(float(a.detour[k]), 3),
            "pickup_time": base.format(float(a.pickup_time[k])),
            "delivery_time": base.format(float(a.delivery_time[k])),
            "pickup_seq": int(result.pickup_seq[k]),
            "delivery_seq": int(result.delivery_seq[k]),
        }
        for k in range(len(a))
    ]


def route_rows(
    result: RouteMatchResult, base: TimeBase, coords: CoordsOption
) -> list[dict[str, Any]]:
    """One row per stop of every route: where, when the courier gets there and leaves (after
    any wait), and the parcel units on board when it leaves."""
    r = result.routes
    first, second = ("lat", "lon") if coords is CoordsOption.latlon else ("x", "y")
    return [
        {
            "trip_id": str(r.trip_ids[k]),
            "seq": int(r.seq[k]),
            "kind": str(r.kind[k]),
            "request_id": str(r.request_ids[k]),
            first: round(float(r.location[k, 0]), 6),
            second: round(float(r.location[k, 1]), 6),
            "arrival_time": base.format(float(r.arrival[k])),
            "departure_time": base.format(float(r.departure[k])),
            "load": int(r.load[k]),
        }
        for k in range(len(r))
    ]


def route_columns(coords: CoordsOption) -> tuple[str, ...]:
    first, second = ("lat", "lon") if coords is CoordsOption.latlon else ("x", "y")
    return (
        "trip_id",
        "seq",
        "kind",
        "request_id",
        first,
        second,
        "arrival_time",
        "departure_time",
        "load",
    )


def _write_rows(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Rows as CSV, or JSON when the file name ends in ``.json``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _travel(
    coords: CoordsOption, speed_kmh: float, detour_factor: float, road_network: Path | None
) -> TravelModel:
    if road_network is not None:
        if coords is not CoordsOption.latlon:
            raise ValueError("--road-network needs --coords latlon")
        from crowdship.core.road import bundled_extract
        from crowdship.roads import load_road_network

        path = bundled_extract() if str(road_network) == "helsinki" else road_network
        log.info("loading road network %s", path)
        return load_road_network(path)
    if coords is CoordsOption.km:
        return PlanarTravel(speed_kmh=speed_kmh, detour_factor=detour_factor)
    return GreatCircleTravel(speed_kmh=speed_kmh, detour_factor=detour_factor)


def _print_matches(result: MatchResult | RouteMatchResult, base: TimeBase, limit: int = 50) -> None:
    table = Table(title=f"matches ({result.stats.policy})")
    for column in ("trip", "request", "detour min", "pickup", "delivery"):
        table.add_column(column, justify="right" if column == "detour min" else "left")
    shown = result.assignment
    for k in range(min(limit, len(shown))):  # only the rows shown (thousands are not)
        table.add_row(
            str(shown.trip_ids[k]),
            str(shown.request_ids[k]),
            f"{round(float(shown.detour[k]), 3):.1f}",
            base.format(float(shown.pickup_time[k])),
            base.format(float(shown.delivery_time[k])),
        )
    console.print(table)
    if len(shown) > limit:
        console.print(f"... and {len(shown) - limit} more (use --out to write them all)")


def _print_summary(
    result: MatchResult | RouteMatchResult, out: Path | None, routes: Path | None = None
) -> None:
    stats = result.stats
    rate = result.matched / stats.requests if stats.requests else 0.0
    console.print(
        f"matched {result.matched} / {stats.requests} requests ({rate:.1%}) with "
        f"{stats.trips} trips; total detour {result.assignment.total_detour:.1f} min; "
        f"{stats.objective_unit} {stats.objective:.3f}"
    )
    phases = ", ".join(f"{name} {seconds:.3f}" for name, seconds in stats.timings.items())
    console.print(
        f"feasible pairs {stats.feasible_pairs} (of {stats.candidate_pairs} candidates); "
        f"{stats.seconds:.3f} s ({phases})"
    )
    if isinstance(result, RouteMatchResult) and result.plain is None:
        solve = result.solve
        sizes = ", ".join(f"{k}: {n}" for k, n in sorted(solve.bundles.items()))
        if solve.exact:
            state = "proven optimal"
        elif solve.optimal:
            state = "optimal over the bundles kept"
        else:
            state = f"best found, proven gap {solve.gap:.2%} ({solve.status})"
        console.print(f"bundles by size {{{sizes}}}; {state}")
    if out is not None:
        console.print(f"wrote {result.matched} matches to {out}")
    if routes is not None and isinstance(result, RouteMatchResult):
        console.print(f"wrote {len(result.routes)} route stops to {routes}")
