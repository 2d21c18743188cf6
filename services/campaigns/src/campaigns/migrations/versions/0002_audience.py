"""Audience: the customers read model (from members' events), their purchases and returns, and
saved segments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, shared.columns.UtcDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:
    return sa.Column(name, AutoString(length=length), nullable=nullable)


def _money(name: str) -> sa.Column:
    return sa.Column(name, shared.columns.MoneyColumn(), nullable=False)


def upgrade() -> None:
    op.create_table('customer',
    _text('member_id', 36, nullable=False),
    _time('registered_at'),
    _text('channel', 16),
    _text('home_store_id', 32),
    _text('community_id', 36),
    _text('tier', 16),
    _time('tier_at'),
    _time('attributes_as_of'),
    _text('value_class', 16),
    sa.Column('recency', sa.Integer(), nullable=True),
    sa.Column('frequency', sa.Integer(), nullable=True),
    sa.Column('monetary', sa.Integer(), nullable=True),
    _text('churn_risk', 16),
    sa.Column('days_since_last_purchase', sa.Integer(), nullable=True),
    sa.Column('birth_month', sa.Integer(), nullable=True),
    _time('last_purchase_at'),
    _money('lifetime_spend'),
    sa.Column('consent_sms', sa.Boolean(), nullable=True),
    _time('consent_sms_at'),
    sa.Column('consent_email', sa.Boolean(), nullable=True),
    _time('consent_email_at'),
    _time('erased_at'),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_index('ix_customer_community', 'customer', ['community_id'], unique=False)
    op.create_index('ix_customer_home_store', 'customer', ['home_store_id'], unique=False)
    op.create_table('customer_purchase',
    _text('sale_event_id', 200, nullable=False),
    _text('member_id', 36, nullable=False),
    _text('store_id', 32, nullable=False),
    _time('occurred_at', nullable=False),
    _money('total'),
    _money('discount'),
    _money('returned'),
    sa.PrimaryKeyConstraint('sale_event_id')
    )
    op.create_index('ix_customer_purchase_member_time', 'customer_purchase', ['member_id', 'occurred_at'], unique=False)
    op.create_table('customer_purchase_category',
    _text('sale_event_id', 200, nullable=False),
    _text('category', 64, nullable=False),
    _text('member_id', 36, nullable=False),
    _time('occurred_at', nullable=False),
    _money('amount'),
    _money('returned'),
    sa.PrimaryKeyConstraint('sale_event_id', 'category')
    )
    op.create_index('ix_customer_purchase_category_member', 'customer_purchase_category',
                    ['member_id', 'category', 'occurred_at'], unique=False)
    op.create_table('customer_return',
    _text('refund_event_id', 200, nullable=False),
    _text('sale_event_id', 200, nullable=False),
    _text('member_id', 36, nullable=False),
    _time('occurred_at', nullable=False),
    _money('amount'),
    sa.Column('by_category', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('refund_event_id')
    )
    op.create_index('ix_customer_return_sale', 'customer_return', ['sale_event_id'], unique=False)
    op.create_table('segment',
    _text('id', 36, nullable=False),
    _text('name', 100, nullable=False),
    _text('description', 1000, nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    _text('status', 16, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    _text('created_by', 64, nullable=False),
    _time('created_at', nullable=False),
    _text('updated_by', 64, nullable=False),
    _time('updated_at', nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('segment')
    op.drop_index('ix_customer_return_sale', table_name='customer_return')
    op.drop_table('customer_return')
    op.drop_index('ix_customer_purchase_category_member', table_name='customer_purchase_category')
    op.drop_table('customer_purchase_category')
    op.drop_index('ix_customer_purchase_member_time', table_name='customer_purchase')
    op.drop_table('customer_purchase')
    op.drop_index('ix_customer_home_store', table_name='customer')
    op.drop_index('ix_customer_community', table_name='customer')
    op.drop_table('customer')
