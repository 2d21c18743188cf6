"""An entitlement use's Idempotency-Key is its member's, as a redemption's is (0007): a desk booking
a home visit for one customer under a key used for another books it, instead of answering with the
other customer's visit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0002 left the key's constraint unnamed: PostgreSQL named it itself, and SQLite's copy of the
# table is given this name by the convention below so that the batch can drop it.
_CONVENTION = {"uq": "%(table_name)s_%(column_0_name)s_key"}
_OLD = 'entitlement_use_idempotency_key_key'
_NEW = 'uq_entitlement_use_member_key'


def upgrade() -> None:
    with op.batch_alter_table('entitlement_use', schema=None, naming_convention=_CONVENTION) as batch_op:
        batch_op.drop_constraint(_OLD, type_='unique')
        batch_op.create_unique_constraint(_NEW, ['member_id', 'idempotency_key'])


def downgrade() -> None:
    # Fails if two members have used one key since: which of them is the key's cannot be told.
    with op.batch_alter_table('entitlement_use', schema=None) as batch_op:
        batch_op.drop_constraint(_NEW, type_='unique')
        batch_op.create_unique_constraint(_OLD, ['idempotency_key'])
