"""The time the member directory's home store was true at, so that a member's events change it only
with a newer fact (value analytics read before a staff move and published after it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:10:00.000000
"""

from collections.abc import Sequence

from shared.migrations import add_home_store_time, drop_home_store_time

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_home_store_time()


def downgrade() -> None:
    drop_home_store_time()
