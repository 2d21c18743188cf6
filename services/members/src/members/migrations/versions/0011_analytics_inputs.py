"""Value analytics: each run remembers a digest of the data it left, so a rerun over unchanged data is cheap.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('value_analytics_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('value_analytics_run', schema=None) as batch_op:
        batch_op.drop_column('inputs_key')
