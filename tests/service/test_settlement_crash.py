"""Settlement and payouts are atomic and idempotent: a real ``crowdship`` process is killed
(SIGKILL) half-way through a run, nothing of that run remains, and running again books and
pays everything exactly once; a third run finds nothing to do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database
from crowdship.service.entities.ledger.models import (
    LedgerEntry,
    Payout,
    PayoutRun,
    PayoutStatus,
    SettlementRun,
)
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.settings import Settings
from tests.service.books import assert_books_balance, deliver_orders, make_people
from tests.service.conftest import BACKENDS, migrate_new

DAY = date(2026, 1, 15)  # in the past on any machine running this
DELIVERED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SECRET = "crash-secret-key-that-is-long-enough-0123456789"


def _env(url: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CROWDSHIP_DATABASE_URL": url,
        "CROWDSHIP_SECRET_KEY": SECRET,
        "CROWDSHIP_DATA_DIR": str(folder),
        "CROWDSHIP_PAYOUT_DIR": str(folder / "payouts"),
        "COLUMNS": "200",
    }


def _crowdship(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "crowdship"), *args]


def _kill_when(command: list[str], env: dict[str, str], marker: str) -> str:
    """Start ``command``, SIGKILL it as soon as its log shows ``marker``; its output."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            process.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() < deadline, "".join(seen)
    process.wait(timeout=30)
    output = "".join(seen)
    assert process.returncode == -signal.SIGKILL, f"not killed mid-run:\n{output}"
    return output


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(params=BACKENDS)
def crash_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        from tests.service.conftest import postgres_schema_url

        yield from postgres_schema_url()


def test_a_killed_settlement_leaves_nothing_and_a_rerun_books_once(
    crash_url: str, tmp_path: Path
) -> None:
    migrate_new(crash_url)
    settings = Settings(
        database_url=crash_url, secret_key=SECRET, scheduler=False, payout_dir=tmp_path / "payouts"
    )
    context = ServiceContext.build(
        settings, clock=ManualClock(datetime(2026, 1, 20, tzinfo=UTC)), db=Database(crash_url)
    )
    sender, couriers, _ = make_people(context, 1500, 1500, DELIVERED)
    orders = deliver_orders(context, sender, couriers, DELIVERED, 6000, seed=3)
    env = _env(crash_url, tmp_path)

    def counts() -> tuple[int, int, int, int]:
        with context.db.read() as session:
            return (
                int(session.scalar(select(func.count()).select_from(SettlementRun)) or 0),
                int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
                int(session.scalar(select(func.count()).select_from(Payout)) or 0),
                int(
                    session.scalar(select(func.count()).where(Order.status == OrderStatus.SETTLED))
                    or 0
                ),
            )

    # Killed after its first 500 orders were written inside the transaction.
    output = _kill_when(_crowdship("settle", "--date", str(DAY)), env, "orders booked")
    assert "settlement run" not in output
    assert counts() == (0, 0, 0, 0)
    assert_books_balance(context)

    first = _run(_crowdship("settle", "--date", str(DAY)), env)
    assert "6000 orders" in first
    runs, entries, payouts, settled = counts()
    assert (runs, settled, payouts) == (1, len(orders), 1500)
    assert_books_balance(context)

    again = _run(_crowdship("settle", "--date", str(DAY)), env)
    assert "nothing to settle" in again
    assert counts() == (runs, entries, payouts, settled)

    # Payouts: killed after the run started paying, then paid once. Couriers whose cash
    # collections exceed their earnings are carried forward, not paid.
    with context.db.read() as session:
        positive = sum(1 for p in session.scalars(select(Payout)) if p.amount_cents > 0)
    assert 1000 < positive < 1500
    output = _kill_when(_crowdship("payout", "run", "--date", "2026-01-17"), env, "paying")
    with context.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PayoutRun)) == 0
        assert session.scalar(select(func.count()).where(Payout.status == PayoutStatus.PAID)) == 0
    assert not list((tmp_path / "payouts").glob("payouts-*.csv"))
    assert_books_balance(context)

    paid = _run(_crowdship("payout", "run", "--date", "2026-01-17"), env)
    assert f"to {positive} couriers" in paid
    assert f"carried forward (cash collected exceeds earnings): {1500 - positive}" in paid
    files = list((tmp_path / "payouts").glob("payouts-*.csv"))
    assert len(files) == 1
    lines = files[0].read_text().splitlines()
    assert lines[0].startswith("courier_id,courier_name,account,amount_cents")
    assert len(lines) == 1 + positive
    assert_books_balance(context)

    again = _run(_crowdship("payout", "run", "--date", "2026-01-17"), env)
    assert "nothing to pay" in again
    with context.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PayoutRun)) == 1
    context.db.dispose()
