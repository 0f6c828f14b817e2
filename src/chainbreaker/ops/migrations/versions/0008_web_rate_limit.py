"""Rate-limit counters of the web face shared by every worker process (频率限制计数).

Revision ID: 0008_web_rate_limit
Revises: 0007_web_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_web_rate_limit"
down_revision = "0007_web_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_web_rate",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket"),
    )
    op.create_index(op.f("ix_ops_web_rate_expires_at"), "ops_web_rate", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ops_web_rate_expires_at"), table_name="ops_web_rate")
    op.drop_table("ops_web_rate")
