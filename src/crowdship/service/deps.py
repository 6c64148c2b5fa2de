"""Request dependencies: the service context, sessions, and the authenticated actor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from crowdship.service.accounts.models import Role, User
from crowdship.service.context import ServiceContext
from crowdship.service.errors import DomainError, Forbidden, Unauthorized
from crowdship.service.security import read_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


def _read_session(context: Context) -> Iterator[Session]:
    with context.db.read() as session:
        yield session


def _write_session(context: Context) -> Iterator[Session]:
    with context.db.write() as session:
        try:
            yield session
        except DomainError as error:
            # Some refusals must still be recorded (a wrong handover code counts).
            if error.keep_changes:
                session.commit()
            raise


# scope="function": the session closes (and SQLite's writer lock is released) before the
# response goes out, not after.
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]


@dataclass(frozen=True)
class Actor:
    """Who is calling: enough to check role and ownership without an ORM object."""

    id: int
    role: Role
    name: str
    phone: str | None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            raise Forbidden(f"this needs the {wanted} role; you are {self.role.value}")


def current_actor(context: Context, token: Annotated[str | None, Depends(oauth2)] = None) -> Actor:
    if not token:
        raise Unauthorized("not logged in: send 'Authorization: Bearer <token>' from /auth/token")
    user_id = read_token(token, context.settings.signing_key, context.clock.now())
    with context.db.read() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthorized("this account does not exist or is disabled")
        return Actor(id=user.id, role=user.role, name=user.name, phone=user.phone)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def actor_with(*roles: Role) -> Callable[..., Actor]:
    """A dependency that admits only these roles (403 before the body is even read)."""

    def dependency(actor: CurrentActor) -> Actor:
        actor.require(*roles)
        return actor

    return dependency


Courier = Annotated[Actor, Depends(actor_with(Role.COURIER))]
Sender = Annotated[Actor, Depends(actor_with(Role.MERCHANT, Role.CUSTOMER))]
Operator = Annotated[Actor, Depends(actor_with(Role.OPERATOR))]


# Path ids and paging, shared by every router.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
