"""The returns that counted towards their sales' coupons, by store and refund id, so that a return
published again under another event id counts once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'coupon_sale_return',
        sa.Column('store_id', AutoString(length=32), nullable=False),
        sa.Column('refund_id', AutoString(length=64), nullable=False),
        sa.Column('pos_txn_id', AutoString(length=64), nullable=False),
        sa.Column('amount', shared.columns.MoneyColumn(), nullable=False),
        sa.Column('recorded_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('store_id', 'refund_id'),
    )


def downgrade() -> None:
    op.drop_table('coupon_sale_return')
