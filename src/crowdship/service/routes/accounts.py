from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    ReadSession,
    WriteSession,
    client_address,
    token_of,
)
from crowdship.service.entities.accounts import service
from crowdship.service.entities.accounts.models import User
from crowdship.service.entities.accounts.schemas import (
    PasswordChange,
    Token,
    UserCreate,
    UserPublic,
)
from crowdship.service.routes.contract import refusals

router = APIRouter(route_class=CommittingRoute, tags=["accounts"])


@router.post("/auth/register", response_model=UserPublic, status_code=201, responses=refusals(409))
def register(data: UserCreate, session: WriteSession, context: Context) -> User:
    """Sign up as a merchant, customer (sender and receiver) or courier."""
    return service.register(session, data, context.clock.now())


@router.post("/auth/token", response_model=Token, responses=refusals(400, 401, 429))
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: ReadSession,
    context: Context,
) -> Token:
    """OAuth2 password flow: ``username`` is the email. The token expires. Attempts are
    limited per email and per client address (429 with ``Retry-After``)."""
    settings = context.settings
    context.limits.sign_in(form.username, client_address(request))
    return service.login(
        session,
        form.username,
        form.password,
        settings.signing_key,
        context.clock.wall(),
        settings.token_minutes,
    )


@router.get("/me", response_model=UserPublic)
def me(actor: CurrentActor, session: ReadSession) -> User:
    """The logged-in account."""
    return service.me(session, actor)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, actor: CurrentActor, session: WriteSession) -> Response:
    """Log out: the token sent with this request stops working (at once in this service
    process, within 10 seconds in the others)."""
    claims = token_of(request)
    service.logout(session, claims)
    session.commit()
    request.app.state.actors.put_revoked(claims.jti, True)
    return Response(status_code=204)


@router.put("/me/password", response_model=Token, responses=refusals(429))
def change_password(
    request: Request,
    data: PasswordChange,
    actor: CurrentActor,
    session: WriteSession,
    context: Context,
) -> Token:
    """Change the password (the current one is asked again): every token issued before,
    this one included, stops working; the answer is a fresh token. Attempts are limited as
    at ``POST /auth/token``."""
    settings = context.settings
    context.limits.sign_in(f"account:{actor.id}", client_address(request))
    token = service.change_password(
        session,
        actor,
        data.current_password,
        data.new_password,
        settings.signing_key,
        context.clock.wall(),
        settings.token_minutes,
    )
    session.commit()
    request.app.state.actors.forget(actor.id)
    return token
