"""Points card numbers: 13 digits, prefix 88, Luhn check digit (catches mistyped digits at the desk)."""

import secrets

PREFIX = "88"
LENGTH = 13


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def new_card_no() -> str:
    body = PREFIX + "".join(secrets.choice("0123456789") for _ in range(LENGTH - len(PREFIX) - 1))
    return body + luhn_check_digit(body)


def is_valid_issued_card(card_no: str) -> bool:
    return (
        len(card_no) == LENGTH and card_no.isdigit() and card_no.startswith(PREFIX)
        and luhn_check_digit(card_no[:-1]) == card_no[-1]
    )
