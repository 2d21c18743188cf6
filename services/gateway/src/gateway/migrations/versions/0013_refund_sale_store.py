"""The store of a return's sale in its idempotency record, when the goods came back at another store
of the chain than the one that sold them (`sale_store_id` of `POST /pos/v1/refunds`); empty, the
sale is the return's own store's, as for every return accepted before.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pos_refund', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sale_store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pos_refund', schema=None) as batch_op:
        batch_op.drop_column('sale_store_id')
