"""Helpers for the money tests: delivered orders written straight into the database (the
settlement under test reads them like any other), and the ledger's invariants."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import insert, select

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.ledger import ledger
from crowdship.service.entities.ledger.models import (
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    TransactionKind,
)
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips.models import Trip, TripStatus


def make_people(
    context: ServiceContext, couriers: int, with_account: int, now: datetime
) -> tuple[int, list[int], int]:
    """A sender, ``couriers`` couriers (the first ``with_account`` with an IBAN), and an
    operator: their ids."""
    with context.db.write() as session:
        operator = User(
            email="operator@books.dev",
            password_hash="-",
            role=Role.OPERATOR,
            name="Operator",
            phone=None,
            active=True,
            created_at=now,
        )
        session.add(operator)
        sender = User(
            email="sender@books.dev",
            password_hash="-",
            role=Role.MERCHANT,
            name="Sender",
            phone="+358401000000",
            active=True,
            created_at=now,
        )
        people = [
            User(
                email=f"courier{k}@books.dev",
                password_hash="-",
                role=Role.COURIER,
                name=f"Courier {k}",
                phone=f"+35840200{k:04d}",
                active=True,
                created_at=now,
                assessment_passed_at=now,
                payout_account="FI7600000000000001" if k < with_account else None,
            )
            for k in range(couriers)
        ]
        session.add(sender)
        session.add_all(people)
        session.commit()
        return sender.id, [p.id for p in people], operator.id


def deliver_orders(
    context: ServiceContext,
    sender_id: int,
    courier_ids: list[int],
    delivered_at: datetime,
    n: int,
    seed: int = 0,
    cod_share: float = 0.3,
) -> list[int]:
    """``n`` orders delivered at ``delivered_at`` on fresh trips of the given couriers."""
    rng = np.random.default_rng(seed)
    fees = rng.integers(300, 3000, size=n)
    with context.db.write() as session:
        trip_ids = list(
            session.scalars(
                insert(Trip).returning(Trip.id, sort_by_parameter_order=True),
                [
                    {
                        "courier_id": courier_ids[k % len(courier_ids)],
                        "origin_lat": 60.17,
                        "origin_lon": 24.93,
                        "destination_lat": 60.18,
                        "destination_lon": 24.95,
                        "earliest_departure": delivered_at - timedelta(hours=1),
                        "latest_arrival": delivered_at + timedelta(hours=1),
                        "status": TripStatus.COMPLETED,
                        "created_at": delivered_at - timedelta(hours=2),
                        "updated_at": delivered_at,
                    }
                    for k in range(n)
                ],
            )
        )
        rows = []
        for k in range(n):
            fee = int(fees[k])
            share = (fee * 80 + 50) // 100
            rows.append(
                {
                    "sender_id": sender_id,
                    "pickup_lat": 60.17,
                    "pickup_lon": 24.93,
                    "pickup_address": "A",
                    "delivery_lat": 60.18,
                    "delivery_lon": 24.95,
                    "delivery_address": "B",
                    "earliest_pickup": delivered_at - timedelta(hours=1),
                    "latest_delivery": delivered_at + timedelta(hours=1),
                    "size": "small",
                    "description": "",
                    "receiver_name": "R",
                    "receiver_phone": "+358409999999",
                    "fee_cents": fee,
                    "courier_cents": share,
                    "platform_cents": fee - share,
                    "fee_breakdown": {"base": fee},
                    "tariff_version": 0,
                    "currency": "EUR",
                    "distance_km": 1.0,
                    "payment_method": (
                        "cash_on_delivery" if rng.random() < cod_share else "prepaid"
                    ),
                    "paid_cents": fee,
                    "paid_at": delivered_at,
                    "status": OrderStatus.DELIVERED,
                    "trip_id": trip_ids[k],
                    "courier_id": courier_ids[k % len(courier_ids)],
                    "accepted_at": delivered_at - timedelta(hours=1),
                    "picked_up_at": delivered_at - timedelta(minutes=30),
                    "delivered_at": delivered_at,
                    "pickup_attempts": 0,
                    "delivery_attempts": 0,
                    "locked": False,
                    "created_at": delivered_at - timedelta(hours=3),
                    "updated_at": delivered_at,
                }
            )
        ids = list(
            session.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), rows)
        )
        session.commit()
    return ids


def assert_books_balance(context: ServiceContext) -> None:
    """The ledger's invariants, checked from the raw rows (the columns read, not ORM objects:
    building thousands of those took most of the check's time)."""
    with context.db.read() as session:
        transactions = session.execute(
            select(LedgerTransaction.order_id, LedgerTransaction.kind, LedgerTransaction.payout_id)
        ).all()
        entries = session.execute(
            select(LedgerEntry.transaction_id, LedgerEntry.account, LedgerEntry.amount_cents)
        ).all()
        orders = session.execute(
            select(
                Order.id,
                Order.status,
                Order.payment_method,
                Order.paid_cents,
                Order.settled_at,
                Order.fee_cents,
                Order.platform_cents,
                Order.courier_cents,
                Order.trip_id,
            )
        ).all()
        payouts = session.execute(
            select(
                Payout.id, Payout.courier_id, Payout.amount_cents, Payout.status, Payout.order_ids
            )
        ).all()
        courier_of = {t: c for t, c in session.execute(select(Trip.id, Trip.courier_id))}

    per_transaction: Counter[int] = Counter()
    balance: Counter[str] = Counter()
    for e in entries:
        per_transaction[e.transaction_id] += e.amount_cents
        balance[e.account] += e.amount_cents
    assert all(v == 0 for v in per_transaction.values()), "a transaction does not balance"
    assert sum(balance.values()) == 0

    settled = [o for o in orders if o.status == OrderStatus.SETTLED]
    # Refunded cash-on-delivery orders whose cash settlement booked as owed by the courier.
    reclaimed = [
        o
        for o in orders
        if o.status == OrderStatus.FAILED
        and o.payment_method == "cash_on_delivery"
        and o.paid_cents is not None
        and o.settled_at is not None
    ]
    reclaimed_ids = {o.id for o in reclaimed}
    kinds = Counter((t.order_id, t.kind) for t in transactions if t.order_id is not None)
    for o in orders:
        expected = 1 if o.status == OrderStatus.SETTLED else 0
        assert kinds[(o.id, TransactionKind.CHARGE)] == expected, f"order {o.id} charges"
        assert kinds[(o.id, TransactionKind.PAYMENT)] == expected, f"order {o.id} payments"
        refund = 1 if o.id in reclaimed_ids else 0
        assert kinds[(o.id, TransactionKind.CASH_REFUND)] == refund, f"order {o.id} refund"
        assert balance[ledger.receivable(o.id)] == 0
    assert balance[ledger.REFUNDS] == -sum(o.fee_cents for o in reclaimed)

    assert balance[ledger.REVENUE] == -sum(o.platform_cents for o in settled)
    paid = [p for p in payouts if p.status == PayoutStatus.PAID]
    prepaid = sum(o.fee_cents for o in settled if o.payment_method == "prepaid")
    assert balance[ledger.CASH] == prepaid - sum(p.amount_cents for p in paid)

    owed: Counter[int] = Counter()
    for o in settled:
        cash = o.fee_cents if o.payment_method == "cash_on_delivery" else 0
        owed[courier_of[o.trip_id]] += o.courier_cents - cash  # type: ignore[index]
    for o in reclaimed:  # the cash they hold for a refunded order comes off their payouts
        owed[courier_of[o.trip_id]] -= o.fee_cents  # type: ignore[index]
    scheduled: Counter[int] = Counter()
    paid_to: Counter[int] = Counter()
    in_payouts: defaultdict[int, int] = defaultdict(int)
    for p in payouts:
        scheduled[p.courier_id] += p.amount_cents
        if p.status == PayoutStatus.PAID:
            paid_to[p.courier_id] += p.amount_cents
        for order_id in p.order_ids:
            in_payouts[order_id] += 1
    nonzero = lambda c: {k: v for k, v in c.items() if v}  # noqa: E731
    assert nonzero(scheduled) == nonzero(owed), "payouts differ from what couriers are owed"
    assert sorted(in_payouts) == sorted(o.id for o in settled + reclaimed)
    assert all(count == 1 for count in in_payouts.values()), "an order in two payouts"
    for courier, amount in owed.items():
        assert balance[ledger.payable(courier)] == -amount + paid_to[courier]
    payout_transactions = Counter(t.payout_id for t in transactions if t.payout_id is not None)
    assert sorted(payout_transactions) == sorted(p.id for p in paid)
