"""the operator's assessment policy

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crowdship.service.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("questions_per_attempt", sa.Integer(), nullable=False),
        sa.Column("retry_after_min", sa.Float(), nullable=False),
        sa.Column("created_at", crowdship.service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_assessment_policies_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_policies")),
    )


def downgrade() -> None:
    op.drop_table("assessment_policies")
