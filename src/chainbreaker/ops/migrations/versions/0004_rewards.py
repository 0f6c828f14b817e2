"""Rewards (举报奖励): proposed rewards with their basis and approval, and payouts.

Revision ID: 0004_rewards
Revises: 0003_tips
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rewards"
down_revision = "0003_tips"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('schedule_version', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=4), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tip_id'], ['ops_tip.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tip_id')
    )
    op.create_table('ops_reward_payout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('paid_by', sa.String(length=100), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reward_id'], ['ops_reward.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_reward_payout_reward_id'), 'ops_reward_payout', ['reward_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_reward_payout_reward_id'), table_name='ops_reward_payout')
    op.drop_table('ops_reward_payout')
    op.drop_table('ops_reward')
