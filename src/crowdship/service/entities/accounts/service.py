"""Sign-up, login and operator creation. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crowdship.service.entities.accounts import passwords, repository
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.accounts.schemas import Token, UserCreate
from crowdship.service.errors import Conflict, Invalid, Unauthorized
from crowdship.service.security import (
    TokenClaims,
    hash_password,
    issue_token,
    verify_password,
)


def register(session: Session, data: UserCreate, now: datetime) -> User:
    """Self sign-up; the password must keep the rules (``passwords``)."""
    passwords.check(data.password, data.email)
    return create_user(
        session, data.email, data.password, Role(data.role), data.name, data.phone, now
    )


def create_user(
    session: Session,
    email: str,
    password: str,
    role: Role,
    name: str,
    phone: str | None,
    now: datetime,
    point_id: int | None = None,
) -> User:
    """A new account (``point_id``: the pickup point a staff member works at)."""
    if repository.by_email(session, email) is not None:
        raise Conflict(f"email {email} is already registered", field="email")
    return repository.add(
        session,
        User(
            email=email.lower(),
            password_hash=hash_password(password),
            role=role,
            name=name,
            phone=phone,
            active=True,
            created_at=now,
            point_id=point_id,
        ),
    )


def login(
    session: Session, email: str, password: str, key: str, now: datetime, minutes: int
) -> Token:
    user = None if "\x00" in email else repository.by_email(session, email)
    # Same answer for an unknown email and a wrong password: no account probing.
    if user is None or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong email or password")
    if not user.active:
        raise Unauthorized("this account is disabled")
    return Token(
        access_token=issue_token(
            user.id, user.role.value, key, now, minutes, user.token_generation
        ),
        expires_in=minutes * 60,
        role=user.role,
    )


def check_password(password: str, email: str) -> None:
    """Invalid (422 naming ``password``) if it breaks the rules."""
    passwords.check(password, email)


def logout(session: Session, claims: TokenClaims) -> None:
    """This token stops working (others of the account go on)."""
    if claims.jti is not None:
        repository.revoke_token(session, claims.jti, claims.user_id, claims.expires_at)


def is_revoked(session: Session, jti: str) -> bool:
    return repository.is_revoked(session, jti)


def forget_expired_revocations(session: Session, now: datetime) -> int:
    return repository.forget_expired_revocations(session, now)


def change_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    key: str,
    now: datetime,
    minutes: int,
) -> Token:
    """A new password: every token issued before stops working; a fresh one is returned."""
    user = repository.get(session, actor.id)
    if user is None or not user.active:
        raise Unauthorized("this account does not exist or is disabled")
    if not verify_password(user.password_hash, current):
        raise Invalid("current_password", "is not this account's password")
    passwords.check(new, user.email, field="new_password")
    if new == current:
        raise Invalid("new_password", "is the current password")
    user.password_hash = hash_password(new)
    user.token_generation += 1
    session.flush()
    return Token(
        access_token=issue_token(
            user.id, user.role.value, key, now, minutes, user.token_generation
        ),
        expires_in=minutes * 60,
        role=user.role,
    )


def me(session: Session, actor: Actor) -> User:
    """The calling account."""
    user = repository.get(session, actor.id)
    if user is None:
        raise Unauthorized("this account does not exist or is disabled")
    return user


def actor_of(session: Session, user_id: int) -> Actor | None:
    """Who an active account is, for checking role and ownership; None if it is gone or
    disabled."""
    user = repository.get(session, user_id)
    if user is None or not user.active:
        return None
    return Actor(
        id=user.id,
        role=user.role,
        name=user.name,
        phone=user.phone,
        point_id=user.point_id,
        token_generation=user.token_generation,
    )
