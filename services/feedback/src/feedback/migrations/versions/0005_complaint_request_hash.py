"""The fingerprint of a complaint's filing, kept beside its Idempotency-Key: a later request under
the same key is answered the first complaint only if it asks for the same filing, and 409 if it asks
for another. Complaints filed before this revision have none and keep the older answer (the first
complaint, whatever the request).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('request_hash')
