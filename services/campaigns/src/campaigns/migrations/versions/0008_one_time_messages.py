"""One-time messages to a phone number (sign-in codes), and the masked number on the local
outbox's row of one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('one_time_message',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('transport_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_one_time_message_created', 'one_time_message', ['created_at'], unique=False)
    with op.batch_alter_table('local_outbox') as batch:
        batch.add_column(sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('local_outbox') as batch:
        batch.drop_column('recipient')
    op.drop_index('ix_one_time_message_created', table_name='one_time_message')
    op.drop_table('one_time_message')
