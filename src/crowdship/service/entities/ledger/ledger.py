"""Double-entry bookkeeping: every transaction's entries sum to zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crowdship.service.entities.ledger.models import LedgerEntry, LedgerTransaction

REVENUE = "revenue:platform"
CASH = "cash:platform"
REFUNDS = "payable:refunds"


def receivable(order_id: int) -> str:
    return f"receivable:order:{order_id}"


def payable(courier_id: int) -> str:
    return f"payable:courier:{courier_id}"


class Unbalanced(ValueError):
    pass


@dataclass(frozen=True)
class Booking:
    """One transaction to book: its columns (kind, order or payout, memo, ...) and its
    entries, ``(account, cents)`` that must sum to zero."""

    columns: dict[str, Any]
    entries: list[tuple[str, int]]


def book(session: Session, bookings: Sequence[Booking]) -> list[int]:
    """Write transactions and their entries in bulk; refuses any whose entries do not sum to
    zero. Returns the new transaction ids in order."""
    for b in bookings:
        if sum(amount for _, amount in b.entries) != 0:
            raise Unbalanced(f"transaction {b.columns} does not balance: {b.entries}")
    if not bookings:
        return []
    ids = list(
        session.scalars(
            insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
            [b.columns for b in bookings],
        )
    )
    session.execute(
        insert(LedgerEntry),
        [
            {"transaction_id": tid, "account": account, "amount_cents": amount}
            for tid, b in zip(ids, bookings, strict=True)
            for account, amount in b.entries
            if amount != 0
        ],
    )
    return ids


def balances(session: Session, prefix: str = "") -> dict[str, int]:
    """Account -> balance (debits minus credits)."""
    query = select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents)).group_by(
        LedgerEntry.account
    )
    if prefix:
        query = query.where(LedgerEntry.account.startswith(prefix))
    return {account: int(total) for account, total in session.execute(query)}
