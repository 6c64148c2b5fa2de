"""Sign-in for the pages: the same access token as ``/auth/token``, in an HttpOnly cookie.

The token never reaches the page's scripts (an injected script cannot steal it) and other
sites never see it (SameSite=Strict). The CSRF cookie is readable by the page on purpose:
it copies it into the ``X-CSRF-Token`` header of every request that changes state.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from crowdship.service.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CommittingRoute,
    Context,
    ReadSession,
    WriteSession,
    client_address,
)
from crowdship.service.entities.accounts import service
from crowdship.service.entities.accounts.models import Role
from crowdship.service.errors import Unauthorized
from crowdship.service.routes.contract import refusals
from crowdship.service.schemas import Password, Text
from crowdship.service.security import read_token

router = APIRouter(route_class=CommittingRoute, tags=["accounts"])


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Text = Field(min_length=1, max_length=254)
    password: Password = Field(min_length=1, max_length=128)


class SessionPublic(BaseModel):
    role: Role
    expires_in: int  # seconds


@router.post("/auth/session", response_model=SessionPublic, responses=refusals(401, 429))
def sign_in(
    request: Request, data: SessionIn, response: Response, session: ReadSession, context: Context
) -> SessionPublic:
    """Sign in a browser: sets the session cookie (HttpOnly) and the CSRF cookie. Attempts
    are limited as at ``POST /auth/token``."""
    settings = context.settings
    context.limits.sign_in(data.email, client_address(request))
    token = service.login(
        session,
        data.email,
        data.password,
        settings.signing_key,
        context.clock.wall(),
        settings.token_minutes,
    )
    secure = settings.public_url.startswith("https://")
    # The cookie lives as long as the token; the token's own expiry is what counts.
    max_age = token.expires_in
    response.set_cookie(
        SESSION_COOKIE,
        token.access_token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(24),
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return SessionPublic(role=token.role, expires_in=token.expires_in)


@router.delete("/auth/session", status_code=204)
def sign_out(
    request: Request, response: Response, session: WriteSession, context: Context
) -> Response:
    """Sign the browser out: the cookie's token is revoked and both cookies are cleared."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            claims = read_token(token, context.settings.signing_key, context.clock.wall())
        except Unauthorized:
            claims = None  # expired or forged: nothing to revoke
        if claims is not None:
            service.logout(session, claims)
            session.commit()
            request.app.state.actors.put_revoked(claims.jti, True)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
