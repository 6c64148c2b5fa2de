"""Only one matching job at a time, across every service process.

PostgreSQL: a session-level advisory lock, held on its own connection for the run (freed
by the server if the process dies). SQLite: a lease row taken by compare-and-set, with an
expiry so a crashed holder cannot block the job for ever; a holder that died on this
machine is taken over at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crowdship.service.db import Base, Database, UtcDateTime


class JobLease(Base):
    """A named lease so only one process runs a job at a time on SQLite (PostgreSQL uses an
    advisory lock instead)."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


LEASE = timedelta(minutes=15)


@contextmanager
def job_lock(db: Database, name: str) -> Iterator[bool]:
    """Yields True if this process now holds the named lock, False if another does."""
    if db.is_sqlite:
        with _lease(db, name) as held:
            yield held
        return
    with db.engine.connect() as connection:
        # Advisory locks are database-wide; the schema in the key keeps two deployments
        # (or test runs) in different schemas of one database from blocking each other.
        key = int(
            connection.scalar(
                text("SELECT hashtext(current_schema() || ':crowdship:' || :name)"),
                {"name": name},
            )
        )
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()


@contextmanager
def _lease(db: Database, name: str) -> Iterator[bool]:
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)  # wall time: leases guard real processes, not simulated time
    with db.write() as session:
        taken = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.expires_at <= now)
            .values(holder=holder, expires_at=now + LEASE)
        ).rowcount  # type: ignore[attr-defined]
        if not taken:
            try:
                with session.begin_nested():
                    session.execute(
                        insert(JobLease).values(name=name, holder=holder, expires_at=now + LEASE)
                    )
                taken = 1
            except IntegrityError:
                taken = _take_from_dead_holder(session, name, holder, now)
        session.commit()
    try:
        yield bool(taken)
    finally:
        if taken:
            with db.write() as session:
                session.execute(
                    delete(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                )
                session.commit()


def _dead_here(holder: str) -> bool:
    """The holder was a process on this machine that no longer exists (killed, crashed)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def _take_from_dead_holder(session: Session, name: str, holder: str, now: datetime) -> int:
    """A lease whose holder died on this machine need not be waited out."""
    current = session.scalar(select(JobLease.holder).where(JobLease.name == name))
    if current is None or not _dead_here(current):
        return 0
    return int(
        session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == current)
            .values(holder=holder, expires_at=now + LEASE)
        ).rowcount  # type: ignore[attr-defined]
    )
