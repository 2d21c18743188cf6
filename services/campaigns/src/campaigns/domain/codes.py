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

import base64
import secrets
from collections.abc import Callable, Iterable

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MEMBER_CODE_LENGTH = 12
_N = len(ALPHABET)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}

# Draws a random index below its argument; tests pass a deterministic one to force clashes.
Draw = Callable[[int], int]
# Base32 text of random bytes is 5 random bits a character over an alphabet of 32, as is ours:
# translated character for character, it is a code body drawn uniformly, at a fraction of the cost
# of drawing each character on its own (a launch mints a code per member).
_FROM_BASE32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


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


def new_member_code(draw: Draw | None = None) -> str:
    """A fresh code: from the system's CSPRNG, or from `draw`."""
    return new_member_codes(1, draw)[0]


def _bodies(count: int, draw: Draw | None) -> list[str]:
    size = MEMBER_CODE_LENGTH - 1
    if draw is not None:
        return ["".join(ALPHABET[draw(_N)] for _ in range(size)) for _ in range(count)]
    text = base64.b32encode(secrets.token_bytes(5 * -(-size * count // 8))).decode().translate(_FROM_BASE32)
    return [text[i:i + size] for i in range(0, size * count, size)]


def new_member_codes(count: int, draw: Draw | None = None, *, avoid: Iterable[str] = ()) -> list[str]:
    """`count` distinct codes, none of them in `avoid` (codes already taken)."""
    taken = set(avoid)
    codes: list[str] = []
    while len(codes) < count:
        for body in _bodies(count - len(codes), draw):
            code = body + check_character(body)
            if code not in taken:
                taken.add(code)
                codes.append(code)
    return codes


def generic_code_problem(code: str) -> str | None:
    """Why a generic code cannot be used, or None."""
    if is_member_code_shape(code):
        return f"a generic code may not have {MEMBER_CODE_LENGTH} characters, the length of member codes"
    return None
