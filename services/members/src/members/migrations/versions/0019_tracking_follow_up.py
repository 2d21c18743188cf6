"""The next contact an account manager plans on a tracking record (`next_follow_up_on`); records
made before plan none.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tracking_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_follow_up_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tracking_record', schema=None) as batch_op:
        batch_op.drop_column('next_follow_up_on')
