"""the notification outbox, and each person's channel

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crowdship.service.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "next_attempt_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("sent_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notifications_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    op.create_index("ix_notifications_recipient_id", "notifications", ["recipient_id"])
    op.create_index("ix_notifications_order_id", "notifications", ["order_id"])
    op.create_index("ix_notifications_status", "notifications", ["status"])
    op.create_index("ix_notifications_next_attempt_at", "notifications", ["next_attempt_at"])
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_cursors")),
    )
    op.add_column(
        "users",
        sa.Column("notify_channel", sa.String(length=16), nullable=False, server_default="sms"),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify_channel")
    op.drop_table("outbox_cursors")
    op.drop_table("notifications")
