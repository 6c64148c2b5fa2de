"""orders can start at a pickup point (the campus short leg)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key in place, so the table is copied.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("from_point_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_orders_from_point_id_pickup_points", "pickup_points", ["from_point_id"], ["id"]
        )
        batch.create_index("ix_orders_from_point_id", ["from_point_id"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_from_point_id")
        batch.drop_constraint("fk_orders_from_point_id_pickup_points", type_="foreignkey")
        batch.drop_column("from_point_id")
