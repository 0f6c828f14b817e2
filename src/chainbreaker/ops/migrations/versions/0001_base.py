"""Base: the key-person register (重点人员库) as it existed before casework.

Revision ID: 0001_base
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('register_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_key', sa.String(length=120), nullable=False),
    sa.Column('id_number', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('disposal', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_register_person_person_key'), 'register_person', ['person_key'], unique=True)
    op.create_table('register_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_key', sa.String(length=120), nullable=False),
    sa.Column('id_number', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('chain', sa.String(length=20), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('finding_id', sa.String(length=40), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_key', 'role', 'rule_id')
    )
    op.create_index(op.f('ix_register_proposal_person_key'), 'register_proposal', ['person_key'], unique=False)
    op.create_table('register_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('old_value', sa.String(length=40), nullable=True),
    sa.Column('new_value', sa.String(length=40), nullable=True),
    sa.Column('who', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['register_person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_register_change_person_id'), 'register_change', ['person_id'], unique=False)
    op.create_table('register_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('confirmed_by', sa.String(length=100), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['register_person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'role')
    )


def downgrade() -> None:
    op.drop_table('register_role')
    op.drop_index(op.f('ix_register_change_person_id'), table_name='register_change')
    op.drop_table('register_change')
    op.drop_index(op.f('ix_register_proposal_person_key'), table_name='register_proposal')
    op.drop_table('register_proposal')
    op.drop_index(op.f('ix_register_person_person_key'), table_name='register_person')
    op.drop_table('register_person')
