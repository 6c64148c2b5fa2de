"""The ledger and payouts.

Every money movement is a ``LedgerTransaction`` whose ``LedgerEntry`` amounts sum to zero
(debits positive, credits negative). Accounts are named strings:

- ``receivable:order:{id}``   what the payer of an order owes for it
- ``revenue:platform``        the platform's share of fees
- ``payable:courier:{id}``    between the platform and a courier: a credit (negative) is
                              what the platform owes the courier, a debit what they owe it
- ``cash:platform``           money in the platform's bank account
- ``payable:refunds``         refunds owed to payers (cash a courier collected on an order
                              refunded since; the courier owes it, the payer gets it back)

Every amount is a BigInteger: a payout, a run's total and the entry that pays them sum many
orders and pass 32 bits.

Unique keys make double booking impossible: one charge and one payment per order (or one
cash refund), one payout transaction per payout.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowdship.service.db import Base, UtcDateTime, enum_column


class TransactionKind(enum.StrEnum):
    CHARGE = "charge"  # the fee: payer owes it; split into revenue and courier payable
    PAYMENT = "payment"  # the payer paid (prepaid: to the platform; cash: to the courier)
    PAYOUT = "payout"  # the platform paid the courier
    CASH_REFUND = "cash_refund"  # a refunded order's cash: owed by the courier to the payer


class PayoutStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"


class SettlementRun(Base):
    __tablename__ = "settlement_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # orders delivered up to this day
    trigger: Mapped[str] = mapped_column(String(16))  # cli | scheduled | operator
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    orders: Mapped[int] = mapped_column(Integer)
    held_back: Mapped[int] = mapped_column(Integer)  # disputed
    payouts: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)  # fees charged


class PayoutRun(Base):
    __tablename__ = "payout_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # pays payouts due on or before
    trigger: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payouts: Mapped[int] = mapped_column(Integer)
    couriers: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    file: Mapped[str] = mapped_column(String(500), default="")


class Payout(Base):
    """What one settlement run owes one courier, due on ``due_on`` (T+2)."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("settlement_run_id", "courier_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    settlement_run_id: Mapped[int] = mapped_column(ForeignKey("settlement_runs.id"))
    settled_day: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # may be < 0 after cash collections
    order_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[PayoutStatus] = mapped_column(enum_column(PayoutStatus), index=True)
    payout_run_id: Mapped[int | None] = mapped_column(ForeignKey("payout_runs.id"), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    account: Mapped[str | None] = mapped_column(String(64))  # where it was paid


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_ledger_transactions_order_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), unique=True)
    settlement_run_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_runs.id"))
    payout_run_id: Mapped[int | None] = mapped_column(ForeignKey("payout_runs.id"))
    booked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    memo: Mapped[str] = mapped_column(String(200), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # debit > 0, credit < 0
