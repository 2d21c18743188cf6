"""The times a customer's home store (and channel and community) were true at, in the member
directory and the audience, so that a member's events change them only with a newer fact (value
analytics read before a staff move and published after it). The audience's `profile_at` starts at
the attributes' or the registration's time, whichever it last took them from.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns
from shared.migrations import add_home_store_time, drop_home_store_time

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_home_store_time()
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('profile_at', shared.columns.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE customer SET profile_at = COALESCE(attributes_as_of, registered_at)")


def downgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('profile_at')
    drop_home_store_time()
