"""An earning rule version remembers the Idempotency-Key it was added under (`earning_rule`), so
a form sent twice adds one version.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('earning_rule') as batch:
        batch.add_column(sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch.add_column(sa.Column('request_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.create_unique_constraint('uq_earning_rule_key', ['created_by', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('earning_rule') as batch:
        batch.drop_constraint('uq_earning_rule_key', type_='unique')
        batch.drop_column('request_digest')
        batch.drop_column('idempotency_key')
