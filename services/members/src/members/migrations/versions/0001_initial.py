"""Members, purchases and purchase lines; outbox and processed events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:29:02.426315
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
    op.create_table('member',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('card_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
    sa.Column('phone_hmac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('community', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('home_store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('consent_sms', sa.Boolean(), nullable=False),
    sa.Column('consent_sms_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('lifetime_spend', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('purchase_count', sa.Integer(), nullable=False),
    sa.Column('first_purchase_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_purchase_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('card_no'),
    sa.UniqueConstraint('phone')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_community'), ['community'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_phone_hmac'), ['phone_hmac'], unique=False)

    op.create_table('purchase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('pos_txn_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('card_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('phone_hmac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('occurred_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('total', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('payment', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('received_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('attributed_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'pos_txn_id', name='uq_purchase_store_txn')
    )
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_card_no'), ['card_no'], unique=False)
        batch_op.create_index('ix_purchase_member_time', ['member_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_phone_hmac'), ['phone_hmac'], unique=False)

    op.create_table('purchase_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('qty', shared.columns.Qty(), nullable=False),
    sa.Column('unit_price', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('amount', shared.columns.MoneyColumn(), nullable=False),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchase.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('purchase_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_line_purchase_id'), ['purchase_id'], unique=False)



def downgrade() -> None:
    drop_messaging_tables()
    with op.batch_alter_table('purchase_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_line_purchase_id'))

    op.drop_table('purchase_line')
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_phone_hmac'))
        batch_op.drop_index('ix_purchase_member_time')
        batch_op.drop_index(batch_op.f('ix_purchase_card_no'))

    op.drop_table('purchase')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_phone_hmac'))
        batch_op.drop_index(batch_op.f('ix_member_community'))

    op.drop_table('member')
