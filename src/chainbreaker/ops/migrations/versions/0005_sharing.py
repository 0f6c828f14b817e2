"""Sharing (信息共享): the record of packages shared with partner agencies.

Revision ID: 0005_sharing
Revises: 0004_rewards
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sharing"
down_revision = "0004_rewards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.Column('shared_by', sa.String(length=100), nullable=False),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_share_case_id'), 'ops_share', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_share_case_id'), table_name='ops_share')
    op.drop_table('ops_share')
