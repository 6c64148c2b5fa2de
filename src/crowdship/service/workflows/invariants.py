"""What must hold in the database whatever happened: retries, races, crashes, outages.

``check`` reads the raw rows and lists every violation it finds, in words an operator can
act on. It backs ``crowdship db check``, the load benchmark's verdict and the fault tests:

- every order's events form one chain, from its posting to its status now (two couriers
  taking one order, or a step lost or applied twice, break it);
- no trip carries more parcel units at once than its capacity: every order it carries
  (accepted or picked up, not yet delivered) takes one unit (``routing.units_of``) from
  acceptance to delivery, so this bounds the load at every stop of its route, whatever
  the order of stops (a route is planned from what the trip carries, issue 15);
- every ledger transaction balances, and so does the whole ledger;
- every settled order is charged and paid exactly once, every other order not at all
  (a cash order given up after settlement has its one refund), and no order is in two
  payouts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdship.service.entities.ledger.models import (
    LedgerEntry,
    LedgerTransaction,
    Payout,
    TransactionKind,
)
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.trips.models import Trip

ON_BOARD = (OrderStatus.ACCEPTED, OrderStatus.PICKED_UP)
# Listing every violation of a broken database would drown the first ones.
MOST = 20


@dataclass
class Verdict:
    orders: int = 0
    events: int = 0
    transactions: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, problem: str) -> None:
        if len(self.violations) < MOST:
            self.violations.append(problem)
        elif len(self.violations) == MOST:
            self.violations.append("... and more")


def check(session: Session) -> Verdict:
    verdict = Verdict()
    _chains(session, verdict)
    _loads(session, verdict)
    _books(session, verdict)
    return verdict


def _chains(session: Session, verdict: Verdict) -> None:
    status_of = {i: s for i, s in session.execute(select(Order.id, Order.status))}
    verdict.orders = len(status_of)
    last: dict[int, OrderStatus | None] = {}
    rows = session.execute(
        select(OrderEvent.order_id, OrderEvent.action, OrderEvent.from_status, OrderEvent.to_status)
        .order_by(OrderEvent.order_id, OrderEvent.id)
        .execution_options(yield_per=10_000)
    )
    for order_id, action, before, after in rows:
        verdict.events += 1
        if order_id not in status_of:
            verdict.add(f"event {action} of order {order_id}, which does not exist")
            continue
        expected = last.get(order_id)
        if order_id in last and before != expected or order_id not in last and before is not None:
            verdict.add(
                f"order {order_id}: {action} from {_name(before)} follows a step to "
                f"{_name(expected)} (a step lost or applied twice)"
            )
        last[order_id] = after
    for order_id, status in status_of.items():
        if order_id not in last:
            verdict.add(f"order {order_id} has no events (its posting was not recorded)")
        elif last[order_id] != status:
            verdict.add(
                f"order {order_id} is {_name(status)}, but its last event leads to "
                f"{_name(last[order_id])}"
            )


def _loads(session: Session, verdict: Verdict) -> None:
    carried = (
        select(Order.trip_id, func.count().label("orders"), Trip.capacity)
        .join(Trip, Trip.id == Order.trip_id)
        .where(Order.status.in_(ON_BOARD))
        .group_by(Order.trip_id, Trip.capacity)
    )
    for trip_id, orders, capacity in session.execute(carried):
        if orders > capacity:
            verdict.add(f"trip {trip_id} carries {orders} orders at once, capacity {capacity}")


def _books(session: Session, verdict: Verdict) -> None:
    per_transaction: Counter[int] = Counter()
    total = 0
    for transaction_id, amount in session.execute(
        select(LedgerEntry.transaction_id, LedgerEntry.amount_cents)
    ):
        per_transaction[transaction_id] += amount
        total += amount
    for transaction_id, amount in per_transaction.items():
        if amount:
            verdict.add(f"ledger transaction {transaction_id} is off by {amount} cents")
    if total:
        verdict.add(f"the ledger is off by {total} cents in all")

    kinds: Counter[tuple[int | None, str]] = Counter()
    for order_id, kind in session.execute(
        select(LedgerTransaction.order_id, LedgerTransaction.kind).where(
            LedgerTransaction.order_id.is_not(None)
        )
    ):
        verdict.transactions += 1
        kinds[(order_id, kind)] += 1
    orders = session.execute(select(Order.id, Order.status, Order.payment_method, Order.settled_at))
    for order_id, status, method, settled_at in orders:
        settled = status == OrderStatus.SETTLED
        for kind in (TransactionKind.CHARGE, TransactionKind.PAYMENT):
            count = kinds[(order_id, kind)]
            if count != int(settled):
                verdict.add(
                    f"order {order_id} ({_name(status)}) has {count} {kind.value} "
                    f"transactions, expected {int(settled)}"
                )
        reclaimed = (
            status == OrderStatus.FAILED and method == "cash_on_delivery" and settled_at is not None
        )
        refunds = kinds[(order_id, TransactionKind.CASH_REFUND)]
        if refunds > int(reclaimed):
            verdict.add(f"order {order_id} has {refunds} cash refunds")

    in_payouts: defaultdict[int, int] = defaultdict(int)
    for (order_ids,) in session.execute(select(Payout.order_ids)):
        for order_id in order_ids:
            in_payouts[order_id] += 1
    for order_id, count in in_payouts.items():
        if count > 1:
            verdict.add(f"order {order_id} is in {count} payouts")


def _name(status: OrderStatus | None) -> str:
    return "nothing" if status is None else status.value
