"""The revoked tills and erased members a replica refuses, as its reloads and its own revocations
change them."""

from datetime import UTC, datetime, timedelta

from gateway.adapters.revocations import RevokedIds

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_a_reload_replaces_what_an_earlier_reload_read() -> None:
    revoked = RevokedIds()
    revoked.replace({"till-a", "till-b"}, since=T0 - WINDOW)
    revoked.replace({"till-b"}, since=T0 - WINDOW)  # till-a's revocation is older than a token lives now
    assert "till-a" not in revoked and "till-b" in revoked


def test_a_revocation_made_here_during_a_reload_is_kept() -> None:
    # The reload read the table before the revocation committed: it did not see it. The tokens of
    # the revoked till stay refused, not let through again until the next reload.
    revoked = RevokedIds()
    revoked.add("till-a", at=T0)
    revoked.replace(set(), since=T0 + timedelta(seconds=30) - WINDOW)
    assert "till-a" in revoked


def test_a_revocation_made_here_goes_with_the_reloads_once_read_back() -> None:
    revoked = RevokedIds()
    revoked.add("till-a", at=T0)
    revoked.replace({"till-a"}, since=T0 - WINDOW)
    # Read back: from now on the reloads decide, and drop it once no token of it can be alive.
    revoked.replace(set(), since=T0 + timedelta(seconds=1))
    assert "till-a" not in revoked


def test_a_revocation_made_here_ends_with_its_window_even_if_never_read_back() -> None:
    # Its transaction rolled back (the event will come again): it is not refused for ever.
    revoked = RevokedIds()
    revoked.add("member-a", at=T0)
    revoked.replace(set(), since=T0 + timedelta(seconds=1))
    assert "member-a" not in revoked
