"""Information base read models: spend per member, store and business day, and per household and
store over all time; community merges.

Sales already attributed before this revision are folded into the read model here, so the
information base starts complete (the event path keeps it up to date from then on).

Revision ID: 0003
Revises: 0002
"""

import os
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_member = sa.table("member", sa.column("id"), sa.column("community_id"), sa.column("household_id"))
_purchase = sa.table(
    "purchase", sa.column("member_id"), sa.column("store_id"), sa.column("occurred_at", shared.columns.UtcDateTime()),
    sa.column("total", shared.columns.MoneyColumn()), sa.column("returned", shared.columns.MoneyColumn()),
)


def _backfill(bind: sa.Connection, table: sa.Table, rollup: sa.Table) -> None:
    # The same zone setting the service reads (members.config.Settings.business_timezone).
    zone = ZoneInfo(os.environ.get("CRM_BUSINESS_TIMEZONE", "Asia/Shanghai"))
    p, m = _purchase.c, _member.c
    rows = bind.execute(
        sa.select(p.member_id, p.store_id, p.occurred_at, p.total, p.returned, m.community_id, m.household_id)
        .join(_member, m.id == p.member_id)
        .where(m.community_id.is_not(None), m.household_id.is_not(None))
    )
    days: dict[tuple, dict] = {}
    households: dict[tuple, dict] = {}
    for member_id, store_id, occurred_at, total, returned, community_id, household_id in rows:
        key = (member_id, store_id, occurred_at.astimezone(zone).date())
        day = days.setdefault(key, {
            "member_id": member_id, "store_id": store_id, "business_day": key[2], "community_id": community_id,
            "household_id": household_id, "spend": Decimal("0.00"), "purchases": 0, "last_purchase_at": occurred_at,
        })
        # Returns count against the day of their sale (see service_layer/infobase.py).
        day["spend"] += total - returned
        day["purchases"] += 1
        day["last_purchase_at"] = max(day["last_purchase_at"], occurred_at)
        for store in (store_id, "*"):  # "*": all stores (adapters/tables/infobase.py ALL_STORES)
            home = households.setdefault((household_id, store), {
                "household_id": household_id, "store_id": store, "community_id": community_id,
                "spend": Decimal("0.00"), "purchases": 0,
            })
            home["spend"] += total - returned
            home["purchases"] += 1
    if days:
        op.bulk_insert(table, list(days.values()))
        op.bulk_insert(rollup, list(households.values()))


def upgrade() -> None:
    day_table = op.create_table('infobase_member_day',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('spend', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('purchases', sa.Integer(), nullable=False),
    sa.Column('last_purchase_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', 'store_id', 'business_day')
    )
    with op.batch_alter_table('infobase_member_day', schema=None) as batch_op:
        batch_op.create_index('ix_infobase_member_day_community_day', ['community_id', 'business_day'], unique=False)
        batch_op.create_index('ix_infobase_member_day_store_day', ['store_id', 'business_day'], unique=False)
        batch_op.create_index('ix_infobase_member_day_day', ['business_day'], unique=False,
                              postgresql_include=['community_id', 'household_id', 'spend', 'purchases'])
        batch_op.create_index('ix_infobase_member_day_household', ['household_id'], unique=False)

    op.create_table('community_merge',
    sa.Column('from_community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('into_community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('from_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('merged_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('merged_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('from_community_id')
    )
    with op.batch_alter_table('community_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_merge_into_community_id'), ['into_community_id'], unique=False)

    rollup = op.create_table('infobase_household_store',
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('spend', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('purchases', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('household_id', 'store_id')
    )
    with op.batch_alter_table('infobase_household_store', schema=None) as batch_op:
        batch_op.create_index('ix_infobase_household_store_store_community', ['store_id', 'community_id'], unique=False,
                              postgresql_include=['spend', 'purchases'])

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index('ix_member_live_community', ['community_id'], unique=False,
                              postgresql_where=sa.text('erased_at IS NULL'), sqlite_where=sa.text('erased_at IS NULL'))

    _backfill(op.get_bind(), day_table, rollup)


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_live_community')

    with op.batch_alter_table('community_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_merge_into_community_id'))

    op.drop_table('community_merge')
    with op.batch_alter_table('infobase_household_store', schema=None) as batch_op:
        batch_op.drop_index('ix_infobase_household_store_store_community')

    op.drop_table('infobase_household_store')
    with op.batch_alter_table('infobase_member_day', schema=None) as batch_op:
        batch_op.drop_index('ix_infobase_member_day_household')
        batch_op.drop_index('ix_infobase_member_day_day')
        batch_op.drop_index('ix_infobase_member_day_store_day')
        batch_op.drop_index('ix_infobase_member_day_community_day')

    op.drop_table('infobase_member_day')
