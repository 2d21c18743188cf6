"""A gift redemption's Idempotency-Key is its member's: the register's key is unique per member,
not across the chain, so that two members' apps choosing the same key reserve a gift each.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:00:00.000000
"""

from collections.abc import Sequence

from shared.migrations import scope_key_to_member, unscope_key_from_member

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    scope_key_to_member('gift_redemption', 'uq_redemption_member_key')


def downgrade() -> None:
    unscope_key_from_member('gift_redemption', 'uq_redemption_member_key')
