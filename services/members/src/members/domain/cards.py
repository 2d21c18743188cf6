"""Points card numbers the members service issues: 13 digits, prefix 88, Luhn check digit
(`shared.cards`), which catches mistyped digits at the desk."""

import secrets
from datetime import datetime

from shared.cards import luhn_check_digit

PREFIX = "88"
LENGTH = 13


def new_card_no() -> str:
    body = PREFIX + "".join(secrets.choice("0123456789") for _ in range(LENGTH - len(PREFIX) - 1))
    return body + luhn_check_digit(body)


def still_theirs(sold_at: datetime, retired_at: datetime) -> bool:
    """Whether a sale on a card replaced at the desk was its member's: made before the card was
    retired (a till's backlog sent after the replacement, an import of old sales). Made after, it
    is someone else's carrying the lost card, and no member's."""
    return sold_at < retired_at
