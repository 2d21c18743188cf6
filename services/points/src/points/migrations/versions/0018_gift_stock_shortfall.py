"""A store's gift stock remembers the reservations its last count found no unit for
(`gift_stock.shortfall`): cancelling one of those frees no unit.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('gift_stock') as batch:
        batch.add_column(sa.Column('shortfall', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('gift_stock') as batch:
        batch.drop_column('shortfall')
