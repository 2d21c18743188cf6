"""The rules of staff accounts and sessions: who may have which binding, login names and passwords,
whom a token names, the login lockout window, refresh token rotation, reuse and idleness, one-time
codes, and argon2 hashing."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from pydantic import ValidationError

from gateway.adapters.passwords import hash_password, needs_rehash, verify_password
from gateway.config import Settings
from gateway.domain.second_factor import code_matches, matching_step, new_seed, provisioning_uri
from gateway.domain.sessions import (
    RETRY_GRACE,
    RefreshOutcome,
    judge_refresh,
    new_refresh_token,
    refresh_expires_in,
)
from gateway.domain.staff import assignment, check_login, check_password, token_subject
from gateway.domain.throttle import ExchangeGuard
from shared.auth import Role
from shared.errors import Invalid

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)


@pytest.mark.parametrize(("role", "store_id", "manager_id", "field"), [
    (Role.STORE_MANAGER, None, None, "store_id"),
    (Role.SERVICE_DESK, None, None, "store_id"),
    (Role.MARKETING, "S001", None, "store_id"),
    (Role.ADMIN, "S001", None, "store_id"),
    (Role.ACCOUNT_MANAGER, "S001", None, "account_manager_id"),
    (Role.MARKETING, None, "am-1", "account_manager_id"),
    (Role.ACCOUNT_MANAGER, None, "am 1", "account_manager_id"),
    # Another account's own id, the subject of its tokens: this one would speak as that person.
    (Role.SERVICE_DESK, "S001", "stf_61974eee4af187c6", "account_manager_id"),
    (Role.POS, "S001", None, "role"),
    (Role.MEMBER, None, None, "role"),
    (Role.SERVICE, None, None, "role"),
])
def test_a_binding_that_does_not_fit_the_role_names_its_field(role, store_id, manager_id, field) -> None:
    with pytest.raises(Invalid) as refused:
        assignment(role, store_id, manager_id)
    assert refused.value.field == field


@pytest.mark.parametrize(("role", "store_id", "manager_id", "reason"), [
    (Role.OPERATOR, "S001", None, "the role operator is not bound to a store"),
    (Role.MARKETING, None, "am-1", "the role marketing is not in the staff directory"),
    (Role.ADMIN, "S001", None, "the role admin is not bound to a store"),
])
def test_a_binding_refusal_names_the_role_as_a_role(role, store_id, manager_id, reason) -> None:
    # "a operator", "a marketing": the role's code read as a noun with an article made the admin's
    # refusal ungrammatical for every role but a few.
    with pytest.raises(Invalid) as refused:
        assignment(role, store_id, manager_id)
    assert refused.value.message == reason


def test_bindings_that_fit() -> None:
    assert assignment(Role.STORE_MANAGER, "S001", None).store_id == "S001"
    assert assignment(Role.ACCOUNT_MANAGER, None, "am-1").account_manager_id == "am-1"
    assert assignment(Role.SERVICE_DESK, "S002", "desk-7").account_manager_id == "desk-7"
    assert assignment(Role.MARKETING, "", None).store_id is None


def test_a_token_names_the_directory_id_where_there_is_one() -> None:
    # Services find an account manager's customers by comparing the token's subject with the
    # customer's manager id, which is the staff-directory id.
    assert token_subject("stf_0123456789abcdef", "am-1") == "am-1"
    assert token_subject("stf_0123456789abcdef", None) == "stf_0123456789abcdef"


def test_login_names_are_kept_in_lowercase_and_refused_when_malformed() -> None:
    assert check_login("  Wang.Li ") == "wang.li"
    for bad in ("a", "-lead", "wang li", "x" * 65, "wang\x00li"):
        with pytest.raises(Invalid) as refused:
            check_login(bad)
        assert refused.value.field == "login"


@pytest.mark.parametrize("password", [
    "short", "x" * 129, " leading-space-pw", "trailing-space-pw ", "\u200bzero-width-first", "zero-width-last\ufeff",
    "ideographic-space-last\u3000", "\u180emongolian-vowel-separator",
])
def test_a_password_out_of_bounds_names_the_field(password) -> None:
    with pytest.raises(Invalid) as refused:
        check_password(password)
    assert refused.value.field == "password"


def test_a_zero_width_character_inside_a_password_is_the_person_s_choice() -> None:
    check_password("inside\u200bthe-password")


def test_login_lockout_counts_failures_per_login_and_per_address_within_the_window() -> None:
    guard = ExchangeGuard(timedelta(minutes=15), per_client=3, per_address=5)
    for minute in range(3):
        assert guard.retry_after("wang.li", "10.0.0.1", T0 + timedelta(minutes=minute)) is None
        guard.failed("wang.li", "10.0.0.1", T0 + timedelta(minutes=minute))
    # Locked until the first failure leaves the window: 15 minutes after it.
    assert guard.retry_after("wang.li", "10.0.0.9", T0 + timedelta(minutes=3)) == 12 * 60
    assert guard.retry_after("zhao.min", "10.0.0.9", T0 + timedelta(minutes=3)) is None
    # Once the first leaves, one more try; failing it locks again until the second leaves.
    after = T0 + timedelta(minutes=15)
    assert guard.retry_after("wang.li", "10.0.0.1", after) is None
    guard.failed("wang.li", "10.0.0.1", after)
    assert guard.retry_after("wang.li", "10.0.0.1", after) == 60
    # Many logins from one address: the address is locked for every login name.
    for name in ("a1", "a2", "a3", "a4", "a5"):
        guard.failed(name, "10.0.0.2", T0)
    assert guard.retry_after("someone-else", "10.0.0.2", T0) == 15 * 60


def test_a_refresh_token_is_swapped_once_and_its_reuse_is_detected() -> None:
    live = {"issued_at": T0 - timedelta(minutes=1), "family_revoked_at": None,
            "family_expires_at": T0 + timedelta(hours=12), "account_active": True, "idle_after": IDLE, "now": T0}
    assert judge_refresh(rotated_at=None, **live) is RefreshOutcome.ROTATE
    # Swapped moments ago: a request that set out with it at the same time (another tab, another replica).
    assert judge_refresh(rotated_at=T0 - RETRY_GRACE, **live) is RefreshOutcome.RETRIED
    assert judge_refresh(rotated_at=T0 - RETRY_GRACE - timedelta(seconds=1), **live) is RefreshOutcome.REUSED
    # Ended by a sibling's swap, not its own: whoever presents it is not the browser that kept the sibling.
    assert judge_refresh(rotated_at=T0 - timedelta(seconds=1), superseded=True, **live) is RefreshOutcome.REUSED


@pytest.mark.parametrize("change", [
    {"family_revoked_at": T0 - timedelta(minutes=1)},
    {"family_expires_at": T0},
    {"account_active": False},
])
@pytest.mark.parametrize("rotated_at", [None, T0 - timedelta(minutes=2)])
def test_a_dead_family_refuses_every_token_and_needs_no_revoking(change, rotated_at) -> None:
    facts = {"family_revoked_at": None, "family_expires_at": T0 + timedelta(hours=12), "account_active": True, **change}
    assert judge_refresh(issued_at=T0 - timedelta(hours=1), rotated_at=rotated_at, idle_after=IDLE, now=T0,
                         **facts) is RefreshOutcome.DEAD


def test_a_refresh_token_left_unused_for_the_idle_time_ends_its_session() -> None:
    live = {"rotated_at": None, "family_revoked_at": None, "family_expires_at": T0 + timedelta(hours=12),
            "account_active": True, "idle_after": IDLE}
    assert judge_refresh(issued_at=T0, now=T0 + IDLE - timedelta(seconds=1), **live) is RefreshOutcome.ROTATE
    assert judge_refresh(issued_at=T0, now=T0 + IDLE, **live) is RefreshOutcome.IDLE
    assert judge_refresh(issued_at=T0, now=T0 + timedelta(hours=3), **live) is RefreshOutcome.IDLE
    # Used every 20 minutes, a session lasts: each swap issues a token of its own to count from.
    issued = T0
    for _ in range(20):
        now = issued + timedelta(minutes=20)
        assert judge_refresh(issued_at=issued, now=now, **live) is RefreshOutcome.ROTATE
        issued = now
    # Its absolute end still comes, however much it is used.
    assert judge_refresh(issued_at=T0 + timedelta(hours=12) - timedelta(minutes=1), now=T0 + timedelta(hours=12),
                         **live) is RefreshOutcome.DEAD


def test_a_retry_of_a_token_swapped_moments_ago_is_never_idle() -> None:
    # The token was issued long ago and swapped just now: the swap was its use, and the page's
    # other fragments that set out with it still get a successor.
    facts = {"family_revoked_at": None, "family_expires_at": T0 + timedelta(hours=12), "account_active": True,
             "idle_after": IDLE, "now": T0}
    swapped = T0 - timedelta(seconds=5)
    long_ago = swapped - IDLE + timedelta(seconds=1)
    assert judge_refresh(issued_at=long_ago, rotated_at=swapped, **facts) is RefreshOutcome.RETRIED
    assert judge_refresh(issued_at=T0 - 2 * IDLE, rotated_at=swapped, **facts) is RefreshOutcome.RETRIED


def test_a_refresh_token_lives_the_idle_time_or_to_the_session_s_end() -> None:
    ends = T0 + timedelta(hours=12)
    assert refresh_expires_in(issued_at=T0, family_expires_at=ends, idle_after=IDLE, now=T0) == IDLE
    later = T0 + timedelta(minutes=10)
    assert refresh_expires_in(issued_at=T0, family_expires_at=ends, idle_after=IDLE, now=later) == timedelta(minutes=20)
    late = ends - timedelta(minutes=10)
    assert refresh_expires_in(issued_at=late, family_expires_at=ends, idle_after=IDLE, now=late) == timedelta(minutes=10)
    assert refresh_expires_in(issued_at=T0, family_expires_at=ends, idle_after=IDLE, now=ends) == timedelta(0)


def test_the_idle_timeout_is_bounded() -> None:
    assert Settings().staff_idle_timeout_s == 30 * 60
    assert Settings(staff_idle_timeout_s=300).staff_idle_timeout_s == 300
    for out_of_bounds in (60, 299, 24 * 3600 + 1):
        with pytest.raises(ValidationError, match="staff_idle_timeout_s"):
            Settings(staff_idle_timeout_s=out_of_bounds)


def test_refresh_tokens_are_long_random_and_distinct() -> None:
    tokens = {new_refresh_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(t.startswith("rt_") and len(t) == 46 for t in tokens)


def test_one_time_codes_are_accepted_within_a_step_of_drift_and_not_beyond() -> None:
    seed = new_seed()
    totp = pyotp.TOTP(seed)
    assert code_matches(seed, totp.at(T0), T0)
    assert code_matches(seed, totp.at(T0 - timedelta(seconds=30)), T0)
    assert not code_matches(seed, totp.at(T0 - timedelta(seconds=90)), T0)
    assert not code_matches(seed, "12345", T0)
    assert not code_matches(seed, "abcdef", T0)
    assert provisioning_uri(seed, "wang.li").startswith("otpauth://totp/CRM:wang.li?secret=" + seed)


async def test_passwords_are_hashed_with_argon2id_and_checked() -> None:
    stored = await hash_password("correct horse battery", "rfc9106-low-memory")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "correct horse" not in stored
    assert await verify_password("correct horse battery", stored, "rfc9106-low-memory")
    assert not await verify_password("correct horse battery!", stored, "rfc9106-low-memory")
    assert not await verify_password("correct horse battery", None, "rfc9106-low-memory")
    assert not await verify_password("anything", "not a hash", "rfc9106-low-memory")
    assert not needs_rehash(stored, "rfc9106-low-memory")
    weaker = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$zSb3qHIOJTyHeqYxAQd8Rw"
    assert needs_rehash(weaker, "rfc9106-low-memory")


async def test_the_test_suites_cheap_hashing_is_refused_outside_tests() -> None:
    with pytest.raises(ValidationError, match="CRM_PASSWORD_HASHING=test-minimal is for the test suite only, not CRM_ENVIRONMENT=development"):
        Settings(environment="development", password_hashing="test-minimal")
    assert Settings(environment="test", password_hashing="test-minimal").password_hashing == "test-minimal"
    assert Settings().password_hashing == "rfc9106-low-memory"
    # A cheap hash still checks the password; a hash of the real profile is rehashed to neither.
    cheap = await hash_password("correct horse battery", "test-minimal")
    assert await verify_password("correct horse battery", cheap, "test-minimal")
    assert not await verify_password("wrong horse battery", cheap, "test-minimal")
    assert needs_rehash(cheap, "rfc9106-low-memory")


def test_staff_access_tokens_live_at_most_a_minute() -> None:
    assert Settings(staff_access_token_ttl_s=60).staff_access_token_ttl_s == 60
    with pytest.raises(ValidationError, match="staff_access_token_ttl_s"):
        Settings(staff_access_token_ttl_s=61)


def test_a_one_time_code_is_good_once() -> None:
    seed = new_seed()
    code = pyotp.TOTP(seed).at(T0)
    step = matching_step(seed, code, T0)
    assert step == int(T0.timestamp()) // 30
    # The same code again, even within its step: spent.
    assert matching_step(seed, code, T0 + timedelta(seconds=10), after_step=step) is None
    # The next step's code still works after it.
    later = T0 + timedelta(seconds=30)
    assert matching_step(seed, pyotp.TOTP(seed).at(later), later, after_step=step) == step + 1
