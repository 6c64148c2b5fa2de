"""The ledger balances after any sequence of deliveries, disputes, resolutions, settlement
and payout runs (repeated or not): a Hypothesis state machine against a real database."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.incidents.models import Incident, IncidentKind, Resolution
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.errors import Conflict
from crowdship.service.settings import Settings
from crowdship.service.workflows import incidents, settlement
from tests.service.books import assert_books_balance, deliver_orders, make_people

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_template: Path | None = None


def _fresh_database(folder: Path) -> str:
    """A migrated SQLite file (copied from one migrated once: migrations take a while)."""
    global _template
    if _template is None:
        _template = Path(tempfile.mkdtemp()) / "template.db"
        migrate(f"sqlite:///{_template}")
    target = folder / "books.db"
    shutil.copy(_template, target)
    return f"sqlite:///{target}"


class Books(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        url = _fresh_database(self.folder)
        self.clock = ManualClock(START)
        config = Settings(
            database_url=url,
            secret_key="books-secret-key-that-is-long-enough-0123456789",
            scheduler=False,
            timezone="Europe/Helsinki",
            payout_dir=self.folder / "payouts",
        )
        self.context = ServiceContext.build(config, clock=self.clock, db=Database(url))
        self.sender_id, self.couriers, operator_id = make_people(self.context, 4, 2, START)
        self.operator = Actor(operator_id, Role.OPERATOR, "Op", None)
        self.seed = 0

    def teardown(self) -> None:
        self.context.db.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _today(self) -> datetime:
        return self.clock.now().astimezone(self.context.settings.zone)

    @rule(n=st.integers(1, 4), courier=st.integers(0, 3), cod=st.floats(0, 1))
    def deliver(self, n: int, courier: int, cod: float) -> None:
        self.seed += 1
        deliver_orders(
            self.context,
            self.sender_id,
            [self.couriers[courier]],
            self.clock.now(),
            n,
            seed=self.seed,
            cod_share=cod,
        )

    @rule(hours=st.integers(1, 72))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours * 60)

    @rule()
    def a_day_later_the_scheduler_runs(self) -> None:
        self.clock.advance(24 * 60)
        settlement.daily(self.context)

    @rule(days_back=st.integers(1, 3))
    def settle(self, days_back: int) -> None:
        settlement.settle(self.context, self._today().date() - timedelta(days=days_back), "cli")

    @rule(days_ahead=st.integers(-1, 3))
    def pay_out(self, days_ahead: int) -> None:
        day = self._today().date() + timedelta(days=days_ahead)
        if days_ahead > 0:  # money never moves early: a later day is refused, nothing paid
            with pytest.raises(Conflict, match="cannot run before that day"):
                settlement.pay_out(self.context, day, "cli")
            event("pay out: refused, not due")
            return
        outcome = settlement.pay_out(self.context, day, "cli")
        event("pay out: paid" if outcome.run else "pay out: nothing paid")
        if outcome.held or outcome.carried:
            event("pay out: some held or carried")

    @rule(courier=st.integers(0, 3))
    def bind_account(self, courier: int) -> None:
        with self.context.db.write() as session:
            user = session.get(User, self.couriers[courier])
            assert user is not None
            user.payout_account = "FI7600000000000001"
            session.commit()

    @rule(pick=st.integers(0, 10_000))
    def dispute(self, pick: int) -> None:
        with self.context.db.write() as session:
            delivered = list(
                session.scalars(
                    select(Order.id).where(Order.status == OrderStatus.DELIVERED).order_by(Order.id)
                )
            )
            if not delivered:
                return
            sender = Actor(self.sender_id, Role.MERCHANT, "Sender", "+358401000000")
            incidents.report(
                session,
                self.context,
                sender,
                delivered[pick % len(delivered)],
                IncidentKind.DAMAGED,
                "box crushed",
            )
            session.commit()

    @rule(pick=st.integers(0, 10_000), pay=st.booleans())
    def resolve(self, pick: int, pay: bool) -> None:
        with self.context.db.write() as session:
            open_ones = list(
                session.scalars(select(Incident.id).where(Incident.resolved_at.is_(None)))
            )
            if not open_ones:
                return
            incidents.resolve(
                session,
                self.context,
                self.operator,
                open_ones[pick % len(open_ones)],
                Resolution.PAY if pay else Resolution.REFUND,
                "decided",
            )
            session.commit()

    @invariant()
    def books_balance(self) -> None:
        assert_books_balance(self.context)


Books.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestBooks = Books.TestCase
