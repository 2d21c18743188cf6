"""A staff account remembers the Idempotency-Key it was created under and what was asked, so that a
creation retried after a lost answer gives back the account rather than "login taken".

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('creation_key', AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('creation_digest', AutoString(length=64), nullable=True))
        batch_op.create_index('ix_staff_account_creation_key', ['creation_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('staff_account', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_account_creation_key')
        batch_op.drop_column('creation_digest')
        batch_op.drop_column('creation_key')
