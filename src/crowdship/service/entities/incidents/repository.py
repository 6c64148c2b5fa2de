"""Every query on incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.incidents.models import Incident, Resolution


def add(session: Session, incident: Incident) -> Incident:
    session.add(incident)
    session.flush()
    return incident


def get(session: Session, incident_id: int, for_update: bool = False) -> Incident | None:
    return session.get(Incident, incident_id, with_for_update=for_update)


def resolve_open(
    session: Session,
    order_id: int,
    resolution: Resolution,
    note: str,
    by: int,
    now: datetime,
) -> None:
    """One decision settles every open report on the order."""
    session.execute(
        update(Incident)
        .where(Incident.order_id == order_id, Incident.resolved_at.is_(None))
        .values(resolution=resolution, resolution_note=note, resolved_by=by, resolved_at=now)
        .execution_options(synchronize_session="fetch")
    )


def open_of_order(session: Session, order_id: int) -> Incident | None:
    """The order's unresolved incident (the first, were there several)."""
    query = (
        select(Incident)
        .where(Incident.order_id == order_id, Incident.resolved_at.is_(None))
        .order_by(Incident.id)
        .limit(1)
    )
    return session.scalars(query).first()


def of_order(session: Session, order_id: int) -> list[Incident]:
    query = select(Incident).where(Incident.order_id == order_id).order_by(Incident.id)
    return list(session.scalars(query))


def listed(session: Session, open_only: bool, limit: int, offset: int) -> list[Incident]:
    query = select(Incident).order_by(Incident.id.desc()).limit(limit).offset(offset)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return list(session.scalars(query))


def count_by_courier(session: Session, courier_ids: Sequence[int]) -> dict[int, int]:
    query = (
        select(Incident.courier_id, func.count())
        .where(Incident.courier_id.in_(courier_ids))
        .group_by(Incident.courier_id)
    )
    return {int(courier_id or 0): int(n) for courier_id, n in session.execute(query)}


def open_count(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Incident).where(Incident.resolved_at.is_(None))
        ).scalar()
        or 0
    )
