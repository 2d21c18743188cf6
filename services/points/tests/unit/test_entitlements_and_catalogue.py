"""Entitlements by milestone, gift prices per channel, register transitions."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from points.domain.catalogue import Gift, RegisterStatus, check_transition
from points.domain.entitlements import DEFAULT_VISITS_BY_MILESTONE, check_use, earns_bonus, granted_after
from points.domain.exceptions import GiftUnavailable, InvalidTransition, NothingLeft

T = DEFAULT_VISITS_BY_MILESTONE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_milestones_set_the_total_and_never_add_to_it() -> None:
    assert granted_after(0, Decimal("30000.00"), T) == 1
    assert granted_after(1, Decimal("30000.00"), T) == 1  # the same milestone again
    assert granted_after(1, Decimal("50000.00"), T) == 2
    assert granted_after(2, Decimal("50000.00"), T) == 2
    assert granted_after(2, Decimal("30000.00"), T) == 2  # a late lower milestone takes nothing away
    assert granted_after(0, Decimal("50000.00"), T) == 2  # skipping straight to 50,000
    assert granted_after(0, Decimal("5000.00"), T) == 0


def test_only_a_milestone_of_live_sales_earns_its_bonus() -> None:
    assert earns_bonus(imported=False)
    assert not earns_bonus(imported=True)  # history the old system already rewarded


def test_a_use_needs_one_left() -> None:
    check_use(2, 1)
    with pytest.raises(NothingLeft):
        check_use(2, 2)


def test_the_partner_channel_pays_its_own_price() -> None:
    cushion = Gift("cushion", {"retail": 10_000, "partner": 8_000})
    assert (cushion.price_for("retail"), cushion.price_for("partner")) == (10_000, 8_000)
    with pytest.raises(GiftUnavailable):
        Gift("x", {"retail": 5}).price_for("partner")


def test_a_gift_is_redeemable_only_inside_its_active_dates() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    gift = Gift("kettle", {"retail": 1}, active_from=now, active_until=now + timedelta(days=30))
    gift.check_active(now, SHANGHAI)
    # Told in the chain's time: 00:00 UTC is 08:00 there.
    with pytest.raises(GiftUnavailable, match=r"offered from 2026-11-23T08:00\+08:00"):
        gift.check_active(now - timedelta(seconds=1), SHANGHAI)
    with pytest.raises(GiftUnavailable, match=r"offered until 2026-12-23T08:00\+08:00"):
        gift.check_active(now + timedelta(days=30), SHANGHAI)


def test_a_reserved_gift_is_handed_over_or_cancelled_once_and_never_swapped_back() -> None:
    check_transition(RegisterStatus.RESERVED, RegisterStatus.HANDED_OVER)
    check_transition(RegisterStatus.RESERVED, RegisterStatus.CANCELLED)
    with pytest.raises(InvalidTransition):
        check_transition(RegisterStatus.HANDED_OVER, RegisterStatus.CANCELLED)
    with pytest.raises(InvalidTransition):
        check_transition(RegisterStatus.CANCELLED, RegisterStatus.HANDED_OVER)
