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

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.ledger import ledger
from crowdship.service.entities.ledger import repository as books
from crowdship.service.entities.ledger.calendar import day_end_utc, payout_date
from crowdship.service.entities.ledger.ledger import Booking
from crowdship.service.entities.ledger.models import (
    Payout,
    PayoutRun,
    PayoutStatus,
    SettlementRun,
    TransactionKind,
)
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.repository import Deliverable
from crowdship.service.errors import Conflict, NotFound
from crowdship.service.lock import job_lock
from crowdship.service.money import format_money
from crowdship.service.workflows import notifying

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
    now = context.clock.now()
    # By the local date first: the end of a day far ahead (9999-12-31) is past any datetime.
    if day >= now.astimezone(settings.zone).date():
        raise Conflict(
            f"day {day} is not over yet ({settings.timezone}); settle it after midnight",
            status="open",
        )
    end = day_end_utc(day, settings.zone)
    with context.db.write() as session:
        rows = orders.delivered_before(session, end)
        refunded = orders.refunded_cash_before(session, end)
        held_back = orders.count_disputed_before(session, end)
        if not rows and not refunded:
            log.debug("settlement %s: nothing to settle (%d disputed held back)", day, held_back)
            return SettleOutcome(None, held_back)
        log.info(
            "settlement %s: booking %d orders and %d refunded cash collections (%d held back)",
            day,
            len(rows),
            len(refunded),
            held_back,
        )
        run = books.add_settlement_run(
            session,
            day=day,
            trigger=trigger,
            started_at=now,
            orders=len(rows),
            held_back=held_back,
            payouts=0,
            total_cents=sum(r.fee_cents for r in rows),
        )
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
        # Cash a courier collected on an order refunded since: they owe it; it comes off
        # their payout (which may go below zero and is then carried forward).
        _reclaim_cash(session, run.id, refunded, now)
        for r in refunded:
            owed[r.courier_id] -= r.fee_cents
            orders_of[r.courier_id].append(r.id)
        due = payout_date(day, settings.payout_delay_days, settings.business_days)
        books.schedule_payouts(
            session,
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
        format_money(run.total_cents, settings.currency),
        run.payouts,
        due,
    )
    return SettleOutcome(run, held_back)


def _book_orders(session: Session, run_id: int, rows: Sequence[Deliverable], now: datetime) -> None:
    orders.transition_many(
        session,
        [orders.Change(r.id, note=f"settlement run {run_id}") for r in rows],
        Action.SETTLE,
        None,
        now,
        settled_at=now,
    )
    bookings = []
    for r in rows:
        refs = {"order_id": r.id, "settlement_run_id": run_id, "booked_at": now}
        bookings.append(
            Booking(
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
        bookings.append(
            Booking(
                {**refs, "kind": TransactionKind.PAYMENT, "memo": memo},
                [(paid_to, r.fee_cents), (ledger.receivable(r.id), -r.fee_cents)],
            )
        )
    ledger.book(session, bookings)


def _reclaim_cash(
    session: Session, run_id: int, rows: Sequence[Deliverable], now: datetime
) -> None:
    orders.transition_many(
        session,
        [orders.Change(r.id, note=f"settlement run {run_id}: cash owed back") for r in rows],
        Action.RECLAIM_CASH,
        None,
        now,
        settled_at=now,
    )
    ledger.book(
        session,
        [
            Booking(
                {
                    "order_id": r.id,
                    "settlement_run_id": run_id,
                    "booked_at": now,
                    "kind": TransactionKind.CASH_REFUND,
                    "memo": f"cash collected for refunded order {r.id}",
                },
                [(ledger.payable(r.courier_id), r.fee_cents), (ledger.REFUNDS, -r.fee_cents)],
            )
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
    today = now.astimezone(context.settings.zone).date()
    if day > today:
        # Paying "up to" a later day would pay payouts that are not due yet.
        raise Conflict(
            f"payouts up to {day} cannot run before that day; today is {today} "
            f"({context.settings.timezone})",
            status="not_due",
        )
    with context.db.write() as session:
        due = books.due_for_update(session, day)
        by_courier: dict[int, list[Payout]] = defaultdict(list)
        for payout in due:
            by_courier[payout.courier_id].append(payout)
        people = accounts.payees(session, by_courier)
        payout_accounts = {i: p.payout_account for i, p in people.items()}
        names = {i: p.name for i, p in people.items()}
        held: dict[int, int] = {}
        carried: dict[int, int] = {}
        paying: dict[int, list[Payout]] = {}
        for courier_id, payouts in by_courier.items():
            total = sum(p.amount_cents for p in payouts)
            if not payout_accounts.get(courier_id):
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
        run = books.add_payout_run(
            session,
            day=day,
            trigger=trigger,
            started_at=now,
            payouts=sum(len(p) for p in paying.values()),
            couriers=len(paying),
            total_cents=sum(p.amount_cents for ps in paying.values() for p in ps),
        )
        bookings = []
        for courier_id, payouts in paying.items():
            for p in payouts:
                p.status, p.payout_run_id = PayoutStatus.PAID, run.id
                p.paid_at, p.account = now, payout_accounts[courier_id]
                bookings.append(
                    Booking(
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
        ledger.book(session, bookings)
        # Each courier paid hears of it, once per run (part of the run's transaction).
        notices = []
        for courier_id, user in accounts.by_ids(session, paying).items():
            amount = format_money(sum(p.amount_cents for p in paying[courier_id]), currency)
            notices.append(
                notifying.to_account(
                    f"payout-run{run.id}:courier{courier_id}",
                    user,
                    f"payout of {amount}",
                    f"crowdship: {amount} is on its way to your account "
                    f"{payout_accounts[courier_id]} (payout run {run.id}, {day}).",
                )
            )
        notifying.notify(session, context, notices)
        final = out_dir / f"payouts-{day}-run{run.id}.csv"
        run.file = str(final)
        # The file is written before the commit and renamed into place after it: a crash
        # leaves either no run and a stray temporary file, or the run (re-export it with
        # `crowdship payouts export`).
        temporary = _write_csv(
            out_dir, final.name, _csv_rows(paying, payout_accounts, names, currency)
        )
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
        format_money(run.total_cents, currency),
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
        run = books.payout_run(session, run_id)
        if run is None:
            raise NotFound(f"payout run {run_id} not found")
        payouts = books.payouts_of_run(session, run_id)
        paying: dict[int, list[Payout]] = defaultdict(list)
        for p in payouts:
            paying[p.courier_id].append(p)
        paid_into = {p.courier_id: p.account for p in payouts}
        names = {i: p.name for i, p in accounts.payees(session, paying).items()}
    return run, _csv_rows(paying, paid_into, names, context.settings.currency)


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
    cash_owed_cents: int  # part of pending: cash you hold for orders refunded since
    held_cents: int  # disputed
    due_cents: int  # settled, payout scheduled
    next_due_on: date | None
    paid_cents: int
    payouts: list[Payout]


def wallet(session: Session, context: ServiceContext, actor: Actor) -> Wallet:
    actor.require(Role.COURIER)
    pending = cash = held = 0
    for earned in orders.unsettled_of(session, actor.id):
        collected = earned.fee_cents if earned.payment_method == "cash_on_delivery" else 0
        if earned.status == OrderStatus.DELIVERED:
            pending += earned.courier_cents - collected
            cash += collected
        else:
            held += earned.courier_cents - collected
    cash_owed = orders.cash_held_by(session, actor.id)
    pending -= cash_owed
    payouts = books.payouts_of(session, actor.id, limit=100)
    scheduled = books.scheduled_of(session, actor.id)
    paid = books.paid_to(session, actor.id)
    return Wallet(
        currency=context.settings.currency,
        pending_cents=pending,
        cash_collected_cents=cash,
        cash_owed_cents=cash_owed,
        held_cents=held,
        due_cents=scheduled.total_cents,
        next_due_on=scheduled.next_due_on,
        paid_cents=paid,
        payouts=payouts,
    )


def settlement_runs(session: Session, actor: Actor, limit: int) -> list[SettlementRun]:
    actor.require(Role.OPERATOR)
    return books.settlement_runs(session, limit)


def payout_runs(session: Session, actor: Actor, limit: int) -> list[PayoutRun]:
    actor.require(Role.OPERATOR)
    return books.payout_runs(session, limit)


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
        to_settle = orders.any_delivered_before(session, day_end_utc(yesterday, settings.zone))
        payable_now = books.any_payable(session, today, accounts.with_payout_account())
    if to_settle:
        settle(context, yesterday, "scheduled")
    if payable_now:
        pay_out(context, today, "scheduled")
