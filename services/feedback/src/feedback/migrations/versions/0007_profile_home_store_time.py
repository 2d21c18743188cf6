"""The time a member profile's home store was true at, so that a member's events change it only
with a newer fact (value analytics read before a staff move and published after it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:10:00.000000
"""

from collections.abc import Sequence

from shared.migrations import add_home_store_time, drop_home_store_time

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_home_store_time("member_profile")


def downgrade() -> None:
    drop_home_store_time("member_profile")
