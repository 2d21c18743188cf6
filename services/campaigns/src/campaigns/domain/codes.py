"""Coupon codes: member codes minted here, and the generic codes marketing chooses.

A member code is `MEMBER_CODE_LENGTH` characters from `ALPHABET`, which leaves out the look-alikes
0/O and 1/I, so a code read aloud or copied from a receipt is typed right; its last character is a
check character (Luhn mod N over the alphabet), which catches every single mistyped character and
every swap of two neighbours but one: "2" with "Z" (the first and last of the alphabet, as Luhn's
0 and 9). A till's typo is answered `unknown_code` without a database look-up.

A generic code (one code for everybody, e.g. "SPRING20") only has to fit `shared.coupon_codes`;
it may not be as long as a member code, so that the length alone tells which kind a code is.
Every code fits `CouponCode` (upper-case letters and digits).
"""

import secrets
from collections.abc import Callable, Iterable

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MEMBER_CODE_LENGTH = 12
_N = len(ALPHABET)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}

# Draws a random index below its argument; tests pass a deterministic one to force clashes.
Draw = Callable[[int], int]


def check_character(body: str) -> str:
    """Luhn mod N: double every second value from the right, fold, and complete to a multiple of N."""
    total = 0
    factor = 2
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def is_member_code_shape(code: str) -> bool:
    return len(code) == MEMBER_CODE_LENGTH


def is_valid_member_code(code: str) -> bool:
    """Well formed and its check character matches (a pure test, no look-up)."""
    return (
        is_member_code_shape(code)
        and all(ch in _VALUE for ch in code)
        and check_character(code[:-1]) == code[-1]
    )


def could_exist(code: str) -> bool:
    """False for a code that cannot have been issued: a member code's length with a wrong check
    character or a look-alike in it. Generic codes have any other length and are looked up."""
    return not is_member_code_shape(code) or is_valid_member_code(code)


def new_member_code(draw: Draw = secrets.randbelow) -> str:
    body = "".join(ALPHABET[draw(_N)] for _ in range(MEMBER_CODE_LENGTH - 1))
    return body + check_character(body)


def new_member_codes(count: int, draw: Draw = secrets.randbelow, *, avoid: Iterable[str] = ()) -> list[str]:
    """`count` distinct codes, none of them in `avoid` (codes already taken)."""
    taken = set(avoid)
    codes: list[str] = []
    while len(codes) < count:
        code = new_member_code(draw)
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


def generic_code_problem(code: str) -> str | None:
    """Why a generic code cannot be used, or None."""
    if is_member_code_shape(code):
        return f"a generic code may not have {MEMBER_CODE_LENGTH} characters, the length of member codes"
    return None
