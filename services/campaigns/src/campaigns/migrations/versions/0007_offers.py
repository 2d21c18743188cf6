"""Personal offer lists: each member's item history (from attributed sales and returns).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, shared.columns.UtcDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table('customer_item',
    _text('event_id', 200),
    _text('sku', 64),
    _text('sale_event_id', 200),
    _text('member_id', 36),
    _text('category', 64),
    _time('occurred_at', nullable=False),
    sa.Column('qty', shared.columns.Qty(), nullable=False),
    sa.Column('amount', shared.columns.MoneyColumn(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'sku')
    )
    op.create_index('ix_customer_item_member_time', 'customer_item', ['member_id', 'occurred_at'], unique=False)
    op.create_index('ix_customer_item_time', 'customer_item', ['occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_item_time', table_name='customer_item')
    op.drop_index('ix_customer_item_member_time', table_name='customer_item')
    op.drop_table('customer_item')
