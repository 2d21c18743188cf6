"""Personalised offers: each customer's opt-out in the read model, and whether a campaign is
personalised (campaigns that exist already are: they were built from segments and triggers).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('personalised', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('personalised_at', shared.columns.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('personalised', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('personalised')
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('personalised_at')
        batch.drop_column('personalised')
