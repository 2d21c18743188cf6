"""Which earning-rule version the console marks in force: the one points prices sales by, the
latest to have started (then the highest number), whatever order the versions were added in."""

from datetime import UTC, datetime

from gateway.domain.earning_rule_form import in_force, latest

NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def version(number: int, starts: str) -> dict[str, object]:
    return {"version": number, "effective_from": starts}


def test_a_version_added_later_but_starting_earlier_is_not_the_one_in_force() -> None:
    # v2 was scheduled for 23:00:30; v3, added after it, for 22:59:30: from 23:00:30 on, points
    # prices by v2, the one that started last.
    versions = [version(1, "2026-01-01T00:00:00+00:00"), version(2, "2026-12-06T23:00:30+00:00"),
                version(3, "2026-12-06T22:59:30+00:00")]
    assert in_force(versions, NOW) == (2, set())
    assert in_force(versions, datetime(2026, 12, 6, 23, 0, tzinfo=UTC)) == (3, {2})
    assert latest(versions) == versions[1]


def test_of_two_versions_starting_at_once_the_higher_number_prices_and_none_started_is_none() -> None:
    versions = [version(1, "2026-12-06T00:00:00+00:00"), version(2, "2026-12-06T00:00:00+00:00")]
    assert in_force(versions, NOW) == (2, set())
    assert in_force(versions, datetime(2026, 12, 5, tzinfo=UTC)) == (None, {1, 2})
    assert latest([]) is None
