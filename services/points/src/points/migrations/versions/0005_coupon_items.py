"""Coupons in the gift catalogue: an item's kind and the campaigns coupon template it sells, also
kept on each register entry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # server_default: the existing items and entries are all gifts.
    for table in ('gift', 'gift_redemption'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='gift', nullable=False))
            batch_op.add_column(sa.Column('coupon_template_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    # Coupon items then read as gifts without stock: no store can redeem them.
    for table in ('gift_redemption', 'gift'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('coupon_template_id')
            batch_op.drop_column('kind')
