"""Choosing a VIP's account manager among those covering their community, and their welcome."""

import pytest

from members.domain.assignment import Candidate, choose_manager, welcome_owed


def test_nobody_covering_the_community_means_no_manager() -> None:
    assert choose_manager([], "S001") is None


def test_the_least_loaded_manager_is_chosen() -> None:
    pool = [Candidate("am-a", "S001", 12), Candidate("am-b", "S001", 3), Candidate("am-c", "S001", 7)]
    assert choose_manager(pool, "S001") == "am-b"


def test_equal_load_is_broken_by_staff_id_so_the_choice_is_repeatable() -> None:
    pool = [Candidate("am-z", "S001", 2), Candidate("am-k", "S001", 2)]
    assert choose_manager(pool, "S001") == "am-k"
    assert choose_manager(list(reversed(pool)), "S001") == "am-k"


def test_managers_of_the_home_store_come_before_less_loaded_ones_elsewhere() -> None:
    pool = [Candidate("am-other", "S002", 0), Candidate("am-home", "S001", 9)]
    assert choose_manager(pool, "S001") == "am-home"
    assert choose_manager(pool, None) == "am-other"


def test_a_leaving_manager_is_never_chosen_again() -> None:
    pool = [Candidate("am-leaving", "S001", 0), Candidate("am-stays", "S001", 5)]
    assert choose_manager(pool, "S001", exclude="am-leaving") == "am-stays"
    assert choose_manager(pool[:1], "S001", exclude="am-leaving") is None


@pytest.mark.parametrize(
    ("tier_imported", "welcomed", "owed"),
    [(False, False, True), (False, True, False), (True, False, False), (True, True, False)],
)
def test_a_vip_is_welcomed_once_per_promotion_and_never_for_one_of_imported_history(tier_imported, welcomed, owed) -> None:
    assert welcome_owed(tier_imported=tier_imported, welcomed=welcomed) is owed
