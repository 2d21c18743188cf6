"""Information base: spend per household, store and month, filled from the day rows.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'infobase_household_month',
        sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('spend', shared.columns.MoneyColumn(), nullable=False),
        sa.Column('purchases', sa.Integer(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('prev_day', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('store_id', 'month', 'community_id', 'household_id'),
    )
    with op.batch_alter_table('infobase_household_month', schema=None) as batch_op:
        batch_op.create_index('ix_infobase_household_month_scan', ['store_id', 'month'], unique=False,
                              postgresql_include=['community_id', 'prev_day', 'spend', 'purchases'])
        batch_op.create_index('ix_infobase_household_month_household', ['household_id'], unique=False)
    # The day rows summed per month, per store and over all stores ('*'), in the database itself
    # (a chain's history is millions of day rows). Months are those of the business day the day
    # rows are kept by; SQLite keeps a date as ISO text and money as whole fen in both.
    month = ("CAST(date_trunc('month', business_day) AS DATE)" if op.get_bind().dialect.name == 'postgresql'
             else "date(business_day, 'start of month')")
    for store, per_store in (('store_id', 'store_id, '), ("'*'", '')):
        op.execute(
            "INSERT INTO infobase_household_month (store_id, month, community_id, household_id, spend, purchases, last_day) "
            f"SELECT {store}, {month}, community_id, household_id, sum(spend), sum(purchases), max(business_day) "
            f"FROM infobase_member_day GROUP BY {per_store}{month}, community_id, household_id"
        )
    # Each month row points at the last day of the household's month row before it.
    op.execute(
        "UPDATE infobase_household_month AS m SET prev_day = chained.prev_day FROM ("
        " SELECT store_id, month, community_id, household_id, lag(last_day) OVER ("
        "  PARTITION BY store_id, community_id, household_id ORDER BY month) AS prev_day FROM infobase_household_month"
        ") AS chained WHERE m.store_id = chained.store_id AND m.month = chained.month"
        " AND m.community_id = chained.community_id AND m.household_id = chained.household_id"
        " AND chained.prev_day IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('infobase_household_month', schema=None) as batch_op:
        batch_op.drop_index('ix_infobase_household_month_household')
        batch_op.drop_index('ix_infobase_household_month_scan')
    op.drop_table('infobase_household_month')
