"""Points card: earning rules, returns, gift catalogue and register, entitlements, bulk bonuses,
expiry warnings. Seeds the default earning rule and the chain's gift catalogue (no stock: each
store counts its own).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:10:55.474058
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bulk_bonus_item',
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('processed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job_id', 'member_id')
    )
    op.create_table('bulk_bonus_job',
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('member_ids', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('job_id'),
    sa.UniqueConstraint('idempotency_key')
    )
    op.create_table('earning_rule',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('entitlement',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('granted', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', 'kind')
    )
    op.create_table('entitlement_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('granted_total', sa.Integer(), nullable=False),
    sa.Column('granted_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'kind', 'source_ref', name='uq_entitlement_grant')
    )
    op.create_table('entitlement_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('booked_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('entitlement_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entitlement_use_member_id'), ['member_id'], unique=False)

    op.create_table('expiry_warning',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('warned_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', 'expires_on')
    )
    op.create_table('gift',
    sa.Column('gift_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('active_from', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('active_until', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('gift_id')
    )
    op.create_table('gift_redemption',
    sa.Column('redemption_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('gift_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('redeemed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('handed_over_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('handed_over_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('cancelled_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('redemption_id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('gift_redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_redemption_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_redemption_store_time', ['store_id', 'redeemed_at'], unique=False)

    op.create_table('pending_return',
    sa.Column('refund_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sale_event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('refund_ref')
    )
    with op.batch_alter_table('pending_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_return_sale_event_id'), ['sale_event_id'], unique=False)

    op.create_table('sale_earning',
    sa.Column('sale_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('sale_event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('eligible_amount', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('returned_eligible', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('reversed_points', sa.Integer(), nullable=False),
    sa.Column('occurred_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sale_ref'),
    sa.UniqueConstraint('sale_event_id')
    )
    with op.batch_alter_table('sale_earning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sale_earning_member_id'), ['member_id'], unique=False)

    op.create_table('gift_price',
    sa.Column('gift_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['gift_id'], ['gift.gift_id'], ),
    sa.PrimaryKeyConstraint('gift_id', 'channel')
    )
    op.create_table('gift_stock',
    sa.Column('gift_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity >= 0', name='ck_gift_stock_not_negative'),
    sa.ForeignKeyConstraint(['gift_id'], ['gift.gift_id'], ),
    sa.PrimaryKeyConstraint('gift_id', 'store_id')
    )
    with op.batch_alter_table('points_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_points_account_card_no'), ['card_no'], unique=False)

    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    _seed()


SEEDED_AT = datetime(2026, 11, 23, tzinfo=UTC)
# gift id, 中文, English, retail points, partner-channel points (装饰公司客户)
GIFTS = [
    ("cushion", "靠枕", "Cushion", 10_000, 8_000),
    ("electric-kettle", "电水壶", "Electric kettle", 18_000, 15_000),
    ("rice-cooker", "电饭锅", "Rice cooker", 28_000, 20_000),
    ("induction-cooker", "电磁炉", "Induction cooker", 45_000, 36_000),
    ("microwave-oven", "微波炉", "Microwave oven", 60_000, 50_000),
]


def _seed() -> None:
    rule = sa.table(
        "earning_rule", sa.column("version", sa.Integer), sa.column("effective_from", shared.columns.UtcDateTime()),
        sa.column("body", sa.JSON), sa.column("reason", sa.String), sa.column("created_by", sa.String),
        sa.column("created_at", shared.columns.UtcDateTime()),
    )
    op.bulk_insert(rule, [{
        "version": 1, "effective_from": datetime(2000, 1, 1, tzinfo=UTC),
        "body": {"points_per_yuan": "1", "channel_rates": {}, "store_rates": {}, "category_multipliers": {},
                 "min_sale_amount": "0.00"},
        "reason": "default: 1 point per whole yuan of a sale", "created_by": "system", "created_at": SEEDED_AT,
    }])
    gift = sa.table(
        "gift", sa.column("gift_id", sa.String), sa.column("name_zh", sa.String), sa.column("name_en", sa.String),
        sa.column("updated_at", shared.columns.UtcDateTime()),
    )
    price = sa.table("gift_price", sa.column("gift_id", sa.String), sa.column("channel", sa.String), sa.column("points", sa.Integer))
    op.bulk_insert(gift, [{"gift_id": g, "name_zh": zh, "name_en": en, "updated_at": SEEDED_AT} for g, zh, en, _, _ in GIFTS])
    op.bulk_insert(price, [
        {"gift_id": g, "channel": channel, "points": points}
        for g, _, _, retail, partner in GIFTS for channel, points in (("retail", retail), ("partner", partner))
    ])



def downgrade() -> None:
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.drop_column('job_id')
        batch_op.drop_column('staff_id')

    with op.batch_alter_table('points_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_account_card_no'))
        batch_op.drop_column('card_no')

    op.drop_table('gift_stock')
    op.drop_table('gift_price')
    with op.batch_alter_table('sale_earning', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sale_earning_member_id'))

    op.drop_table('sale_earning')
    with op.batch_alter_table('pending_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_return_sale_event_id'))

    op.drop_table('pending_return')
    with op.batch_alter_table('gift_redemption', schema=None) as batch_op:
        batch_op.drop_index('ix_redemption_store_time')
        batch_op.drop_index(batch_op.f('ix_gift_redemption_member_id'))

    op.drop_table('gift_redemption')
    op.drop_table('gift')
    op.drop_table('expiry_warning')
    with op.batch_alter_table('entitlement_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entitlement_use_member_id'))

    op.drop_table('entitlement_use')
    op.drop_table('entitlement_grant')
    op.drop_table('entitlement')
    op.drop_table('earning_rule')
    op.drop_table('bulk_bonus_job')
    op.drop_table('bulk_bonus_item')
