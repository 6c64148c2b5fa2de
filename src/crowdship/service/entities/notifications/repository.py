"""Every query on the notification outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.notifications.models import (
    Notification,
    NotificationStatus,
    OutboxCursor,
)


def enqueue(session: Session, rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Add notifications whose keys are new (a repeated event adds nothing); how many."""
    if not rows:
        return 0
    keys = [r["key"] for r in rows]
    known: set[str] = set()
    for start in range(0, len(keys), 5000):  # stay under the databases' parameter limits
        part = keys[start : start + 5000]
        known |= set(session.scalars(select(Notification.key).where(Notification.key.in_(part))))
    fresh = {r["key"]: r for r in rows if r["key"] not in known}
    if fresh:
        session.execute(
            insert(Notification),
            [
                {
                    **row,
                    "status": NotificationStatus.PENDING,
                    "attempts": 0,
                    "last_error": "",
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for row in fresh.values()
            ],
        )
    return len(fresh)


def claim_many(session: Session, notification_ids: Sequence[int], now: datetime) -> set[int]:
    """pending -> sending, compare-and-set in one statement: only one sender takes a
    notification; returns the ids this sender took. While sending, next_attempt_at holds
    the claim time: release_stale measures from it."""
    if not notification_ids:
        return set()
    result = session.execute(
        update(Notification)
        .where(
            Notification.id.in_(notification_ids),
            Notification.status == NotificationStatus.PENDING,
            Notification.next_attempt_at <= now,
        )
        .values(status=NotificationStatus.SENDING, next_attempt_at=now)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


def due(session: Session, now: datetime, limit: int) -> list[Notification]:
    query = (
        select(Notification)
        .where(
            Notification.status == NotificationStatus.PENDING,
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def finish_many(session: Session, outcomes: Sequence[dict[str, Any]]) -> None:
    """Record many sends at once: each dict has ``id`` and the columns to set (status,
    attempts, last_error, sent_at or next_attempt_at)."""
    if outcomes:
        session.execute(update(Notification), list(outcomes))  # by primary key, executemany


def release_stale(session: Session, before: datetime) -> None:
    """Sends that never finished (the process died mid-send) go back to pending."""
    session.execute(
        update(Notification)
        .where(
            Notification.status == NotificationStatus.SENDING,
            Notification.next_attempt_at < before,
        )
        .values(status=NotificationStatus.PENDING)
        .execution_options(synchronize_session=False)
    )


def get(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id)


def listed(
    session: Session,
    status: NotificationStatus | None,
    recipient_id: int | None,
    order_id: int | None,
    limit: int,
) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Notification.status == status)
    if recipient_id is not None:
        query = query.where(Notification.recipient_id == recipient_id)
    if order_id is not None:
        query = query.where(Notification.order_id == order_id)
    return list(session.scalars(query))


def retry(session: Session, notification_id: int, now: datetime) -> bool:
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == NotificationStatus.FAILED,
        )
        .values(status=NotificationStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def cursor(session: Session, name: str) -> int:
    row = session.get(OutboxCursor, name)
    return row.position if row is not None else 0


def move_cursor(session: Session, name: str, position: int) -> None:
    row = session.get(OutboxCursor, name)
    if row is None:
        session.add(OutboxCursor(name=name, position=position))
    else:
        row.position = position
    session.flush()
