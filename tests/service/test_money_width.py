"""Money past 32 bits, on SQLite and PostgreSQL: an order costs at most MAX_FEE_CENTS, but a
day's fees, a courier's payout and a payout run add many orders up. PostgreSQL's INTEGER
holds 2^31 - 1 cents (21,474,836.47 EUR): a settlement or a payout past it was refused by the
database (500). Every money column is a BIGINT, and the migration that widened them keeps
what an older database holds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import update

from crowdship.service.db import MIGRATIONS, Base, migrate
from crowdship.service.entities.ledger.models import LedgerEntry, Payout, PayoutRun, SettlementRun
from crowdship.service.entities.orders.models import Order
from crowdship.service.money import MAX_FEE_CENTS
from tests.service.books import assert_books_balance, deliver_orders
from tests.service.conftest import START, Service
from tests.service.test_migrations import differences

INT32_MAX = 2**31 - 1
ORDERS = 300  # at MAX_FEE_CENTS each: 3,000,000,000 cents charged in one day
SHARE = MAX_FEE_CENTS * 80 // 100  # the courier's share of each
MONEY_COLUMNS = {
    "orders": ("fee_cents", "courier_cents", "platform_cents", "paid_cents"),
    "settlement_runs": ("total_cents",),
    "payout_runs": ("total_cents",),
    "payouts": ("amount_cents",),
    "ledger_entries": ("amount_cents",),
}
BEFORE = "0012"  # the head before money was widened


def test_a_settlement_and_a_payout_past_32_bits_go_through(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    courier = service.party("courier")
    bound = courier.client.put("/me/payout-account", json={"iban": "FI21 1234 5600 0007 85"})
    assert bound.status_code == 200, bound.text
    # The orders are written straight into the database (300 deliveries over HTTP would
    # take minutes); everything after, the settlement under test included, goes by HTTP.
    ids = deliver_orders(service.context, merchant.id, [courier.id], START, ORDERS, cod_share=0)
    with service.context.db.write() as session:
        session.execute(
            update(Order)
            .where(Order.id.in_(ids))
            .values(
                fee_cents=MAX_FEE_CENTS,
                courier_cents=SHARE,
                platform_cents=MAX_FEE_CENTS - SHARE,
                paid_cents=MAX_FEE_CENTS,
            )
        )
        session.commit()
    charged, owed = ORDERS * MAX_FEE_CENTS, ORDERS * SHARE
    assert owed > INT32_MAX and charged > INT32_MAX

    assert courier.get("/wallet").json()["pending_cents"] == owed
    service.clock.advance(24 * 60)  # Tuesday 08:00
    service.relogin(operator, merchant, courier)
    settled = operator.post("/settlement/runs", json={"day": "2026-11-23"})
    assert settled.status_code == 200, settled.text
    run = settled.json()["run"]
    assert (run["orders"], run["payouts"], run["total_cents"]) == (ORDERS, 1, charged)
    assert operator.get("/settlement/runs").json()[0]["total_cents"] == charged
    wallet = courier.get("/wallet").json()
    assert (wallet["pending_cents"], wallet["due_cents"]) == (0, owed), wallet
    assert wallet["payouts"][0]["amount_cents"] == owed

    service.clock.advance(24 * 60)  # Wednesday 08:00: T+2
    service.relogin(operator, merchant, courier)
    paid = operator.post("/payouts/runs", json={"day": "2026-11-25"})
    assert paid.status_code == 200, paid.text
    payout_run = paid.json()["run"]
    assert (payout_run["total_cents"], payout_run["couriers"]) == (owed, 1)
    assert operator.get("/payouts/runs").json()[0]["total_cents"] == owed
    csv_text = operator.get(f"/payouts/runs/{payout_run['id']}/csv")
    assert csv_text.status_code == 200, csv_text.text
    row = csv_text.text.strip().splitlines()[1].split(",")
    assert row[3] == str(owed) and row[5] == str(ORDERS), row
    wallet = courier.get("/wallet").json()
    assert (wallet["due_cents"], wallet["paid_cents"]) == (0, owed), wallet

    balances = operator.get("/ledger/balances").json()
    assert balances[f"payable:courier:{courier.id}"] == 0  # owed, then paid
    assert balances["revenue:platform"] == -(charged - owed)
    assert balances["cash:platform"] == charged - owed
    assert sum(balances.values()) == 0
    assert_books_balance(service.context)


def _alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _rows(url: str, query: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(query), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _seed(url: str, amount: int) -> None:
    """A courier paid one payout of ``amount`` cents: one row in every money table."""
    day, at = START.date(), START.isoformat()
    statements = [
        "INSERT INTO users (id, email, password_hash, role, name, phone, active, created_at, "
        "token_generation) VALUES (1, 'c@x.dev', '-', 'courier', 'C', '+358401', :t, :at, 0)",
        "INSERT INTO orders (id, sender_id, pickup_lat, pickup_lon, pickup_address, "
        "delivery_lat, delivery_lon, delivery_address, earliest_pickup, latest_delivery, "
        "size, description, receiver_name, receiver_phone, fee_cents, courier_cents, "
        "platform_cents, fee_breakdown, tariff_version, currency, distance_km, "
        "payment_method, paid_cents, status, trip_id, courier_id, pickup_attempts, "
        "delivery_attempts, locked, created_at, updated_at) VALUES (1, 1, 60.1, 24.9, 'A', "
        "60.2, 24.9, 'B', :at, :at, 'small', '', 'R', '+358402', :fee, :fee, 0, '{}', 0, "
        "'EUR', 1.0, 'prepaid', :fee, 'settled', NULL, 1, 0, 0, :f, :at, :at)",
        "INSERT INTO settlement_runs (id, day, trigger, started_at, orders, held_back, payouts, "
        "total_cents) VALUES (1, :day, 'cli', :at, 1, 0, 1, :amount)",
        "INSERT INTO payout_runs (id, day, trigger, started_at, payouts, couriers, total_cents, "
        "file) VALUES (1, :day, 'cli', :at, 1, 1, :amount, '')",
        "INSERT INTO payouts (id, courier_id, settlement_run_id, settled_day, due_on, "
        "amount_cents, order_ids, status, payout_run_id, paid_at, account) VALUES (1, 1, 1, "
        ":day, :day, :amount, '[1]', 'paid', 1, :at, 'FI00')",
        "INSERT INTO ledger_transactions (id, kind, payout_id, payout_run_id, booked_at, memo, "
        "extra) VALUES (1, 'payout', 1, 1, :at, 'payout 1', '{}')",
        "INSERT INTO ledger_entries (id, transaction_id, account, amount_cents) VALUES "
        "(1, 1, 'payable:courier:1', :amount), (2, 1, 'cash:platform', -(:amount))",
    ]
    params = {
        "day": day,
        "at": at,
        "amount": amount,
        "fee": min(amount, MAX_FEE_CENTS),
        "t": True,
        "f": False,
    }
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def _money(url: str) -> dict[str, list[int]]:
    return {
        f"{table}.{column}": [
            int(v) for (v,) in _rows(url, f"SELECT {column} FROM {table} ORDER BY id")
        ]
        for table, columns in MONEY_COLUMNS.items()
        for column in columns
    }


def test_the_models_keep_every_money_column_in_64_bits() -> None:
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            kind = Base.metadata.tables[table].columns[column].type
            assert isinstance(kind, sa.BigInteger), (table, column, kind)
    for model in (Order, SettlementRun, PayoutRun, Payout, LedgerEntry):
        assert model.__tablename__ in MONEY_COLUMNS


def test_the_migration_widens_a_database_that_holds_money(database_url: str) -> None:
    """From the previous head with data in every money table: upgraded, nothing is lost and
    amounts past 32 bits fit; downgraded again (amounts back within 32 bits), still kept."""
    migrate(database_url, BEFORE)
    _seed(database_url, INT32_MAX)  # the most the old columns held
    before = _money(database_url)
    migrate(database_url)
    assert differences(database_url, Base.metadata) == []
    assert _money(database_url) == before
    # The ledger's entries still belong to their transaction, the payout to its runs.
    assert _rows(database_url, "SELECT count(*) FROM ledger_entries WHERE transaction_id = 1")
    wide = 50 * INT32_MAX
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            _rows(database_url, f"UPDATE {table} SET {column} = :v", v=wide)
    assert all(values == [wide] * len(values) for values in _money(database_url).values())
    total = _rows(database_url, "SELECT sum(amount_cents) FROM payouts")
    assert int(total[0][0]) == wide

    for name, values in before.items():  # back within 32 bits: the old columns hold it
        table, column = name.split(".")
        for row_id, value in enumerate(values, start=1):
            query = f"UPDATE {table} SET {column} = :v WHERE id = :i"
            _rows(database_url, query, v=value, i=row_id)
    command.downgrade(_alembic(database_url), BEFORE)
    assert _money(database_url) == before
    migrate(database_url)
    assert differences(database_url, Base.metadata) == []
