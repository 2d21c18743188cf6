"""The catalogue's audit trail: who changed a gift or a store's stock count of it, when, from what
to what (`gift_change`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'gift_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('gift_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('change', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('at', shared.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_gift_change_gift', 'gift_change', ['gift_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_gift_change_gift', table_name='gift_change')
    op.drop_table('gift_change')
