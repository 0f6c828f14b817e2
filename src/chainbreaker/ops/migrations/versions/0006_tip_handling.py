"""Tip handling: the unit a tip is assigned to, its due date and when it was handled (办理时限),
so the monthly assessment can count tips handled on time.

Revision ID: 0006_tip_handling
Revises: 0005_sharing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_tip_handling"
down_revision = "0005_sharing"
branch_labels = None
depends_on = None

FK = "fk_ops_tip_unit_id_ops_unit"


def upgrade() -> None:
    with op.batch_alter_table("ops_tip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_ops_tip_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_ops_tip_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(FK, "ops_unit", ["unit_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("ops_tip", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_ops_tip_unit_id"))
        batch_op.drop_index(batch_op.f("ix_ops_tip_due_on"))
        batch_op.drop_column("handled_at")
        batch_op.drop_column("due_on")
        batch_op.drop_column("unit_id")
