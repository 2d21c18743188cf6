"""The chain's stores as the gateway announces them (`store_changed`, `shared.store_directory`): a
gift is not reserved for pick-up at a store that has closed. Until the gateway's next announcement
of a store it is not known to be closed (saving a store unchanged at the gateway announces it).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'store_directory',
        sa.Column('store_id', AutoString(length=32), nullable=False),
        sa.Column('name', AutoString(length=100), nullable=False),
        sa.Column('city', AutoString(length=50), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('changed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('store_id'),
    )


def downgrade() -> None:
    op.drop_table('store_directory')
