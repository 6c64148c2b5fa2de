"""``crowdship db check``: what must always hold is found holding on a real day, and each
kind of damage is named when it is there."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from crowdship.cli import app
from crowdship.service.entities.ledger.models import LedgerEntry, LedgerTransaction
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.workflows import settlement
from crowdship.service.workflows.invariants import check
from tests.service.conftest import START, Service, order_body
from tests.service.flows import delivered, picked_up


def _day(service: Service) -> tuple[int, int]:
    merchant = service.party("merchant")
    courier = service.party("courier")
    done = delivered(service, merchant, courier, order_body(receiver_phone="+358401110001"))
    carried, _ = picked_up(service, merchant, courier, order_body(receiver_phone="+358401110002"))
    merchant.post("/orders", json=order_body(receiver_phone="+358401110003"))
    service.clock.advance(24 * 60)
    settlement.settle(service.context, date(2026, 11, 23), "cli")
    return done, carried


def test_a_real_day_holds_and_damage_is_named(service: Service) -> None:
    done, carried = _day(service)
    db = service.context.db
    with db.snapshot() as session:
        verdict = check(session)
    assert verdict.ok, verdict.violations
    assert verdict.orders == 3 and verdict.transactions >= 2

    with db.write() as session:
        # A step applied twice: a second pickup of the carried order.
        session.add(
            OrderEvent(
                order_id=carried,
                at=START,
                actor_id=None,
                action="pickup",
                from_status=OrderStatus.ACCEPTED,
                to_status=OrderStatus.PICKED_UP,
                note="",
            )
        )
        # One transaction off by a cent.
        transaction = session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.order_id == done)
        ).first()
        assert transaction is not None
        session.execute(
            insert(LedgerEntry).values(
                transaction_id=transaction.id, account="revenue", amount_cents=1
            )
        )
        # The settled order put back to delivered: charged, but not settled.
        session.execute(update(Order).where(Order.id == done).values(status=OrderStatus.DELIVERED))
        session.commit()
    with db.snapshot() as session:
        problems = check(session).violations
    text = "\n".join(problems)
    assert f"order {carried}: pickup from accepted follows a step to picked_up" in text
    assert f"ledger transaction {transaction.id} is off by 1 cents" in text
    assert "the ledger is off by 1 cents in all" in text
    assert f"order {done} is delivered, but its last event leads to settled" in text
    assert f"order {done} (delivered) has 1 charge transactions, expected 0" in text


def test_a_trip_over_its_capacity_is_named(service: Service) -> None:
    _, carried = _day(service)
    db = service.context.db
    with db.write() as session:
        trip_id = session.scalar(select(Order.trip_id).where(Order.id == carried))
        other = session.scalar(select(Order.id).where(Order.status == OrderStatus.POSTED))
        session.execute(
            update(Order)
            .where(Order.id == other)
            .values(trip_id=trip_id, status=OrderStatus.ACCEPTED)
        )
        session.commit()
    with db.snapshot() as session:
        problems = check(session).violations
    assert f"trip {trip_id} carries 2 orders at once, capacity 1" in problems


def test_the_command_says_what_holds_and_exits_1_on_damage(service: Service) -> None:
    _day(service)
    runner = CliRunner()
    env = {"CROWDSHIP_DATABASE_URL": service.context.db.url}
    held = runner.invoke(app, ["db", "check"], env=env)
    assert held.exit_code == 0, held.output
    assert "all invariants hold (3 orders" in held.output
    with service.context.db.write() as session:
        session.execute(update(Order).values(status=OrderStatus.CANCELLED))
        session.commit()
    broken = runner.invoke(app, ["db", "check"], env=env)
    assert broken.exit_code == 1
    assert "violation" in broken.output and "is cancelled, but its last event" in broken.output
