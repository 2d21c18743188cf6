"""Stores, POS sales and returns; outbox and processed events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:31:35.807631
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns
from shared.migrations import create_messaging_tables, drop_messaging_tables

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table('pos_refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('refund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pos_txn_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('accepted_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'refund_id', name='uq_pos_refund_store_refund')
    )
    op.create_table('pos_sale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('pos_txn_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('card_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('phone_hmac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('total', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('refunded_total', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('occurred_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'pos_txn_id', name='uq_pos_sale_store_txn')
    )
    op.create_table('store',
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id')
    )


def downgrade() -> None:
    drop_messaging_tables()
    op.drop_table('store')
    op.drop_table('pos_sale')
    op.drop_table('pos_refund')
