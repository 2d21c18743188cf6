"""An entitlement use's Idempotency-Key is its member's, as a redemption's is (0007): a desk booking
a home visit for one customer under a key used for another books it, instead of answering with the
other customer's visit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:30:00.000000
"""

from collections.abc import Sequence

from shared.migrations import scope_key_to_member, unscope_key_from_member

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    scope_key_to_member('entitlement_use', 'uq_entitlement_use_member_key')


def downgrade() -> None:
    unscope_key_from_member('entitlement_use', 'uq_entitlement_use_member_key')
