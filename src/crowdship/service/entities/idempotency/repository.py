"""Every query on idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crowdship.service.entities.idempotency.models import IdempotencyKey


def claim(
    session: Session, account_id: int, key: str, request_hash: str, request: str, now: datetime
) -> bool:
    """Take the key for this request, unless the account used it before: True if taken.

    An INSERT that does nothing on conflict: on PostgreSQL a second request with the same
    key waits here until the first one's transaction ends, then sees its answer."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(IdempotencyKey)
        .values(
            account_id=account_id,
            key=key,
            request_hash=request_hash,
            request=request,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "key"])
        .returning(IdempotencyKey.id)
    )
    return session.execute(statement).first() is not None


def find(session: Session, account_id: int, key: str) -> IdempotencyKey | None:
    query = select(IdempotencyKey).where(
        IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
    )
    return session.scalars(query).one_or_none()


def forget_before(session: Session, cutoff: datetime) -> int:
    """Drop the keys taken before ``cutoff``; how many."""
    result = session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def record(session: Session, account_id: int, key: str, status_code: int, body: str) -> None:
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key)
        .values(status_code=status_code, body=body)
        .execution_options(synchronize_session=False)
    )
