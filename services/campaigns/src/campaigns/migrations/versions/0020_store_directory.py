"""The stores' names move into the store directory every service keeps alike
(`shared.store_directory`), which also has each store's city and whether it is open for business.
The names kept so far come along; their stores count as open until the gateway says otherwise.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns
from shared.migrations import create_store_directory_table, drop_store_directory_table

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_store_directory_table()
    op.execute("INSERT INTO store_directory (store_id, name, city, active, changed_at) "
               "SELECT store_id, name, '', true, changed_at FROM store_name")
    op.drop_table('store_name')


def downgrade() -> None:
    op.create_table(
        'store_name',
        sa.Column('store_id', AutoString(length=32), nullable=False),
        sa.Column('name', AutoString(length=100), nullable=False),
        sa.Column('changed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('store_id'),
    )
    op.execute("INSERT INTO store_name (store_id, name, changed_at) SELECT store_id, name, changed_at FROM store_directory")
    drop_store_directory_table()
