"""The chain's stores as the gateway announces them (`store_changed`, `shared.store_directory`): a
gift is not reserved for pick-up at a store that has closed. Until the gateway's next announcement
of a store it is not known to be closed (saving a store unchanged at the gateway announces it).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from shared.migrations import create_store_directory_table, drop_store_directory_table

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_store_directory_table()


def downgrade() -> None:
    drop_store_directory_table()
