"""Personal offer lists: each member's item history (from attributed sales and returns), the
promotion list, and each round's lists.

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
    op.create_table('promotion',
    _text('id', 36),
    _text('item', 80),
    sa.Column('spec', sa.JSON(), nullable=False),
    _time('valid_from', nullable=False),
    _time('valid_until', nullable=False),
    _text('created_by', 64),
    _time('created_at', nullable=False),
    _time('withdrawn_at'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_promotion_window', 'promotion', ['valid_until', 'valid_from'], unique=False)
    op.create_table('offer_round',
    _text('id', 36),
    _text('key', 64),
    _text('campaign_id', 36),
    _time('as_of', nullable=False),
    _time('ends_at', nullable=False),
    sa.Column('templates', sa.JSON(), nullable=False),
    _text('status', 16),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('personal', sa.Integer(), nullable=False),
    sa.Column('general', sa.Integer(), nullable=False),
    sa.Column('held_out', sa.Integer(), nullable=False),
    _time('built_at'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('offer',
    _text('round_id', 36),
    _text('member_id', 36),
    sa.Column('rank', sa.Integer(), nullable=False),
    _text('promotion_id', 36),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('own_price', shared.columns.MoneyColumn(), nullable=True),
    _text('coupon_id', 36, nullable=True),
    sa.PrimaryKeyConstraint('round_id', 'member_id', 'rank')
    )
    op.create_index('ix_offer_member', 'offer', ['member_id', 'round_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_offer_member', table_name='offer')
    op.drop_table('offer')
    op.drop_table('offer_round')
    op.drop_index('ix_promotion_window', table_name='promotion')
    op.drop_table('promotion')
    op.drop_index('ix_customer_item_time', table_name='customer_item')
    op.drop_index('ix_customer_item_member_time', table_name='customer_item')
    op.drop_table('customer_item')
