"""A card replaced at the desk is kept, marked retired, instead of removed: the till's coupon
validation then tells the cashier the customer has a new card, where it said "present the member
card" for a card that was shown. Cards removed before this stay unknown.

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
    with op.batch_alter_table('member_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Retired cards led to nobody; without the column they would lead to their member again.
    op.execute(sa.text("DELETE FROM member_card WHERE retired"))
    with op.batch_alter_table('member_card', schema=None) as batch_op:
        batch_op.drop_column('retired')
