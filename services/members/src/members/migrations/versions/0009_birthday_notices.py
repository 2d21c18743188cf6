"""Birthday notices: which members' birthdays were announced, once per member and year.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'birthday_notice',
        sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('occasion_year', sa.Integer(), nullable=False),
        sa.Column('published_at', shared.columns.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('member_id', 'occasion_year'),
    )


def downgrade() -> None:
    op.drop_table('birthday_notice')
