"""Recording and reading the audit log. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.audit import repository
from crowdship.service.entities.audit.models import AuditEntry


def record(
    session: Session, actor_id: int, method: str, path: str, status: int, address: str, at: datetime
) -> AuditEntry:
    return repository.add(
        session,
        AuditEntry(
            at=at,
            actor_id=actor_id,
            method=method[:8],
            path=path[:500],
            status=status,
            address=address[:64],
        ),
    )


def entries(
    session: Session, actor: Actor, actor_id: int | None, limit: int, offset: int
) -> Sequence[AuditEntry]:
    """Newest first; operators only."""
    actor.require(Role.OPERATOR)
    return repository.page(session, actor_id, limit, offset)
