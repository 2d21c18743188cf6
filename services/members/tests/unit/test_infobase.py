"""Rules of the information base: community keys, household merges, business days, averages."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from members.config import Settings
from members.domain.communities import address_key, community_key, household_moves
from members.service_layer.infobase import business_day, day_bounds
from members.service_layer.infobase_queries import Period, average_per_household

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("written", ["阳光花园", "阳光花园小区", " 阳光 花园 ", "阳光花园小区 "])
def test_the_ways_customers_write_a_community_share_one_key(written: str) -> None:
    assert community_key(written) == community_key("阳光花园")


def test_full_width_letters_and_digits_are_the_same_community() -> None:
    assert community_key("ＡＢＣ花园２期") == community_key("abc花园2期")


def test_a_different_phase_is_not_guessed_to_be_the_same_community() -> None:
    assert community_key("阳光花园一期") != community_key("阳光花园")


def test_a_community_called_only_xiaoqu_keeps_its_name() -> None:
    assert community_key("小区") == "小区"


def test_an_address_written_with_spaces_is_one_household() -> None:
    assert address_key("3幢 2单元 401") == address_key("3幢2单元401")


def test_merged_households_at_an_address_the_survivor_has_join_it_and_the_rest_move() -> None:
    joins, moves = household_moves({"b1": "3幢401", "b2": "9幢1201"}, {"a1": "3幢401", "a2": "1幢101"})
    assert joins == {"b1": "a1"} and moves == ["b2"]


def test_a_sale_after_midnight_in_shanghai_belongs_to_the_next_local_day() -> None:
    assert business_day(datetime(2026, 11, 23, 16, 30, tzinfo=UTC), SHANGHAI) == date(2026, 11, 24)
    assert business_day(datetime(2026, 11, 23, 15, 59, tzinfo=UTC), SHANGHAI) == date(2026, 11, 23)


def test_business_day_bounds_cover_whole_local_days() -> None:
    start, end = day_bounds(date(2026, 11, 24), date(2026, 11, 24), SHANGHAI)
    assert start == datetime(2026, 11, 23, 16, 0, tzinfo=UTC) and end == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert day_bounds(None, None, SHANGHAI) == (None, None)


def test_average_spend_per_household_is_to_the_fen_and_zero_without_buyers() -> None:
    assert average_per_household(Decimal("100.00"), 3) == Decimal("33.33")
    assert average_per_household(Decimal("0.00"), 0) == Decimal("0.00")


def test_a_period_filters_only_what_is_given() -> None:
    assert Period(SHANGHAI).read_model_filters() == []
    assert len(Period(SHANGHAI, "S001", date(2026, 11, 1), date(2026, 11, 30)).read_model_filters()) == 3


def test_a_misspelt_business_time_zone_stops_the_service_at_start_up() -> None:
    # Business days are taken in the zone: a zone that does not exist is refused with the setting.
    with pytest.raises(ValidationError, match="'Asia/Shangai' is not a time zone of the IANA database"):
        Settings(business_timezone="Asia/Shangai")
