from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crowdship.service.deps import CommittingRoute, Context, CurrentActor, Operator, WriteSession
from crowdship.service.entities.pricing import service
from crowdship.service.entities.pricing.schemas import TariffIn, TariffPublic

router = APIRouter(route_class=CommittingRoute, tags=["pricing"])


@router.get("/pricing", response_model=TariffPublic)
def tariff(actor: CurrentActor, context: Context) -> dict[str, Any]:
    """The tariff in force: base, per km, size and urgency surcharges, peak hours (local
    time), and the courier's share."""
    return service.describe(*service.current(context))


@router.put("/pricing", response_model=TariffPublic)
def set_tariff(
    data: TariffIn, actor: Operator, session: WriteSession, context: Context
) -> dict[str, Any]:
    """Operator: replace the tariff. Orders posted from now on use it; posted orders keep
    the fee they were quoted."""
    return service.describe(*service.replace(session, context, actor, data))
