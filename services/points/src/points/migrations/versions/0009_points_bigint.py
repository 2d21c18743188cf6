"""Points figures as BIGINT: a balance, a ledger entry or an expiry date's sum may pass 2**31 - 1
(int4 on PostgreSQL), where booking would fail and the event be dead-lettered. SQLite's INTEGER is
64-bit already; its tables are rebuilt (batch mode) only so that their declared types match the models.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column holding points that add up: a gift's price, a redemption and a bulk bonus are one
# figure each, bounded by POINTS_MAX where they enter, and stay INTEGER.
COLUMNS = {
    'points_account': ('balance',),
    'points_ledger': ('points', 'balance_after'),
    'sale_earning': ('points', 'reversed_points'),
    'expiry_warning': ('points',),
}


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    # Fails on PostgreSQL if a figure no longer fits in int4: narrowing would lose it.
    _retype(sa.BigInteger(), sa.Integer())
