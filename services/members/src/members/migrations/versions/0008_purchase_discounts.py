"""Discounts of sales: what coupons and promotions took off, and what returns gave back of what was paid.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', shared.columns.MoneyColumn(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('returned_paid', shared.columns.MoneyColumn(), nullable=False, server_default='0'))
    with op.batch_alter_table('purchase_return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid', shared.columns.MoneyColumn(), nullable=False, server_default='0'))
    # Sales before discounts existed were paid in full: what their returns gave back is their amount.
    op.execute("UPDATE purchase SET returned_paid = returned")
    op.execute("UPDATE purchase_return SET paid = amount WHERE purchase_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('purchase_return', schema=None) as batch_op:
        batch_op.drop_column('paid')
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_column('returned_paid')
        batch_op.drop_column('discount')
