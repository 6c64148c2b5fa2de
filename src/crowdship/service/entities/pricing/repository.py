"""Tariff versions: every change is a new row; the newest is in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdship.service.entities.pricing.models import TariffVersion


def newest(session: Session) -> TariffVersion | None:
    query = select(TariffVersion).order_by(TariffVersion.id.desc()).limit(1)
    return session.scalars(query).first()


def add(session: Session, body: dict[str, Any], by: int, now: datetime) -> int:
    row = TariffVersion(created_at=now, created_by=by, body=body)
    session.add(row)
    session.flush()
    return row.id
