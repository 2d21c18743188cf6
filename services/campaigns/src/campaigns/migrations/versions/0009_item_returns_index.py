"""The returns among the item lines, by member: the offer lists net each member's returns against
their sales without reading all of their lines a second time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_customer_item_returns', 'customer_item', ['member_id'], unique=False,
                    postgresql_where=sa.text('qty < 0'), sqlite_where=sa.text('qty < 0'))


def downgrade() -> None:
    op.drop_index('ix_customer_item_returns', table_name='customer_item')
