"""Tips (群众举报): tips, their attachments (by hash) and extracted indicators.

Revision ID: 0003_tips
Revises: 0002_casework
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_tips"
down_revision = "0002_casework"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_tip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_code', sa.String(length=20), nullable=False),
    sa.Column('passphrase_hash', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=4), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('tipster_name', sa.String(length=100), nullable=True),
    sa.Column('tipster_phone', sa.String(length=40), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=6), nullable=False),
    sa.Column('group_key', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('receipt_code')
    )
    op.create_index(op.f('ix_ops_tip_group_key'), 'ops_tip', ['group_key'], unique=False)
    op.create_table('ops_tip_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['tip_id'], ['ops_tip.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_tip_attachment_tip_id'), 'ops_tip_attachment', ['tip_id'], unique=False)
    op.create_table('ops_tip_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['tip_id'], ['ops_tip.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tip_id', 'kind', 'value')
    )
    op.create_index(op.f('ix_ops_tip_indicator_tip_id'), 'ops_tip_indicator', ['tip_id'], unique=False)
    op.create_index(op.f('ix_ops_tip_indicator_value'), 'ops_tip_indicator', ['value'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_tip_indicator_value'), table_name='ops_tip_indicator')
    op.drop_index(op.f('ix_ops_tip_indicator_tip_id'), table_name='ops_tip_indicator')
    op.drop_table('ops_tip_indicator')
    op.drop_index(op.f('ix_ops_tip_attachment_tip_id'), table_name='ops_tip_attachment')
    op.drop_table('ops_tip_attachment')
    op.drop_index(op.f('ix_ops_tip_group_key'), table_name='ops_tip')
    op.drop_table('ops_tip')
