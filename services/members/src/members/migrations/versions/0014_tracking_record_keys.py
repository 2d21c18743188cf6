"""A tracking record's Idempotency-Key, unique per account manager: the daily form sent twice is
recorded once. Records made before have none.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tracking_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', AutoString(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_tracking_record_key', ['manager_id', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('tracking_record', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tracking_record_key', type_='unique')
        batch_op.drop_column('idempotency_key')
