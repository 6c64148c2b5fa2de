"""Daily settlement, T+2 payouts, wallets.

``settle(day)`` books every delivered order up to the end of local day ``day`` that is not
yet settled (disputed orders are held back until the operator resolves them) and schedules
one payout per courier, due ``payout_date(day)``. ``pay_out(day)`` pays every scheduled
payout due by ``day`` to the courier's bound account and writes the run's CSV.

Each run is one database transaction: killed half-way, it leaves nothing behind, and run
again it books only what is not booked yet. Unique keys in the ledger (one charge and one
payment per order, one transaction per payout) make double payment impossible even if two
runs raced past the job lock."""

from __future__ import annotations

import csv
import io
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.ledger import ledger
from crowdship.service.entities.ledger.calendar import day_end_utc, payout_date
from crowdship.service.entities.ledger.models import (
    Payout,
    PayoutRun,
    PayoutStatus,
    SettlementRun,
    TransactionKind,
)
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.trips.models import Trip
from crowdship.service.errors import Conflict, NotFound
from crowdship.service.lock import job_lock

log = logging.getLogger("crowdship.settlement")
Progress = Callable[[int, int], None]  # (done, total)
CHUNK = 500


@dataclass(frozen=True)
class SettleOutcome:
    run: SettlementRun | None  # None: nothing to settle
    held_back: int  # disputed orders waiting for the operator


@dataclass(frozen=True)
class PayoutOutcome:
    run: PayoutRun | None  # None: nothing to pay
    file: Path | None
    held: dict[int, int]  # courier -> cents waiting for a bound account
    carried: dict[int, int]  # courier -> net <= 0 (cash collected), carried forward


# -- settlement ------------------------------------------------------------------------


def settle(
    context: ServiceContext, day: date, trigger: str, progress: Progress | None = None
) -> SettleOutcome:
    with job_lock(context.db, "settlement") as held:
        if not held:
            raise Conflict("a settlement run is in progress; try again shortly", status="running")
        return _settle(context, day, trigger, progress)


def _settle(
    context: ServiceContext, day: date, trigger: str, progress: Progress | None
) -> SettleOutcome:
    settings = context.settings
    end = day_end_utc(day, settings.zone)
    now = context.clock.now()
    if end > now:
        raise Conflict(
            f"day {day} is not over yet ({settings.timezone}); settle it after midnight",
            status="open",
        )
    with context.db.write() as session:
        rows = session.execute(
            select(
                Order.id,
                Order.fee_cents,
                Order.courier_cents,
                Order.platform_cents,
                Order.payment_method,
                Trip.courier_id,
            )
            .join(Trip, Trip.id == Order.trip_id)
            .where(Order.status == OrderStatus.DELIVERED, Order.delivered_at < end)
            .order_by(Order.id)
            .with_for_update(of=Order)
        ).all()
        held_back = int(
            session.scalar(
                select(func.count()).where(
                    Order.status == OrderStatus.DISPUTED, Order.delivered_at < end
                )
            )
            or 0
        )
        if not rows:
            log.debug("settlement %s: nothing to settle (%d disputed held back)", day, held_back)
            return SettleOutcome(None, held_back)
        log.info("settlement %s: booking %d orders (%d held back)", day, len(rows), held_back)
        run = SettlementRun(
            day=day,
            trigger=trigger,
            started_at=now,
            orders=len(rows),
            held_back=held_back,
            payouts=0,
            total_cents=sum(r.fee_cents for r in rows),
        )
        session.add(run)
        session.flush()
        owed: dict[int, int] = defaultdict(int)
        orders_of: dict[int, list[int]] = defaultdict(list)
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            _book_orders(session, run.id, chunk, now)
            for r in chunk:
                cash = r.fee_cents if r.payment_method == "cash_on_delivery" else 0
                owed[r.courier_id] += r.courier_cents - cash
                orders_of[r.courier_id].append(r.id)
            if progress is not None:
                progress(start + len(chunk), len(rows))
        due = payout_date(day, settings.payout_delay_days, settings.business_days)
        session.execute(
            insert(Payout),
            [
                {
                    "courier_id": courier_id,
                    "settlement_run_id": run.id,
                    "settled_day": day,
                    "due_on": due,
                    "amount_cents": owed[courier_id],
                    "order_ids": orders_of[courier_id],
                    "status": PayoutStatus.SCHEDULED,
                }
                for courier_id in sorted(owed)
            ],
        )
        run.payouts = len(owed)
        session.commit()
    log.info(
        "settlement %s: run %d booked %d orders, %s charged, %d payouts due %s",
        day,
        run.id,
        run.orders,
        _money(run.total_cents, settings.currency),
        run.payouts,
        due,
    )
    return SettleOutcome(run, held_back)


def _book_orders(session: Session, run_id: int, rows: Sequence[Any], now: datetime) -> None:
    ids = [r.id for r in rows]
    moved = session.execute(
        update(Order)
        .where(Order.id.in_(ids), Order.status == OrderStatus.DELIVERED)
        .values(status=OrderStatus.SETTLED, settled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved != len(ids):  # cannot happen under the row locks; refuse rather than guess
        raise Conflict("orders changed while they were settled; the run is rolled back")
    transactions = []
    for r in rows:
        refs = {"order_id": r.id, "settlement_run_id": run_id, "booked_at": now}
        transactions.append(
            (
                {**refs, "kind": TransactionKind.CHARGE, "memo": f"fee of order {r.id}"},
                [
                    (ledger.receivable(r.id), r.fee_cents),
                    (ledger.REVENUE, -r.platform_cents),
                    (ledger.payable(r.courier_id), -r.courier_cents),
                ],
            )
        )
        if r.payment_method == "cash_on_delivery":  # the courier holds the cash
            paid_to, memo = ledger.payable(r.courier_id), f"cash collected for order {r.id}"
        else:
            paid_to, memo = ledger.CASH, f"prepaid order {r.id}"
        transactions.append(
            (
                {**refs, "kind": TransactionKind.PAYMENT, "memo": memo},
                [(paid_to, r.fee_cents), (ledger.receivable(r.id), -r.fee_cents)],
            )
        )
    ledger.book(session, transactions)
    session.execute(
        insert(OrderEvent),
        [
            {
                "order_id": r.id,
                "at": now,
                "actor_id": None,
                "action": Action.SETTLE.value,
                "from_status": OrderStatus.DELIVERED,
                "to_status": OrderStatus.SETTLED,
                "trip_id": None,
                "note": f"settlement run {run_id}",
            }
            for r in rows
        ],
    )


# -- payouts ---------------------------------------------------------------------------


def pay_out(
    context: ServiceContext, day: date, trigger: str, out_dir: Path | None = None
) -> PayoutOutcome:
    with job_lock(context.db, "payouts") as held:
        if not held:
            raise Conflict("a payout run is in progress; try again shortly", status="running")
        return _pay_out(context, day, trigger, out_dir or context.settings.resolved_payout_dir)


def _pay_out(context: ServiceContext, day: date, trigger: str, out_dir: Path) -> PayoutOutcome:
    now = context.clock.now()
    currency = context.settings.currency
    with context.db.write() as session:
        due = list(
            session.scalars(
                select(Payout)
                .where(Payout.status == PayoutStatus.SCHEDULED, Payout.due_on <= day)
                .order_by(Payout.courier_id, Payout.id)
                .with_for_update()
            )
        )
        by_courier: dict[int, list[Payout]] = defaultdict(list)
        for payout in due:
            by_courier[payout.courier_id].append(payout)
        people = session.execute(
            select(User.id, User.payout_account, User.name).where(User.id.in_(by_courier))
        ).all()
        accounts = {p.id: p.payout_account for p in people}
        names = {p.id: p.name for p in people}
        held: dict[int, int] = {}
        carried: dict[int, int] = {}
        paying: dict[int, list[Payout]] = {}
        for courier_id, payouts in by_courier.items():
            total = sum(p.amount_cents for p in payouts)
            if not accounts.get(courier_id):
                held[courier_id] = total
            elif total <= 0:
                carried[courier_id] = total
            else:
                paying[courier_id] = payouts
        if not paying:
            log.debug(
                "payouts %s: nothing to pay (%d couriers without an account, %d carried)",
                day,
                len(held),
                len(carried),
            )
            return PayoutOutcome(None, None, held, carried)
        log.info(
            "payouts %s: paying %d couriers (%d without an account held, %d carried)",
            day,
            len(paying),
            len(held),
            len(carried),
        )
        run = PayoutRun(
            day=day,
            trigger=trigger,
            started_at=now,
            payouts=sum(len(p) for p in paying.values()),
            couriers=len(paying),
            total_cents=sum(p.amount_cents for ps in paying.values() for p in ps),
        )
        session.add(run)
        session.flush()
        transactions = []
        for courier_id, payouts in paying.items():
            for p in payouts:
                p.status, p.payout_run_id = PayoutStatus.PAID, run.id
                p.paid_at, p.account = now, accounts[courier_id]
                transactions.append(
                    (
                        {
                            "kind": TransactionKind.PAYOUT,
                            "payout_id": p.id,
                            "payout_run_id": run.id,
                            "booked_at": now,
                            "memo": f"payout {p.id} to courier {courier_id}",
                        },
                        [
                            (ledger.payable(courier_id), p.amount_cents),
                            (ledger.CASH, -p.amount_cents),
                        ],
                    )
                )
        session.flush()
        ledger.book(session, transactions)
        final = out_dir / f"payouts-{day}-run{run.id}.csv"
        run.file = str(final)
        # The file is written before the commit and renamed into place after it: a crash
        # leaves either no run and a stray temporary file, or the run (re-export it with
        # `crowdship payouts export`).
        temporary = _write_csv(out_dir, final.name, _csv_rows(paying, accounts, names, currency))
        try:
            session.commit()
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    os.replace(temporary, final)
    log.info(
        "payouts %s: run %d paid %s to %d couriers (%d payouts); file %s",
        day,
        run.id,
        _money(run.total_cents, currency),
        run.couriers,
        run.payouts,
        final,
    )
    return PayoutOutcome(run, final, held, carried)


CSV_HEADER = [
    "courier_id",
    "courier_name",
    "account",
    "amount_cents",
    "currency",
    "orders",
    "order_ids",
]


def _csv_rows(
    paying: dict[int, list[Payout]],
    accounts: dict[int, str | None],
    names: dict[int, str],
    currency: str,
) -> list[list[object]]:
    rows: list[list[object]] = []
    for courier_id in sorted(paying):
        payouts = paying[courier_id]
        order_ids = [o for p in payouts for o in p.order_ids]
        rows.append(
            [
                courier_id,
                names.get(courier_id, ""),
                accounts[courier_id],
                sum(p.amount_cents for p in payouts),
                currency,
                len(order_ids),
                " ".join(map(str, order_ids)),
            ]
        )
    return rows


def _write_csv(out_dir: Path, name: str, rows: list[list[object]]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
    with os.fdopen(handle, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def _run_rows(context: ServiceContext, run_id: int) -> tuple[PayoutRun, list[list[object]]]:
    """A payout run and its CSV rows, from the database."""
    with context.db.read() as session:
        run = session.get(PayoutRun, run_id)
        if run is None:
            raise NotFound(f"payout run {run_id} not found")
        payouts = list(
            session.scalars(
                select(Payout).where(Payout.payout_run_id == run_id).order_by(Payout.id)
            )
        )
        paying: dict[int, list[Payout]] = defaultdict(list)
        for p in payouts:
            paying[p.courier_id].append(p)
        accounts = {p.courier_id: p.account for p in payouts}
        names = {
            i: n for i, n in session.execute(select(User.id, User.name).where(User.id.in_(paying)))
        }
    return run, _csv_rows(paying, accounts, names, context.settings.currency)


def export_csv(context: ServiceContext, run_id: int, out_dir: Path | None = None) -> Path:
    """(Re)write the CSV of a payout run from the database."""
    run, rows = _run_rows(context, run_id)
    folder = out_dir or context.settings.resolved_payout_dir
    final = folder / f"payouts-{run.day}-run{run.id}.csv"
    os.replace(_write_csv(folder, final.name, rows), final)
    return final


def csv_text(context: ServiceContext, run_id: int) -> str:
    """The run's CSV, rendered in memory (reading it writes no file)."""
    _, rows = _run_rows(context, run_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Wallet:
    currency: str
    pending_cents: int  # delivered, not yet settled: net of cash collected
    cash_collected_cents: int  # part of pending: cash-on-delivery fees you hold
    held_cents: int  # disputed
    due_cents: int  # settled, payout scheduled
    next_due_on: date | None
    paid_cents: int
    payouts: list[Payout]


def wallet(session: Session, context: ServiceContext, actor: Actor) -> Wallet:
    actor.require(Role.COURIER)
    mine = select(Trip.id).where(Trip.courier_id == actor.id)
    unsettled = session.execute(
        select(Order.status, Order.payment_method, Order.fee_cents, Order.courier_cents).where(
            Order.trip_id.in_(mine),
            Order.status.in_([OrderStatus.DELIVERED, OrderStatus.DISPUTED]),
        )
    ).all()
    pending = cash = held = 0
    for status, method, fee, share in unsettled:
        collected = fee if method == "cash_on_delivery" else 0
        if status == OrderStatus.DELIVERED:
            pending += share - collected
            cash += collected
        else:
            held += share - collected
    payouts = list(
        session.scalars(
            select(Payout)
            .where(Payout.courier_id == actor.id)
            .order_by(Payout.id.desc())
            .limit(100)
        )
    )
    scheduled = session.execute(
        select(func.coalesce(func.sum(Payout.amount_cents), 0), func.min(Payout.due_on)).where(
            Payout.courier_id == actor.id, Payout.status == PayoutStatus.SCHEDULED
        )
    ).one()
    paid = session.scalar(
        select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
            Payout.courier_id == actor.id, Payout.status == PayoutStatus.PAID
        )
    )
    return Wallet(
        currency=context.settings.currency,
        pending_cents=pending,
        cash_collected_cents=cash,
        held_cents=held,
        due_cents=int(scheduled[0]),
        next_due_on=scheduled[1],
        paid_cents=int(paid or 0),
        payouts=payouts,
    )


def settlement_runs(session: Session, actor: Actor, limit: int) -> list[SettlementRun]:
    actor.require(Role.OPERATOR)
    return list(
        session.scalars(select(SettlementRun).order_by(SettlementRun.id.desc()).limit(limit))
    )


def payout_runs(session: Session, actor: Actor, limit: int) -> list[PayoutRun]:
    actor.require(Role.OPERATOR)
    return list(session.scalars(select(PayoutRun).order_by(PayoutRun.id.desc()).limit(limit)))


# -- the daily job ---------------------------------------------------------------------


def daily(context: ServiceContext) -> None:
    """Called by the scheduler on every tick: once the settlement hour has passed, settle
    what was delivered up to yesterday (including disputes resolved since), and pay out
    what is due today to couriers with a bound account. Cheap reads decide whether either
    has anything to do, so most ticks write nothing."""
    settings = context.settings
    local = context.clock.now().astimezone(settings.zone)
    if local.hour < settings.settlement_hour:
        return
    today = local.date()
    yesterday = today - timedelta(days=1)
    with context.db.read() as session:
        to_settle = session.scalar(
            select(Order.id)
            .where(
                Order.status == OrderStatus.DELIVERED,
                Order.delivered_at < day_end_utc(yesterday, settings.zone),
            )
            .limit(1)
        )
        payable_now = session.scalar(
            select(Payout.courier_id)
            .join(User, User.id == Payout.courier_id)
            .where(
                Payout.status == PayoutStatus.SCHEDULED,
                Payout.due_on <= today,
                User.payout_account.is_not(None),
            )
            .group_by(Payout.courier_id)
            .having(func.sum(Payout.amount_cents) > 0)
            .limit(1)
        )
    if to_settle is not None:
        settle(context, yesterday, "scheduled")
    if payable_now is not None:
        pay_out(context, today, "scheduled")


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency}"
