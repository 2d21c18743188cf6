"""Campaigns and the members each reached or held out.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, shared.columns.UtcDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:
    return sa.Column(name, AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table('campaign',
    _text('id', 36, nullable=False),
    _text('name', 120, nullable=False),
    _text('description', 2000, nullable=False),
    _text('kind', 16, nullable=False),
    _text('trigger', 32),
    _text('segment_id', 36),
    sa.Column('segment_rule', sa.JSON(), nullable=True),
    _text('coupon_template_id', 36),
    sa.Column('message', sa.JSON(), nullable=True),
    sa.Column('control_share', shared.columns.Fraction(), nullable=False),
    sa.Column('marketing', sa.Boolean(), nullable=False),
    _text('channel', 8, nullable=False),
    _time('starts_at'),
    _time('ends_at'),
    _text('state', 16, nullable=False),
    sa.Column('treatment_size', sa.Integer(), nullable=False),
    sa.Column('control_size', sa.Integer(), nullable=False),
    _text('created_by', 64, nullable=False),
    _time('created_at', nullable=False),
    _time('launched_at'),
    _time('started_at'),
    _time('ended_at'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_campaign_state', 'campaign', ['state'])
    op.create_table('campaign_member',
    _text('campaign_id', 36, nullable=False),
    _text('member_id', 36, nullable=False),
    _text('occasion', 100, nullable=False),
    sa.Column('control', sa.Boolean(), nullable=False),
    _time('reached_at', nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'member_id', 'occasion')
    )


def downgrade() -> None:
    op.drop_table('campaign_member')
    op.drop_index('ix_campaign_state', table_name='campaign')
    op.drop_table('campaign')
