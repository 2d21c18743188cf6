"""Account managers, tiers and tracking: staff directory, community coverage, spend milestones,
VIP welcomes, tier reviews and tracking records.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('work_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_store_id'), ['store_id'], unique=False)

    op.create_table('manager_coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('manager_id', 'community_id', name='uq_coverage_manager_community')
    )
    with op.batch_alter_table('manager_coverage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manager_coverage_community_id'), ['community_id'], unique=False)

    op.create_table('spend_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('milestone', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('lifetime_spend', shared.columns.MoneyColumn(), nullable=False),
    sa.Column('reached_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'milestone', name='uq_milestone_member')
    )
    with op.batch_alter_table('spend_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spend_milestone_member_id'), ['member_id'], unique=False)

    op.create_table('vip_welcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('promoted_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requested_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'promoted_at', name='uq_vip_welcome_promotion')
    )

    op.create_table('tier_review',
    sa.Column('review_date', sa.Date(), nullable=False),
    sa.Column('held_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('demoted', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('review_date')
    )

    op.create_table('tracking_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracked_on', sa.Date(), nullable=False),
    sa.Column('manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recorded_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tracking_record', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_manager_day', ['manager_id', 'tracked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_record_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_tracking_store_day', ['store_id', 'tracked_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_record', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_store_day')
        batch_op.drop_index(batch_op.f('ix_tracking_record_member_id'))
        batch_op.drop_index('ix_tracking_manager_day')
    op.drop_table('tracking_record')
    op.drop_table('tier_review')
    op.drop_table('vip_welcome')
    with op.batch_alter_table('spend_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spend_milestone_member_id'))
    op.drop_table('spend_milestone')
    with op.batch_alter_table('manager_coverage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manager_coverage_community_id'))
    op.drop_table('manager_coverage')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_store_id'))
    op.drop_table('staff')
