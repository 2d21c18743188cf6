"""What each POS sale sold of each sku, and what its returns took back so far, so that a return is
held to its sale's lines. Sales accepted before keep NULL: their returns are checked by amount
only, as they were.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pos_sale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sold_by_sku', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('returned_by_sku', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pos_sale', schema=None) as batch_op:
        batch_op.drop_column('returned_by_sku')
        batch_op.drop_column('sold_by_sku')
