"""Members' sign-in codes: 6 digits, kept as a keyed digest of the phone's digest and the code, 5
minutes and 5 tries; wrong, expired, used up and used are refused alike; code requests and wrong
codes are throttled per phone and per address."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain import member_codes as rules
from gateway.domain.member_codes import StoredCode, Verdict, judge
from gateway.domain.throttle import SignInGuard

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PEPPER = "pepper"


def stored(code: str = "042917", *, at: datetime = T0, tries_left: int = rules.MAX_TRIES, used: bool = False) -> StoredCode:
    return StoredCode(digest=rules.code_digest(PEPPER, "phone-digest", code), expires_at=at + rules.CODE_TTL,
                      tries_left=tries_left, used=used)


def attempt(code: str) -> str:
    return rules.code_digest(PEPPER, "phone-digest", code)


def test_a_code_is_six_digits_and_kept_only_as_a_keyed_digest() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150
    digest = rules.code_digest(PEPPER, "phone-digest", "042917")
    assert len(digest) == 64 and "042917" not in digest
    # Another pepper or another phone gives another digest: a stolen table cannot be matched
    # against the million codes without the pepper, nor one phone's code used for another.
    assert digest != rules.code_digest("other", "phone-digest", "042917")
    assert digest != rules.code_digest(PEPPER, "other-phone", "042917")


def test_the_right_code_within_five_minutes_is_accepted() -> None:
    assert judge(stored(), attempt("042917"), T0) is Verdict.ACCEPTED
    assert judge(stored(), attempt("042917"), T0 + timedelta(minutes=4, seconds=59)) is Verdict.ACCEPTED


def test_a_code_expires_after_five_minutes() -> None:
    assert rules.CODE_TTL == timedelta(minutes=5)
    assert judge(stored(), attempt("042917"), T0 + timedelta(minutes=5)) is Verdict.EXPIRED


def test_a_wrong_code_costs_a_try_and_none_is_left_after_five() -> None:
    assert rules.MAX_TRIES == 5
    assert judge(stored(), attempt("000000"), T0) is Verdict.WRONG
    # With no tries left even the right code is refused: guessing ends with the fifth wrong one.
    assert judge(stored(tries_left=1), attempt("042917"), T0) is Verdict.ACCEPTED
    assert judge(stored(tries_left=0), attempt("042917"), T0) is Verdict.EXHAUSTED


def test_a_used_code_and_no_code_are_refused() -> None:
    assert judge(stored(used=True), attempt("042917"), T0) is Verdict.USED
    assert judge(None, attempt("042917"), T0) is Verdict.NONE


def test_a_new_code_replaces_the_one_before() -> None:
    # Storage keeps one code per phone (the service layer's upsert); what that means for the rule:
    # the old code is judged against the new code's digest, and is wrong.
    assert judge(stored("111111"), attempt("042917"), T0) is Verdict.WRONG


def test_every_refusal_answers_alike() -> None:
    assert rules.InvalidCode().status_code == 401
    assert str(rules.InvalidCode()) == str(rules.InvalidCode())


def guard() -> SignInGuard:
    return SignInGuard(timedelta(hours=1), codes_per_phone=3, codes_per_address=5, wrong_codes_per_address=4)


def test_codes_are_throttled_per_phone_until_the_oldest_request_leaves_the_window() -> None:
    g = guard()
    for minute in range(3):
        assert g.code_wait("phone-a", f"10.0.0.{minute}", T0 + timedelta(minutes=minute)) is None
        g.code_requested("phone-a", f"10.0.0.{minute}", T0 + timedelta(minutes=minute))
    assert g.code_wait("phone-a", "10.0.0.9", T0 + timedelta(minutes=3)) == 57 * 60
    assert g.code_wait("phone-b", "10.0.0.9", T0 + timedelta(minutes=3)) is None  # another phone may
    assert g.code_wait("phone-a", "10.0.0.9", T0 + timedelta(hours=1)) is None


def test_codes_are_throttled_per_address_across_phones() -> None:
    g = guard()
    for n in range(5):
        g.code_requested(f"phone-{n}", "10.0.0.1", T0)
    assert g.code_wait("phone-9", "10.0.0.1", T0) == 3600
    assert g.code_wait("phone-9", "10.0.0.2", T0) is None


@pytest.mark.parametrize("wrong", [3, 4])
def test_wrong_codes_are_throttled_per_address(wrong) -> None:
    g = guard()
    for _ in range(wrong):
        g.guessing("10.0.0.1", T0)
    assert (g.guess_wait("10.0.0.1", T0) is None) is (wrong < 4)


def test_a_right_code_takes_back_the_guess_counted_ahead() -> None:
    g = guard()
    for _ in range(3):
        g.guessing("10.0.0.1", T0)
    g.guessing("10.0.0.1", T0)
    g.right_code("10.0.0.1", T0)
    assert g.guess_wait("10.0.0.1", T0) is None
