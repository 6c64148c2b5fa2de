from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    ReadSession,
    WriteSession,
    client_address,
)
from crowdship.service.entities.accounts import service
from crowdship.service.entities.accounts.models import User
from crowdship.service.entities.accounts.schemas import Token, UserCreate, UserPublic
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
