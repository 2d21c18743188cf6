"""Coupons: templates, coupons, budget and cap counters, refused redemptions, members' cards, and the
member directory for the access policy.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 05:45:07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('coupon_counter',
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('used_count', sa.Integer(), nullable=False),
    sa.Column('used_amount', shared.columns.MoneyColumn(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('coupon_rejection',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sale_event_id', sa.String(length=200), nullable=False),
    sa.Column('store_id', sa.String(length=32), nullable=False),
    sa.Column('pos_txn_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('discount_claimed', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('recorded_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coupon_rejection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_rejection_sale_event_id'), ['sale_event_id'], unique=False)

    op.create_table('coupon_template',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('generic_code', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('generic_code')
    )
    op.create_table('member_card',
    sa.Column('card_no', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('card_no')
    )
    with op.batch_alter_table('member_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_card_member_id'), ['member_id'], unique=False)

    op.create_table('member_directory',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('home_store_id', sa.String(length=32), nullable=True),
    sa.Column('manager_id', sa.String(length=64), nullable=True),
    sa.Column('erased_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('coupon',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('use_key', sa.String(length=200), nullable=True),
    sa.Column('template_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=True),
    sa.Column('campaign_key', sa.String(length=120), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('issued_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('valid_from', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('store_id', sa.String(length=32), nullable=True),
    sa.Column('pos_txn_id', sa.String(length=64), nullable=True),
    sa.Column('reserved_until', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('redeemed_sale_event_id', sa.String(length=200), nullable=True),
    sa.Column('redeemed_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('discount', shared.columns.MoneyColumn(), nullable=True),
    sa.Column('counted_store_id', sa.String(length=32), nullable=True),
    sa.Column('counted_period', sa.Integer(), nullable=True),
    sa.Column('counted_member_id', sa.String(length=36), nullable=True),
    sa.Column('refund_id', sa.String(length=64), nullable=True),
    sa.Column('reversed_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_template.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('use_key')
    )
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.create_index('ix_coupon_issue', ['template_id', 'campaign_key', 'member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_coupon_reservations', ['state', 'reserved_until'], unique=False)
        batch_op.create_index('ix_coupon_txn', ['store_id', 'pos_txn_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.drop_index('ix_coupon_txn')
        batch_op.drop_index('ix_coupon_reservations')
        batch_op.drop_index(batch_op.f('ix_coupon_member_id'))
        batch_op.drop_index('ix_coupon_issue')

    op.drop_table('coupon')
    op.drop_table('member_directory')
    with op.batch_alter_table('member_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_card_member_id'))

    op.drop_table('member_card')
    op.drop_table('coupon_template')
    with op.batch_alter_table('coupon_rejection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_rejection_sale_event_id'))

    op.drop_table('coupon_rejection')
    op.drop_table('coupon_counter')
