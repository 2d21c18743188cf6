"""Access policy: the member directory (home store, account manager, erasure of each customer,
learnt from members' events).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('member_directory',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('home_store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('erased_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('member_id')
    )


def downgrade() -> None:
    op.drop_table('member_directory')
