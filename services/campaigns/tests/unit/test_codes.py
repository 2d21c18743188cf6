"""Member codes: no look-alikes, a check character that catches typos, and no collisions in bulk."""

import itertools
import random

import pytest
from pydantic import TypeAdapter

from campaigns.domain.codes import (
    ALPHABET,
    MEMBER_CODE_LENGTH,
    check_character,
    could_exist,
    generic_code_problem,
    is_valid_member_code,
    new_member_code,
    new_member_codes,
)
from shared.coupon_codes import CouponCode

COUPON_CODE = TypeAdapter(CouponCode)


def test_the_alphabet_leaves_out_look_alikes_and_has_no_repeats() -> None:
    assert not set("0O1I") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 32


def test_a_new_code_fits_the_shared_coupon_code_type_and_checks() -> None:
    for _ in range(200):
        code = new_member_code()
        assert len(code) == MEMBER_CODE_LENGTH and set(code) <= set(ALPHABET)
        assert COUPON_CODE.validate_python(code) == code
        assert is_valid_member_code(code) and could_exist(code)


def test_every_single_mistyped_character_is_caught() -> None:
    rng = random.Random(7)
    for _ in range(50):
        code = new_member_code(rng.randrange)
        for position, wrong in itertools.product(range(len(code)), ALPHABET):
            if wrong == code[position]:
                continue
            typo = code[:position] + wrong + code[position + 1:]
            assert not is_valid_member_code(typo), (code, typo)
            assert not could_exist(typo)


def test_swapping_two_neighbouring_characters_is_caught_except_2_with_z() -> None:
    rng = random.Random(11)
    for _ in range(200):
        code = new_member_code(rng.randrange)
        for i in range(len(code) - 1):
            if code[i] == code[i + 1] or {code[i], code[i + 1]} == {"2", "Z"}:  # Luhn mod N's one blind spot
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            assert not is_valid_member_code(swapped), (code, swapped)


def test_look_alikes_typed_into_a_member_code_make_it_unknown() -> None:
    code = new_member_code()
    for look_alike in "0O1I":
        assert not could_exist(look_alike + code[1:])


def test_generic_codes_are_any_other_length_and_are_looked_up() -> None:
    assert could_exist("SPRING20") and could_exist("A1B2")
    assert generic_code_problem("SPRING20") is None
    assert generic_code_problem("SPRINGSALE20") is not None  # twelve characters: a member code's length


def test_the_check_character_is_luhn_mod_32() -> None:
    # Worked by hand: values of "23" are 0 and 1; from the right 1*2=2, 0*1=0; total 2; 32-2=30 -> "Y"
    assert check_character("23") == ALPHABET[30]
    assert check_character("") == ALPHABET[0]


def test_a_hundred_thousand_codes_are_distinct() -> None:
    codes = new_member_codes(100_000)
    assert len(set(codes)) == 100_000
    assert all(is_valid_member_code(c) for c in codes[:1000])


def test_codes_drawn_in_bulk_use_every_character_in_every_position() -> None:
    # Bulk codes are random bytes in base32 translated to the alphabet: a wrong translation table
    # would leave characters out or favour some.
    codes = new_member_codes(20_000)
    for position in range(MEMBER_CODE_LENGTH - 1):
        counts = {ch: 0 for ch in ALPHABET}
        for code in codes:
            counts[code[position]] += 1
        # Each character is expected 625 times; 450..800 is beyond 7 standard deviations.
        assert all(450 < n < 800 for n in counts.values()), (position, counts)


def test_codes_already_taken_or_drawn_twice_are_drawn_again() -> None:
    # A draw that repeats itself every three codes: the repeats must be drawn again, not kept.
    sequence = itertools.cycle([0] * 11 + [1] * 11 + [0] * 11 + [2] * 11)
    draw = lambda n: next(sequence)  # noqa: E731
    first = new_member_code(lambda n: 0)
    codes = new_member_codes(2, draw, avoid=[first])
    assert first not in codes and len(set(codes)) == 2


@pytest.mark.parametrize("count", [0, 1, 5])
def test_asking_for_n_codes_gives_n(count: int) -> None:
    assert len(new_member_codes(count)) == count
