from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdship.service.entities.accounts.models import User


def by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def add(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user
