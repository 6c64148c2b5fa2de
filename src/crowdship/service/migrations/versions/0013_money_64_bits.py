"""money in 64 bits: every amount of money is a BIGINT

An order costs at most MAX_FEE_CENTS, but a day's fees (a settlement run's total), a
courier's payout and a payout run's total add many orders up, and the ledger entry that pays
a payout holds all of it: past 2^31 - 1 cents PostgreSQL's INTEGER refused them. The order's
own amounts are widened alike, so that money is one type everywhere. Widening keeps every
value; narrowing back (downgrade) fails on PostgreSQL if an amount no longer fits.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# table -> (column, nullable)
MONEY = {
    "orders": (
        ("fee_cents", False),
        ("courier_cents", False),
        ("platform_cents", False),
        ("paid_cents", True),
    ),
    "settlement_runs": (("total_cents", False),),
    "payout_runs": (("total_cents", False),),
    "payouts": (("amount_cents", False),),
    "ledger_entries": (("amount_cents", False),),
}


def _retype(old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    for table, columns in MONEY.items():
        with op.batch_alter_table(table) as batch:
            for column, nullable in columns:
                batch.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
