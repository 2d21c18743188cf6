"""Card numbers retired for good: reported lost or damaged, or an erased member's.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('retired_card',
    sa.Column('card_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('retired_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('retired_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('card_no')
    )
    with op.batch_alter_table('retired_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_card_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retired_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retired_card_member_id'))
    op.drop_table('retired_card')
