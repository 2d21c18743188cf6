"""Points accounts and ledger; outbox and processed events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:29:57.862622
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
    op.create_table('points_account',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('opened_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('points_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('entry_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source_event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('occurred_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('booked_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'entry_type', 'source_ref', name='uq_ledger_source')
    )
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_member_time', ['member_id', 'id'], unique=False)



def downgrade() -> None:
    drop_messaging_tables()
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_member_time')

    op.drop_table('points_ledger')
    op.drop_table('points_account')
