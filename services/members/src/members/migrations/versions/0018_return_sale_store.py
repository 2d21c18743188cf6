"""The store of a return's sale, when the goods came back at another store of the chain than the one
that sold them (`crm.pos.purchase_refunded.v1`'s `sale_store_id`); empty, the sale is the return's
own store's, as for every return recorded before.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('purchase_return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sale_store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('purchase_return', schema=None) as batch_op:
        batch_op.drop_column('sale_store_id')
