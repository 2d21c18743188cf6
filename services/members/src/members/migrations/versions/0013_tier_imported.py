"""Whether a member's tier was reached through imported past sales (no VIP welcome is owed then).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every tier so far was reached live (or by a review): the existing members keep false.
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier_imported', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('tier_imported')
