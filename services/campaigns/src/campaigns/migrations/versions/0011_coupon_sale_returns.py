"""A redeemed coupon keeps its sale's total and what the sale's returns brought back, so that only
the return completing the sale reverses the coupon.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('coupon', schema=None) as batch:
        batch.add_column(sa.Column('sale_total', shared.columns.MoneyColumn(), nullable=True))
        batch.add_column(sa.Column('sale_returned', shared.columns.MoneyColumn(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('coupon', schema=None) as batch:
        batch.drop_column('sale_returned')
        batch.drop_column('sale_total')
