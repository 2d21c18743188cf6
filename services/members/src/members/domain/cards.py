"""Points card numbers the members service issues: 13 digits, prefix 88, Luhn check digit
(`shared.cards`), which catches mistyped digits at the desk."""

import secrets

from shared.cards import luhn_check_digit

PREFIX = "88"
LENGTH = 13


def new_card_no() -> str:
    body = PREFIX + "".join(secrets.choice("0123456789") for _ in range(LENGTH - len(PREFIX) - 1))
    return body + luhn_check_digit(body)
