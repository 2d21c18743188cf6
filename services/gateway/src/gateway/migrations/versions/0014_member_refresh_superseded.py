"""A member's refresh token revoked because a retry took the answer it came in for lost is told
from one revoked by a logout (`member_refresh_token.superseded_at`): presented again, it is reuse.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member_refresh_token') as batch:
        batch.add_column(sa.Column('superseded_at', shared.columns.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('member_refresh_token') as batch:
        batch.drop_column('superseded_at')
