"""orders carry their courier's id

The courier of an order was found by joining its trip; every query that needed it (what a
courier sees, the wallet, reliability, settlement) crossed from orders into trips. The order
now records the courier itself, set and cleared together with ``trip_id``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key in place, so the table is copied.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("courier_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_orders_courier_id_users", "users", ["courier_id"], ["id"])
        batch.create_index("ix_orders_courier_id", ["courier_id"])
    op.execute(
        "UPDATE orders SET courier_id = "
        "(SELECT trips.courier_id FROM trips WHERE trips.id = orders.trip_id) "
        "WHERE trip_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_courier_id")
        batch.drop_constraint("fk_orders_courier_id_users", type_="foreignkey")
        batch.drop_column("courier_id")
