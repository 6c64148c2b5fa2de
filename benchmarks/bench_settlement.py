"""Daily settlement and a payout run at city scale, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/bench_settlement.py                       # 20000 orders, both
    .venv/bin/python benchmarks/bench_settlement.py --orders 5000 --databases sqlite

Delivered orders (30 % cash on delivery) of 2000 couriers are written straight into a fresh
database; then ``settle`` books them (one transaction: order moves, charge and payment
transactions with their entries, events, payouts) and ``pay_out`` pays the couriers and
writes the CSV. The floor, measured in the same run, is writing the same number of ledger
entry rows with one bulk INSERT (rolled back): what any settlement must at least write.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.service.books

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from crowdship.service.clock import ManualClock  # noqa: E402
from crowdship.service.context import ServiceContext  # noqa: E402
from crowdship.service.db import Database, migrate  # noqa: E402
from crowdship.service.entities.ledger.models import LedgerEntry  # noqa: E402
from crowdship.service.settings import Settings  # noqa: E402
from crowdship.service.workflows import settlement as settlement  # noqa: E402
from tests.service.books import deliver_orders, make_people  # noqa: E402

DELIVERED = datetime(2026, 1, 15, 12, tzinfo=UTC)


def _url(database: str, folder: Path) -> tuple[str, object]:
    if database == "sqlite":
        return f"sqlite:///{folder / 'settle.db'}", None
    from tests.service.conftest import postgres_schema_url

    schemas = postgres_schema_url()
    return next(schemas), schemas


def run(database: str, orders: int, couriers: int) -> dict[str, float | int | str]:
    folder = Path(tempfile.mkdtemp())
    url, cleanup = _url(database, folder)
    migrate(url)
    context = ServiceContext.build(
        Settings(
            database_url=url, secret_key="b" * 40, scheduler=False, payout_dir=folder / "payouts"
        ),
        clock=ManualClock(DELIVERED + timedelta(days=5)),
        db=Database(url),
    )
    sender, people, _ = make_people(context, couriers, couriers, DELIVERED)
    deliver_orders(context, sender, people, DELIVERED, orders, seed=1)

    clock = time.perf_counter()
    booked = settlement.settle(context, DELIVERED.date(), "cli")
    settle_s = time.perf_counter() - clock
    clock = time.perf_counter()
    paid = settlement.pay_out(context, DELIVERED.date() + timedelta(days=2), "cli")
    payout_s = time.perf_counter() - clock
    with context.db.read() as session:
        entries = int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)

    clock = time.perf_counter()
    with context.db.write() as session:  # the floor: the same number of entry rows, one INSERT
        session.execute(
            insert(LedgerEntry),
            [{"transaction_id": 1, "account": "floor", "amount_cents": 1}] * entries,
        )
        session.rollback()
    floor_s = time.perf_counter() - clock
    context.db.dispose()
    if cleanup is not None:
        for _ in cleanup:  # type: ignore[attr-defined]
            pass
    assert booked.run is not None and paid.run is not None
    return {
        "database": database,
        "orders": booked.run.orders,
        "entries": entries,
        "settle_s": settle_s,
        "floor_s": floor_s,
        "couriers_paid": paid.run.couriers,
        "payout_s": payout_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--couriers", type=int, default=2000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    table = Table(title=f"settlement: {args.orders} delivered orders, {args.couriers} couriers")
    for column in (
        "database",
        "ledger entries",
        "settle s",
        "floor s (bulk INSERT)",
        "ratio",
        "couriers paid",
        "payout run s",
    ):
        table.add_column(column, justify="right")
    for database in args.databases:
        r = run(database, args.orders, args.couriers)
        table.add_row(
            str(r["database"]),
            str(r["entries"]),
            f"{r['settle_s']:.2f}",
            f"{r['floor_s']:.2f}",
            f"{float(r['settle_s']) / float(r['floor_s']):.1f}x",
            str(r["couriers_paid"]),
            f"{r['payout_s']:.2f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
