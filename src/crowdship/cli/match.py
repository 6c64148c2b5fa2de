"""``crowdship match``: match the trips and requests of two files."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crowdship.cli.common import console, fail
from crowdship.core.costs import CostFunction
from crowdship.core.feasibility import Limits
from crowdship.core.matcher import MatchResult, match
from crowdship.core.model import ModelError
from crowdship.core.policies import policy_named
from crowdship.core.travel import GreatCircleTravel, PlanarTravel, TravelModel
from crowdship.tables import InputError, TimeBase, read_inputs, write_matches

log = logging.getLogger("crowdship")


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
            "straight lines; needs --coords latlon. 'helsinki' uses the bundled extract."
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
) -> None:
    """Match requests to trips and print the result.

    Trips: id, origin_lat, origin_lon, destination_lat, destination_lon, earliest_departure,
    latest_arrival [capacity, courier, rating]. Requests: id, pickup_lat, pickup_lon,
    delivery_lat, delivery_lon, earliest_pickup, latest_delivery [announced_at, size,
    priority, value, sender, preferred_couriers]. With --coords km use *_x/*_y columns.
    Times: HH:MM, ISO 8601 or minutes after midnight. Bad input exits with status 2.
    """
    try:
        travel = _travel(coords, speed_kmh, detour_factor, road_network)
        limits = Limits(max_detour_min=max_detour, max_detour_fraction=max_detour_fraction)
        cost = CostFunction.weighted(
            rating=rating_weight, preferred_courier=preferred_weight, priority=priority_weight
        )
        chosen_policy = policy_named(policy.value)
        inputs = read_inputs(trips, requests, coords.value)
        log.info("read %d trips and %d requests", len(inputs.trips), len(inputs.requests))
        result = match(inputs.trips, inputs.requests, travel, cost, chosen_policy, limits)
    except (InputError, ModelError, ValueError) as error:
        fail(str(error))
        return
    if out is not None:
        try:
            write_matches(out, result, inputs.time_base)
        except OSError as error:
            fail(f"cannot write {out}: {error}")
    else:
        _print_matches(result, inputs.time_base)
    _print_summary(result, out)


def _travel(
    coords: CoordsOption, speed_kmh: float, detour_factor: float, road_network: Path | None
) -> TravelModel:
    if road_network is not None:
        if coords is not CoordsOption.latlon:
            raise ValueError("--road-network needs --coords latlon")
        from crowdship.core.road import RoadNetworkTravel, bundled_extract

        path = bundled_extract() if str(road_network) == "helsinki" else road_network
        log.info("loading road network %s", path)
        return RoadNetworkTravel.from_pbf(path)
    if coords is CoordsOption.km:
        return PlanarTravel(speed_kmh=speed_kmh, detour_factor=detour_factor)
    return GreatCircleTravel(speed_kmh=speed_kmh, detour_factor=detour_factor)


def _print_matches(result: MatchResult, base: TimeBase, limit: int = 50) -> None:
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


def _print_summary(result: MatchResult, out: Path | None) -> None:
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
    if out is not None:
        console.print(f"wrote {result.matched} matches to {out}")
