"""The operator console's views: today's KPIs and the city map's trips and orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from crowdship.service.deps import CommittingRoute, Context, CurrentActor, Operator, ReadSession
from crowdship.service.workflows import console

router = APIRouter(route_class=CommittingRoute, tags=["console"])


@router.get("/console/kpis", response_model=console.DayKpis)
def kpis(_actor: Operator, session: ReadSession, context: Context) -> console.DayKpis:
    """Today's orders, match rate, detour, minutes to match, on-time rate, open incidents."""
    return console.kpis(session, context)


@router.get("/console/map", response_model=console.CityMap)
def city_map(
    _actor: Operator,
    session: ReadSession,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
) -> Response:
    """Trips not yet arrived and unfinished orders, as columns for the live map."""
    # Serialised once, by the model itself: FastAPI would dump, validate and serialise
    # again, which triples the cost for 15000 rows (bench_web).
    city = console.city(session, context, limit)
    return Response(city.model_dump_json(), media_type="application/json")


@router.get("/service/rules", response_model=console.Rules)
def service_rules(_actor: CurrentActor, context: Context) -> console.Rules:
    """Withdrawal window, offer lifetime, code attempts, currency, and the service's time."""
    return console.rules(context)
