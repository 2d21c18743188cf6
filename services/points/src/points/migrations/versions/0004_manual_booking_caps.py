"""Caps on manual bookings: a lock row per staff member, and an index to sum a staff member's
entries of the day.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:15:00.000000
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
    op.create_table('staff_booking_lock',
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('staff_id')
    )
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.create_index(
            'ix_ledger_staff_booked', ['staff_id', 'booked_at'], unique=False,
            postgresql_where=sa.text('staff_id IS NOT NULL'), sqlite_where=sa.text('staff_id IS NOT NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_staff_booked')
    op.drop_table('staff_booking_lock')
