"""The tariff in force: read from its newest version, cached briefly, changed by operators.

Before any operator change, version 0 is the tariff built from the settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.db import after_commit
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.pricing import repository
from crowdship.service.entities.pricing.schemas import TariffIn
from crowdship.service.entities.pricing.tariff import ParcelDraft, Quote, Tariff
from crowdship.service.errors import Invalid


def default_tariff(context: ServiceContext) -> Tariff:
    s = context.settings
    return Tariff(
        base_cents=s.fee_base_cents,
        per_km_cents=s.fee_per_km_cents,
        courier_share_pct=s.courier_share_pct,
        currency=s.currency,
    )


def _newest(session: Session, context: ServiceContext) -> tuple[int, Tariff]:
    row = repository.newest(session)
    if row is None:
        return 0, default_tariff(context)
    return row.id, Tariff.from_json({**row.body, "currency": context.settings.currency})


def current(context: ServiceContext) -> tuple[int, Tariff]:
    """The version number and tariff in force (cached for a few seconds)."""

    def load() -> tuple[int, Tariff]:
        with context.db.read() as session:
            return _newest(session, context)

    return context.tariffs.get(load)


def quote(context: ServiceContext, parcel: ParcelDraft) -> Quote:
    version, tariff = current(context)
    return tariff.quote(
        parcel, context.settings.zone, context.settings.detour_factor, version=version
    )


def describe(version: int, tariff: Tariff) -> dict[str, Any]:
    return {"version": version, **tariff.to_json()}


def replace(
    session: Session, context: ServiceContext, actor: Actor, data: TariffIn
) -> tuple[int, Tariff]:
    actor.require(Role.OPERATOR)
    body = data.model_dump(mode="json")
    try:
        tariff = Tariff.from_json({**body, "currency": context.settings.currency})
    except ValueError as error:
        raise Invalid("tariff", str(error)) from error
    version = repository.add(session, body, actor.id, context.clock.now())
    # Once the change commits, this process quotes with it at once (others within seconds).
    after_commit(session, context.tariffs.clear)
    return version, tariff
