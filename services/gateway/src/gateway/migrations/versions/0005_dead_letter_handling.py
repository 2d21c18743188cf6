"""The console's dead-letter handling: a mark per replayed or discarded dead letter, and each
replay an operator started.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:15:00.000000
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


def upgrade() -> None:
    op.create_table('dead_letter_mark',
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('replay_id', sa.Integer(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('acted_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('topic', 'partition', 'offset')
    )
    op.create_index(op.f('ix_dead_letter_mark_replay_id'), 'dead_letter_mark', ['replay_id'], unique=False)
    op.create_table('dead_letter_replay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('requested_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('filter_json', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('selection', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
    sa.Column('dry_run_count', sa.Integer(), nullable=False),
    sa.Column('replayed', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('finished_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('dead_letter_replay')
    op.drop_index(op.f('ix_dead_letter_mark_replay_id'), table_name='dead_letter_mark')
    op.drop_table('dead_letter_mark')
