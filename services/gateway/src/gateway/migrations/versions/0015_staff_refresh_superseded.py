"""A staff refresh token ended by a sibling's swap is told from one swapped itself
(`staff_refresh_token.superseded_at`): presented again, even moments later, it is reuse.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_refresh_token') as batch:
        batch.add_column(sa.Column('superseded_at', shared.columns.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_refresh_token') as batch:
        batch.drop_column('superseded_at')
