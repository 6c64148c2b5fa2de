"""Every query on the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdship.service.entities.audit.models import AuditEntry


def add(session: Session, entry: AuditEntry) -> AuditEntry:
    session.add(entry)
    session.flush()
    return entry


def page(session: Session, actor_id: int | None, limit: int, offset: int) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return session.scalars(query).all()
