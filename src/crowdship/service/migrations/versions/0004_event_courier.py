"""order events name the courier they concern

A release by the operator after the withdrawal window counts against the courier whose trip
carried the order, so the event records that courier (the order itself forgets them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order_events", sa.Column("courier_id", sa.Integer(), nullable=True))
    op.create_index("ix_order_events_courier_id", "order_events", ["courier_id"])


def downgrade() -> None:
    op.drop_index("ix_order_events_courier_id", table_name="order_events")
    with op.batch_alter_table("order_events") as batch:
        batch.drop_column("courier_id")
