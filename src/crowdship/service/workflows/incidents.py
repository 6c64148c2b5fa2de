"""Reporting incidents and resolving disputes. Never commits.

Before delivery an incident fails the order (the courier's trip is freed if the parcel was
never picked up). After delivery it disputes the order, which keeps it out of settlement
until the operator decides: ``pay`` (the delivery stands) or ``refund``.

An order has one open dispute at a time: while it is disputed, another report (by anyone)
is refused naming the open incident, so the operator's queue and the courier's record count
each dispute once. After ``pay`` the order is delivered again and a new problem may be
reported until settlement; after ``refund`` it has failed and takes none."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.incidents import repository as incidents
from crowdship.service.entities.incidents.models import Incident, IncidentKind, Resolution
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders import service as order_access
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.trips.lifecycle import TripAction
from crowdship.service.errors import Conflict, Invalid, NotFound
from crowdship.service.workflows.assignment import release_trip


def report(
    session: Session,
    context: ServiceContext,
    actor: Actor,
    order_id: int,
    kind: IncidentKind,
    note: str,
) -> Incident:
    order = order_access.visible(session, actor, order_id)
    now = context.clock.now()
    status = order.status
    courier_id = order.courier_id
    summary = f"incident {kind.value}: {note}".strip().rstrip(":")[:300]
    if status in (OrderStatus.ACCEPTED, OrderStatus.PICKED_UP):
        orders.transition(session, order_id, Action.INCIDENT, actor.id, now, note=summary)
        freed = TripAction.RELEASE if status == OrderStatus.ACCEPTED else TripAction.COMPLETE
        release_trip(session, order.trip_id, freed, now)
    elif status == OrderStatus.DELIVERED:
        orders.transition(session, order_id, Action.DISPUTE, actor.id, now, note=summary)
    elif status == OrderStatus.DISPUTED:
        raise _already_disputed(session, order_id)
    else:
        raise Conflict(
            f"order {order_id} is {status.value}; incidents are reported while a courier "
            "carries it or after delivery, before settlement",
            status=status.value,
        )
    incident = Incident(
        order_id=order_id,
        courier_id=courier_id,
        reporter_id=actor.id,
        reporter_role=order_access.role_in(actor, order),
        kind=kind,
        note=note,
        order_status=status,
        created_at=now,
    )
    return incidents.add(session, incident)


def _already_disputed(session: Session, order_id: int) -> Conflict:
    open_one = incidents.open_of_order(session, order_id)
    if open_one is None:  # not expected: a dispute is opened with its incident
        return Conflict(
            f"order {order_id} is disputed until the operator decides it", status="disputed"
        )
    return Conflict(
        f"order {order_id} is disputed: incident {open_one.id} ({open_one.kind.value}, "
        f"reported by the {open_one.reporter_role} at {open_one.created_at:%Y-%m-%d %H:%M} "
        "UTC) is open until the operator decides it",
        status="disputed",
    )


def resolve(
    session: Session,
    context: ServiceContext,
    actor: Actor,
    incident_id: int,
    resolution: Resolution,
    note: str,
) -> Incident:
    actor.require(Role.OPERATOR)
    incident = incidents.get(session, incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.resolved_at is not None:
        raise Conflict(
            f"incident {incident_id} was resolved ({incident.resolution}) at "
            f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC",
            status="resolved",
        )
    status = orders.status_of(session, incident.order_id)
    now = context.clock.now()
    if status == OrderStatus.DISPUTED:
        if resolution == Resolution.CLOSE:
            raise Invalid("resolution", "a disputed order needs pay or refund")
        action = Action.RESOLVE_PAY if resolution == Resolution.PAY else Action.RESOLVE_REFUND
        orders.transition(session, incident.order_id, action, actor.id, now, note=note[:300])
    elif resolution != Resolution.CLOSE:
        raise Invalid(
            "resolution",
            f"order {incident.order_id} is {status}, not disputed; the incident can only be closed",
        )
    # One decision settles every open report on the order.
    incidents.resolve_open(session, incident.order_id, resolution, note, actor.id, now)
    session.refresh(incident)
    return incident


def of_order(session: Session, actor: Actor, order_id: int) -> list[Incident]:
    order_access.visible(session, actor, order_id)
    return incidents.of_order(session, order_id)


def listed(
    session: Session, actor: Actor, open_only: bool, limit: int, offset: int
) -> list[Incident]:
    actor.require(Role.OPERATOR)
    return incidents.listed(session, open_only, limit, offset)
