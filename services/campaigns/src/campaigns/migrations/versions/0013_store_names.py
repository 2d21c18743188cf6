"""The stores' names customer messages use, learnt from the gateway's `store_changed`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'store_name',
        sa.Column('store_id', AutoString(length=32), nullable=False),
        sa.Column('name', AutoString(length=100), nullable=False),
        sa.Column('changed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('store_id'),
    )


def downgrade() -> None:
    op.drop_table('store_name')
