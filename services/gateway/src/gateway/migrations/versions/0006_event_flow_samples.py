"""The event flow's sampled figures (consumer lag and outbox backlog) for the console's 24-hour
history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event_flow_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sampled_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('messages', sa.BigInteger(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_event_flow_sample_sampled_at'), 'event_flow_sample', ['sampled_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_event_flow_sample_sampled_at'), table_name='event_flow_sample')
    op.drop_table('event_flow_sample')
