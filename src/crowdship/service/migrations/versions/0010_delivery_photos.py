"""proof of delivery: the courier's photo of the delivered parcel; the delivery code's
nonce, so the receiver's tracking page can show the code

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 08:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crowdship.service.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("taken_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_delivery_photos_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["users.id"], name=op.f("fk_delivery_photos_courier_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_photos")),
        sa.UniqueConstraint("order_id", name=op.f("uq_delivery_photos_order_id")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column(
                "proof_photo_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("delivery_code_nonce", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("delivery_code_nonce")
        batch.drop_column("proof_photo_at")
    op.drop_table("delivery_photos")
