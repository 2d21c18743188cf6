"""A home store that is no store id is no home store.

The API took any text of up to 32 characters as a member's home store before it took store ids
only (`shared.identifiers.StoreId`). Such a value names no store, and every later change of the
member failed when its `member_profile_changed` event, which holds the home store to a store id,
refused it. It is cleared here: the member has no home store until staff give them one. The other
services keep the value they were told at registration, which names no store either (no gift is
stocked there, no store's staff serve it); the member's next profile change tells them none.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # shared.identifiers.STORE_ID_PATTERN: letters, digits, '_' and '-', at least one.
    if op.get_bind().dialect.name == 'postgresql':
        no_store_id = "home_store_id !~ '^[A-Za-z0-9_-]+$'"
    else:  # SQLite: GLOB's classes, as it has no regular expressions of its own
        no_store_id = "(home_store_id = '' OR home_store_id GLOB '*[^A-Za-z0-9_-]*')"
    op.execute(sa.text(f"UPDATE member SET home_store_id = NULL WHERE home_store_id IS NOT NULL AND {no_store_id}"))


def downgrade() -> None:
    pass  # what was cleared named no store: there is nothing to put back
