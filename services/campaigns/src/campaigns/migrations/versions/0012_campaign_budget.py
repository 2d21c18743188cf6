"""A campaign's own budget (max_coupons, max_discount) and the template it issues from because of
it: the chosen one with its caps narrowed to the budget. Campaigns that exist have none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('budget', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('budget_template_id', AutoString(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('budget_template_id')
        batch.drop_column('budget')
