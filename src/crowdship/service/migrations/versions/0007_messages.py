"""order threads, and the vehicle a trip is made in

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crowdship.service.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column("created_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_messages_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_order_messages_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_messages")),
    )
    op.create_index("ix_order_messages_order_id", "order_messages", ["order_id"])
    op.add_column(
        "trips", sa.Column("vehicle", sa.String(length=60), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("trips") as batch:
        batch.drop_column("vehicle")
    op.drop_index("ix_order_messages_order_id", table_name="order_messages")
    op.drop_table("order_messages")
