"""Double-entry bookkeeping: every transaction's entries sum to zero."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crowdship.service.entities.ledger.models import LedgerEntry, LedgerTransaction

REVENUE = "revenue:platform"
CASH = "cash:platform"


def receivable(order_id: int) -> str:
    return f"receivable:order:{order_id}"


def payable(courier_id: int) -> str:
    return f"payable:courier:{courier_id}"


class Unbalanced(ValueError):
    pass


def book(
    session: Session,
    transactions: Sequence[tuple[dict[str, Any], list[tuple[str, int]]]],
) -> list[int]:
    """Write transactions (their columns, their (account, cents) entries) in bulk; refuses
    any whose entries do not sum to zero. Returns the new transaction ids in order."""
    for columns, entries in transactions:
        if sum(amount for _, amount in entries) != 0:
            raise Unbalanced(f"transaction {columns} does not balance: {entries}")
    if not transactions:
        return []
    ids = list(
        session.scalars(
            insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
            [columns for columns, _ in transactions],
        )
    )
    session.execute(
        insert(LedgerEntry),
        [
            {"transaction_id": tid, "account": account, "amount_cents": amount}
            for tid, (_, entries) in zip(ids, transactions, strict=True)
            for account, amount in entries
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


def unbalanced_transactions(session: Session) -> list[int]:
    """Ids of transactions whose entries do not sum to zero (must always be empty)."""
    query = (
        select(LedgerEntry.transaction_id)
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount_cents) != 0)
    )
    return list(session.scalars(query))
