"""Each round's resolution note kept in the complaint's history, beside the resolve step it was
written with: a reopened complaint resolved again replaced the complaint's `resolution_note`, and
what staff had done the first time was gone.

The notes of rounds resolved before this revision were replaced already; the latest one is still
the complaint's, and goes to its latest resolve step.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    op.execute(sa.text(
        "UPDATE complaint_history SET note = ("
        " SELECT complaint.resolution_note FROM complaint WHERE complaint.id = complaint_history.complaint_id)"
        " WHERE action = 'resolve' AND id = ("
        " SELECT max(latest.id) FROM complaint_history AS latest"
        " WHERE latest.complaint_id = complaint_history.complaint_id AND latest.action = 'resolve')"))


def downgrade() -> None:
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.drop_column('note')
