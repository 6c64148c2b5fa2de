"""Every query on settlement runs, payouts and payout runs (the ledger's own entries are
written by ``ledger.book``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from crowdship.service.entities.ledger.models import (
    Payout,
    PayoutRun,
    PayoutStatus,
    SettlementRun,
)


def add_settlement_run(session: Session, **values: Any) -> SettlementRun:
    run = SettlementRun(**values)
    session.add(run)
    session.flush()
    return run


def add_payout_run(session: Session, **values: Any) -> PayoutRun:
    run = PayoutRun(**values)
    session.add(run)
    session.flush()
    return run


def schedule_payouts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(Payout), list(rows))


def due_for_update(session: Session, day: date) -> list[Payout]:
    """Scheduled payouts due by ``day``, locked for the payout run."""
    query = (
        select(Payout)
        .where(Payout.status == PayoutStatus.SCHEDULED, Payout.due_on <= day)
        .order_by(Payout.courier_id, Payout.id)
        .with_for_update()
    )
    return list(session.scalars(query))


def any_payable(session: Session, day: date, with_account: Select[Any]) -> bool:
    """Whether a courier in ``with_account`` (a query of ids) has a positive net due by
    ``day``."""
    query = (
        select(Payout.courier_id)
        .where(
            Payout.status == PayoutStatus.SCHEDULED,
            Payout.due_on <= day,
            Payout.courier_id.in_(with_account),
        )
        .group_by(Payout.courier_id)
        .having(func.sum(Payout.amount_cents) > 0)
        .limit(1)
    )
    return session.scalar(query) is not None


def payout_run(session: Session, run_id: int) -> PayoutRun | None:
    return session.get(PayoutRun, run_id)


def payouts_of_run(session: Session, run_id: int) -> list[Payout]:
    query = select(Payout).where(Payout.payout_run_id == run_id).order_by(Payout.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Scheduled:
    total_cents: int
    next_due_on: date | None


def payouts_of(session: Session, courier_id: int, limit: int) -> list[Payout]:
    query = (
        select(Payout)
        .where(Payout.courier_id == courier_id)
        .order_by(Payout.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def scheduled_of(session: Session, courier_id: int) -> Scheduled:
    row = session.execute(
        select(func.coalesce(func.sum(Payout.amount_cents), 0), func.min(Payout.due_on)).where(
            Payout.courier_id == courier_id, Payout.status == PayoutStatus.SCHEDULED
        )
    ).one()
    return Scheduled(int(row[0]), row[1])


def paid_to(session: Session, courier_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
            Payout.courier_id == courier_id, Payout.status == PayoutStatus.PAID
        )
    )
    return int(total or 0)


def settlement_runs(session: Session, limit: int) -> list[SettlementRun]:
    query = select(SettlementRun).order_by(SettlementRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def payout_runs(session: Session, limit: int) -> list[PayoutRun]:
    return list(session.scalars(select(PayoutRun).order_by(PayoutRun.id.desc()).limit(limit)))
