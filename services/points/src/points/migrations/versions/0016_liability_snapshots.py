"""The points liability kept day by day (`liability_snapshot`): finance books a month-end's figure
after the fact, and a chain's report no longer replays the whole ledger on each request.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'liability_snapshot',
        sa.Column('business_day', sa.Date(), nullable=False),
        sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('taken_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('business_day', 'store_id'),
    )


def downgrade() -> None:
    op.drop_table('liability_snapshot')
