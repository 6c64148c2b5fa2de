"""Staff of a pickup point: accounts that belong to a point. Never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import service as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.points import service as points
from crowdship.service.entities.points.schemas import StaffCreate


def add_staff(
    session: Session, context: ServiceContext, actor: Actor, point_id: int, data: StaffCreate
) -> User:
    actor.require(Role.OPERATOR)
    points.get(session, point_id)
    accounts.check_password(data.password, data.email)
    now = context.clock.now()
    return accounts.create_user(
        session, data.email, data.password, Role.STAFF, data.name, data.phone, now, point_id
    )
