"""Every query on accounts and assessment attempts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from crowdship.service.entities.accounts.attempts import AssessmentAttempt, AssessmentPolicy
from crowdship.service.entities.accounts.models import RevokedToken, Role, User


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def by_phones(session: Session, phones: Iterable[str]) -> dict[str, User]:
    """Accounts by phone number (receivers with an account choose their channel)."""
    wanted = set(phones)
    if not wanted:
        return {}
    return {
        u.phone: u for u in session.scalars(select(User).where(User.phone.in_(wanted))) if u.phone
    }


def by_ids(session: Session, user_ids: Iterable[int]) -> dict[int, User]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def add(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def courier(session: Session, courier_id: int, for_update: bool = False) -> User | None:
    query = select(User).where(User.id == courier_id, User.role == Role.COURIER)
    return session.scalars(query.with_for_update() if for_update else query).first()


def couriers(session: Session, courier_ids: Sequence[int] | None) -> list[User]:
    """The couriers with these ids (all couriers for None), by id."""
    query = select(User).where(User.role == Role.COURIER).order_by(User.id)
    if courier_ids is not None:
        query = query.where(User.id.in_(courier_ids))
    return list(session.scalars(query))


def working_couriers(require_assessment: bool) -> Select[Any]:
    """A query of the couriers who may work now: not suspended and (if required) assessed."""
    query = select(User.id).where(User.role == Role.COURIER, User.suspended_at.is_(None))
    if require_assessment:
        query = query.where(User.assessment_passed_at.is_not(None))
    return query


@dataclass(frozen=True)
class Payee:
    id: int
    name: str
    payout_account: str | None


def payees(session: Session, user_ids: Iterable[int]) -> dict[int, Payee]:
    query = select(User.id, User.name, User.payout_account).where(User.id.in_(set(user_ids)))
    return {row.id: Payee(*row) for row in session.execute(query)}


def with_payout_account() -> Select[Any]:
    """A query of the users who have bound a payout account."""
    return select(User.id).where(User.payout_account.is_not(None))


# -- assessment attempts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attempts:
    count: int
    last_at: datetime | None


def attempts(session: Session, courier_id: int) -> Attempts:
    row = session.execute(
        select(func.count(), func.max(AssessmentAttempt.at)).where(
            AssessmentAttempt.courier_id == courier_id
        )
    ).one()
    last_at = row[1]
    if last_at is not None and last_at.tzinfo is None:  # SQLite's MAX() loses the column type
        last_at = last_at.replace(tzinfo=UTC)
    return Attempts(int(row[0]), last_at)


def add_attempt(session: Session, attempt: AssessmentAttempt) -> AssessmentAttempt:
    session.add(attempt)
    session.flush()
    return attempt


def newest_policy(session: Session) -> AssessmentPolicy | None:
    query = select(AssessmentPolicy).order_by(AssessmentPolicy.id.desc()).limit(1)
    return session.scalars(query).first()


def add_policy(session: Session, policy: AssessmentPolicy) -> AssessmentPolicy:
    session.add(policy)
    session.flush()
    return policy


def with_email_domain(session: Session, domain: str) -> list[User]:
    """Accounts whose email ends with ``domain`` (the demo's people), by id."""
    return list(session.scalars(select(User).where(User.email.endswith(domain)).order_by(User.id)))


def revoke_token(session: Session, jti: str, user_id: int, expires_at: datetime) -> None:
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, user_id=user_id, expires_at=expires_at))
        session.flush()


def is_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def forget_expired_revocations(session: Session, now: datetime) -> int:
    """Revoked tokens past their expiry are refused anyway: no need to remember them."""
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
