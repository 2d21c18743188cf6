"""Card numbers in capitals, as every card number is read now (`shared.cards.CardNumber`): a card
typed in small letters at a till or a desk was a card nobody held.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

from shared.migrations import card_numbers_in_capitals

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    card_numbers_in_capitals("pos_sale")


def downgrade() -> None:
    pass  # the case a number was typed in says nothing: there is nothing to put back
