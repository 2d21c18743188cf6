"""Members' refresh tokens: 256 random bits kept as a digest; valid once before they expire; a used
one presented again is reuse (its family is then revoked), unless moments after its use (a retry of
a lost answer); a revoked one is refused."""

from datetime import UTC, datetime, timedelta

from gateway.domain.member_refresh import (
    InvalidRefreshToken,
    RefreshVerdict,
    StoredRefresh,
    judge_refresh,
    new_refresh_token,
    refresh_digest,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=30)
GRACE = timedelta(seconds=60)


def test_a_refresh_token_is_random_and_kept_as_its_digest() -> None:
    tokens = {new_refresh_token() for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) >= 43 for t in tokens)
    token = next(iter(tokens))
    assert len(refresh_digest(token)) == 64 and token not in refresh_digest(token)
    assert refresh_digest(token) == refresh_digest(token)


def test_an_unused_token_is_valid_until_it_expires() -> None:
    assert judge_refresh(StoredRefresh(expires_at=LATER, used_at=None, revoked=False), T0, GRACE) is RefreshVerdict.VALID
    assert judge_refresh(StoredRefresh(expires_at=LATER, used_at=None, revoked=False), LATER, GRACE) is RefreshVerdict.EXPIRED


def test_a_used_token_presented_again_is_reuse_even_after_it_expired() -> None:
    # Reuse is evidence of a copy whenever it shows: the family still has a live token to protect.
    assert judge_refresh(StoredRefresh(expires_at=LATER, used_at=T0 - timedelta(hours=1), revoked=False), T0, GRACE) is RefreshVerdict.REUSED
    assert judge_refresh(StoredRefresh(expires_at=T0, used_at=T0 - timedelta(hours=1), revoked=False), LATER, GRACE) is RefreshVerdict.REUSED


def test_revoked_and_unknown_tokens_are_refused() -> None:
    assert judge_refresh(StoredRefresh(expires_at=LATER, used_at=T0 - timedelta(hours=1), revoked=True), T0, GRACE) is RefreshVerdict.REVOKED
    assert judge_refresh(None, T0, GRACE) is RefreshVerdict.UNKNOWN
    assert InvalidRefreshToken().status_code == 401


def test_a_used_token_presented_again_moments_after_its_use_is_a_retry() -> None:
    used = StoredRefresh(expires_at=LATER, used_at=T0, revoked=False)
    assert judge_refresh(used, T0 + GRACE, GRACE) is RefreshVerdict.RETRIED
    assert judge_refresh(used, T0 + GRACE + timedelta(seconds=1), GRACE) is RefreshVerdict.REUSED
    assert judge_refresh(used, T0 + timedelta(seconds=1), timedelta(0)) is RefreshVerdict.REUSED


def test_a_token_superseded_by_a_retry_presented_again_is_reuse() -> None:
    superseded = StoredRefresh(expires_at=LATER, used_at=None, revoked=True, superseded=True)
    assert judge_refresh(superseded, T0, GRACE) is RefreshVerdict.REUSED
