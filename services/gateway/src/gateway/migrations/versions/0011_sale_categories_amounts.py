"""The category and amount of each sku a POS sale sold, and what its returns took back of each in
money, so that a return line is held to the category the sale recorded and to the pro-rata amount
of what it takes back. Sales accepted before keep NULL: their returns are checked by sku and
quantity only, as they were (imported sales too: `sales_imported` carries quantities only).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pos_sale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sold_detail_by_sku', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('returned_amount_by_sku', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pos_sale', schema=None) as batch_op:
        batch_op.drop_column('returned_amount_by_sku')
        batch_op.drop_column('sold_detail_by_sku')
