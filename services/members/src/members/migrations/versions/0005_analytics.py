"""Value analytics: each member's value snapshot, the runs of the job, complaints per member.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> shared.columns.UtcDateTime:
    return shared.columns.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'member_value',
        sa.Column('member_id', _text(36), nullable=False),
        sa.Column('as_of', _time(), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('recency', sa.Integer(), nullable=False),
        sa.Column('frequency', sa.Integer(), nullable=False),
        sa.Column('monetary', sa.Integer(), nullable=False),
        sa.Column('value_class', _text(16), nullable=False),
        sa.Column('rhythm_churn_risk', _text(16), nullable=False),
        sa.Column('churn_risk', _text(16), nullable=False),
        sa.Column('window_spend', shared.columns.MoneyColumn(), nullable=False),
        sa.Column('window_purchase_days', sa.Integer(), nullable=False),
        sa.Column('last_purchase_at', _time(), nullable=True),
        sa.Column('last_purchase_day', sa.Integer(), nullable=True),
        sa.Column('days_since_last_purchase', sa.Integer(), nullable=True),
        sa.Column('typical_interval_days', sa.Float(), nullable=True),
        sa.Column('rhythm_source', _text(16), nullable=False),
        sa.Column('attributes_digest', _text(64), nullable=False),
        sa.Column('attributes_version', sa.Integer(), nullable=False),
        sa.Column('published_at', _time(), nullable=True),
        sa.PrimaryKeyConstraint('member_id'),
    )
    op.create_index('ix_member_value_churn', 'member_value', ['churn_risk', 'window_spend'])
    op.create_index('ix_member_value_class_spend', 'member_value', ['value_class', 'window_spend'])

    op.create_table(
        'value_analytics_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('as_of', _time(), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('members_total', sa.Integer(), nullable=False),
        sa.Column('published', sa.Integer(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_value_analytics_run_as_of', 'value_analytics_run', ['as_of'])

    op.create_table(
        'member_complaint',
        sa.Column('complaint_id', _text(64), nullable=False),
        sa.Column('member_id', _text(36), nullable=False),
        sa.Column('store_id', _text(32), nullable=False),
        sa.Column('category', _text(32), nullable=False),
        sa.Column('severity', _text(16), nullable=False),
        sa.Column('channel', _text(16), nullable=True),
        sa.Column('filed_at', _time(), nullable=True),
        sa.Column('resolved_at', _time(), nullable=True),
        sa.PrimaryKeyConstraint('complaint_id'),
    )
    op.create_index('ix_member_complaint_member_filed', 'member_complaint', ['member_id', 'filed_at'])


def downgrade() -> None:
    op.drop_index('ix_member_complaint_member_filed', table_name='member_complaint')
    op.drop_table('member_complaint')
    op.drop_index('ix_value_analytics_run_as_of', table_name='value_analytics_run')
    op.drop_table('value_analytics_run')
    op.drop_index('ix_member_value_class_spend', table_name='member_value')
    op.drop_index('ix_member_value_churn', table_name='member_value')
    op.drop_table('member_value')
