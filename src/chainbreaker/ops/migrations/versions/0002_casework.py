"""Casework (案件办理): units, users, cases, gangs, suspects, measures, platforms, seizures,
tasks, case links, history, import quarantine, monthly assessment scores.

Revision ID: 0002_casework
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_casework"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('changes', sa.Text(), nullable=True),
    sa.Column('who', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_history_entity'), 'ops_history', ['entity'], unique=False)
    op.create_index(op.f('ix_ops_history_key'), 'ops_history', ['key'], unique=False)
    op.create_table('ops_import_quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sheet', sa.String(length=40), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_import_quarantine_file_sha256'), 'ops_import_quarantine', ['file_sha256'], unique=False)
    op.create_table('ops_suspect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id_number')
    )
    op.create_table('ops_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['ops_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ops_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('trend', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('metrics', sa.Text(), nullable=False),
    sa.Column('scheme_version', sa.String(length=40), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['ops_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month', 'unit_id')
    )
    op.create_index(op.f('ix_ops_assessment_month'), 'ops_assessment', ['month'], unique=False)
    op.create_table('ops_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('supervision', sa.String(length=4), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['ops_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index(op.f('ix_ops_case_opened_on'), 'ops_case', ['opened_on'], unique=False)
    op.create_index(op.f('ix_ops_case_unit_id'), 'ops_case', ['unit_id'], unique=False)
    op.create_table('ops_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['ops_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('ops_case_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('chain', sa.String(length=20), nullable=True),
    sa.Column('rule_id', sa.String(length=80), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'ref')
    )
    op.create_index(op.f('ix_ops_case_link_case_id'), 'ops_case_link', ['case_id'], unique=False)
    op.create_index(op.f('ix_ops_case_link_ref'), 'ops_case_link', ['ref'], unique=False)
    op.create_table('ops_case_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['ops_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'unit_id')
    )
    op.create_table('ops_gang',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('broken_on', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index(op.f('ix_ops_gang_broken_on'), 'ops_gang', ['broken_on'], unique=False)
    op.create_index(op.f('ix_ops_gang_case_id'), 'ops_gang', ['case_id'], unique=False)
    op.create_table('ops_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suspect_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=20), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ),
    sa.ForeignKeyConstraint(['suspect_id'], ['ops_suspect.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('suspect_id', 'case_id', 'measure', 'taken_on')
    )
    op.create_index(op.f('ix_ops_measure_case_id'), 'ops_measure', ['case_id'], unique=False)
    op.create_index(op.f('ix_ops_measure_suspect_id'), 'ops_measure', ['suspect_id'], unique=False)
    op.create_index(op.f('ix_ops_measure_taken_on'), 'ops_measure', ['taken_on'], unique=False)
    op.create_table('ops_platform',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('taken_down_on', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'name')
    )
    op.create_index(op.f('ix_ops_platform_case_id'), 'ops_platform', ['case_id'], unique=False)
    op.create_index(op.f('ix_ops_platform_taken_down_on'), 'ops_platform', ['taken_down_on'], unique=False)
    op.create_table('ops_seizure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'on_date', 'seq')
    )
    op.create_index(op.f('ix_ops_seizure_case_id'), 'ops_seizure', ['case_id'], unique=False)
    op.create_index(op.f('ix_ops_seizure_on_date'), 'ops_seizure', ['on_date'], unique=False)
    op.create_table('ops_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['ops_case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['ops_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['ops_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_task_case_id'), 'ops_task', ['case_id'], unique=False)
    op.create_table('ops_gang_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gang_id', sa.Integer(), nullable=False),
    sa.Column('suspect_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['gang_id'], ['ops_gang.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suspect_id'], ['ops_suspect.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('gang_id', 'suspect_id')
    )


def downgrade() -> None:
    op.drop_table('ops_gang_member')
    op.drop_index(op.f('ix_ops_task_case_id'), table_name='ops_task')
    op.drop_table('ops_task')
    op.drop_index(op.f('ix_ops_seizure_on_date'), table_name='ops_seizure')
    op.drop_index(op.f('ix_ops_seizure_case_id'), table_name='ops_seizure')
    op.drop_table('ops_seizure')
    op.drop_index(op.f('ix_ops_platform_taken_down_on'), table_name='ops_platform')
    op.drop_index(op.f('ix_ops_platform_case_id'), table_name='ops_platform')
    op.drop_table('ops_platform')
    op.drop_index(op.f('ix_ops_measure_taken_on'), table_name='ops_measure')
    op.drop_index(op.f('ix_ops_measure_suspect_id'), table_name='ops_measure')
    op.drop_index(op.f('ix_ops_measure_case_id'), table_name='ops_measure')
    op.drop_table('ops_measure')
    op.drop_index(op.f('ix_ops_gang_case_id'), table_name='ops_gang')
    op.drop_index(op.f('ix_ops_gang_broken_on'), table_name='ops_gang')
    op.drop_table('ops_gang')
    op.drop_table('ops_case_unit')
    op.drop_index(op.f('ix_ops_case_link_ref'), table_name='ops_case_link')
    op.drop_index(op.f('ix_ops_case_link_case_id'), table_name='ops_case_link')
    op.drop_table('ops_case_link')
    op.drop_table('ops_user')
    op.drop_index(op.f('ix_ops_case_unit_id'), table_name='ops_case')
    op.drop_index(op.f('ix_ops_case_opened_on'), table_name='ops_case')
    op.drop_table('ops_case')
    op.drop_index(op.f('ix_ops_assessment_month'), table_name='ops_assessment')
    op.drop_table('ops_assessment')
    op.drop_table('ops_unit')
    op.drop_table('ops_suspect')
    op.drop_index(op.f('ix_ops_import_quarantine_file_sha256'), table_name='ops_import_quarantine')
    op.drop_table('ops_import_quarantine')
    op.drop_index(op.f('ix_ops_history_key'), table_name='ops_history')
    op.drop_index(op.f('ix_ops_history_entity'), table_name='ops_history')
    op.drop_table('ops_history')
