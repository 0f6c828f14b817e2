"""Web accounts (网页登录): password hashes and lockout on users, server-side sessions.

Revision ID: 0007_web_accounts
Revises: 0006_tip_handling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_web_accounts"
down_revision = "0006_tip_handling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ops_user") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("partner", sa.String(length=100), nullable=True))
    op.create_table(
        "ops_web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["ops_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ops_web_session_token_hash"), "ops_web_session", ["token_hash"], unique=True)
    op.create_index(op.f("ix_ops_web_session_user_id"), "ops_web_session", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ops_web_session_user_id"), table_name="ops_web_session")
    op.drop_index(op.f("ix_ops_web_session_token_hash"), table_name="ops_web_session")
    op.drop_table("ops_web_session")
    with op.batch_alter_table("ops_user") as batch:
        batch.drop_column("partner")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("password_hash")
