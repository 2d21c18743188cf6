"""Customer base: communities with aliases, households, returns, consent history, tiers.

Existing members get their community and household resolved from the text they gave, and their
SMS consent carried over into the consent history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:55:05.538110
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns
from members.domain.communities import address_key, community_key

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_member = sa.table(
    "member", sa.column("id"), sa.column("community"), sa.column("address"), sa.column("consent_sms", sa.Boolean()),
    sa.column("consent_sms_at", shared.columns.UtcDateTime()), sa.column("created_at", shared.columns.UtcDateTime()),
    sa.column("community_id"), sa.column("household_id"),
)
_community = sa.table("community", sa.column("id"), sa.column("name"), sa.column("created_at", shared.columns.UtcDateTime()))
_alias = sa.table("community_alias", sa.column("alias_key"), sa.column("alias"), sa.column("community_id"))
_household = sa.table(
    "household", sa.column("id"), sa.column("community_id"), sa.column("address_key"),
    sa.column("created_at", shared.columns.UtcDateTime()),
)
_consent = sa.table(
    "member_consent", sa.column("member_id"), sa.column("purpose"), sa.column("granted", sa.Boolean()),
    sa.column("channel"), sa.column("recorded_by"), sa.column("changed_at", shared.columns.UtcDateTime()),
)


def _backfill(bind: sa.Connection) -> None:
    now = datetime.now(UTC)
    communities: dict[str, str] = {}
    households: dict[tuple[str, str], str] = {}
    m = _member.c
    rows = bind.execute(sa.select(m.id, m.community, m.address, m.consent_sms, m.consent_sms_at, m.created_at)).all()
    for member_id, community, address, consent, consent_at, created_at in rows:
        key = community_key(community)
        if key not in communities:
            communities[key] = str(uuid.uuid4())
            bind.execute(_community.insert().values(id=communities[key], name=community, created_at=now))
            bind.execute(_alias.insert().values(alias_key=key, alias=community, community_id=communities[key]))
        home = (communities[key], address_key(address))
        if home not in households:
            households[home] = str(uuid.uuid4())
            bind.execute(_household.insert().values(id=households[home], community_id=home[0], address_key=home[1], created_at=now))
        bind.execute(_member.update().where(m.id == member_id).values(community_id=home[0], household_id=households[home]))
        bind.execute(_consent.insert().values(
            member_id=member_id, purpose="marketing_sms", granted=bool(consent), channel="import",
            recorded_by="migration-0002", changed_at=consent_at or created_at,
        ))


def upgrade() -> None:
    op.create_table('community',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('community_alias',
    sa.Column('alias_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.PrimaryKeyConstraint('alias_key')
    )
    with op.batch_alter_table('community_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_alias_community_id'), ['community_id'], unique=False)

    op.create_table('household',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('address_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'address_key', name='uq_household_address')
    )
    op.create_table('member_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('changed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('member_consent', schema=None) as batch_op:
        batch_op.create_index('ix_consent_member_purpose', ['member_id', 'purpose', 'changed_at'], unique=False)

    op.create_table('purchase_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refund_event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('refund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pos_txn_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('occurred_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('amount', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('received_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('applied_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'refund_id', name='uq_return_store_refund')
    )
    with op.batch_alter_table('purchase_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_return_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_return_pos_txn_id'), ['pos_txn_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_return_purchase_id'), ['purchase_id'], unique=False)

    op.create_table('purchase_return_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('qty', shared.columns.Qty(), nullable=False),
    sa.Column('unit_price', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('amount', shared.columns.MoneyColumn(), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['purchase_return.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('purchase_return_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_return_line_return_id'), ['return_id'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch_op.add_column(sa.Column('gender', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='unspecified'))
        batch_op.add_column(sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.add_column(sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.add_column(sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='member'))
        batch_op.add_column(sa.Column('tier_since', shared.columns.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('erased_at', shared.columns.UtcDateTime(timezone=True), nullable=True))
        batch_op.alter_column('phone',
               existing_type=sa.VARCHAR(length=11),
               nullable=True)
        batch_op.alter_column('phone_hmac',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.drop_index(batch_op.f('ix_member_community'))
        batch_op.create_index(batch_op.f('ix_member_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_home_store_id'), ['home_store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_tier'), ['tier'], unique=False)

    _backfill(op.get_bind())
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('consent_sms_at')
        batch_op.drop_column('consent_sms')

    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returned', shared.columns.MoneyColumn(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_column('returned')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_sms', sa.BOOLEAN(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('consent_sms_at', sa.DATETIME(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_member_tier'))
        batch_op.drop_index(batch_op.f('ix_member_manager_id'))
        batch_op.drop_index(batch_op.f('ix_member_household_id'))
        batch_op.drop_index(batch_op.f('ix_member_home_store_id'))
        batch_op.drop_index(batch_op.f('ix_member_community_id'))
        batch_op.create_index(batch_op.f('ix_member_community'), ['community'], unique=False)
        batch_op.alter_column('phone_hmac',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('phone',
               existing_type=sa.VARCHAR(length=11),
               nullable=False)
        batch_op.drop_column('erased_at')
        batch_op.drop_column('manager_id')
        batch_op.drop_column('tier_since')
        batch_op.drop_column('tier')
        batch_op.drop_column('household_id')
        batch_op.drop_column('community_id')
        batch_op.drop_column('gender')
        batch_op.drop_column('email')

    with op.batch_alter_table('purchase_return_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_return_line_return_id'))

    op.drop_table('purchase_return_line')
    with op.batch_alter_table('purchase_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_return_purchase_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_return_pos_txn_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_return_member_id'))

    op.drop_table('purchase_return')
    with op.batch_alter_table('member_consent', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_member_purpose')

    op.drop_table('member_consent')
    op.drop_table('household')
    with op.batch_alter_table('community_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_alias_community_id'))

    op.drop_table('community_alias')
    op.drop_table('community')
