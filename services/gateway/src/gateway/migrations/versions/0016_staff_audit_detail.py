"""A staff account's change is recorded whole: its description before and after, each up to about
314 characters, did not fit the 300 of `staff_audit.detail`.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=AutoString(length=300), type_=AutoString(length=1000),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=AutoString(length=1000), type_=AutoString(length=300),
                              existing_nullable=False)
