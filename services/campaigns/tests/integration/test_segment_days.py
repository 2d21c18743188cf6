"""A segment's day counts are the chain's local calendar days, as members counts the attributes
it sends: a purchase late last night was yesterday, one day ago, however few hours back it was.
Against SQLite and PostgreSQL."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.adapters.tables import CustomerRow
from campaigns.main import create_app
from tests.support.audience import attributes, registered, sale
from tests.support.campaigns import CampaignsDriver, Clock
from tests.support.platform import TestEnv, service

from ..conftest import campaigns_settings

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def cmp(env: TestEnv, database_factory, request):
    """Campaigns in the chain's zone the test names (Shanghai unless it asks for another)."""
    zone = getattr(request, "param", SHANGHAI)
    settings = campaigns_settings(env, await database_factory("campaigns"), business_timezone=zone.key)
    clock = Clock()
    async with service(create_app(settings, clock=clock)) as client:
        yield CampaignsDriver(client, env, clock)


async def size(cmp: CampaignsDriver, rule: dict) -> int:
    return int((await cmp.preview(rule))["size"])


def days_since(op: str, value: int) -> dict:
    return {"field": "days_since_last_purchase", "op": op, "value": value}


async def test_a_purchase_late_last_night_is_one_day_ago_as_members_counts_it(cmp) -> None:
    """Bought at 23:30, the analytics run at 15:30 the next day: members says 1 day, and a segment
    of customers 1 day since their last purchase finds them, 16 hours after it."""
    bought = datetime(2026, 12, 6, 23, 30, tzinfo=SHANGHAI)
    cmp.clock.now = datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI)
    await cmp.apply(registered("m-1"), sale("m-1", [("fresh", "30.00")], at=bought),
                    attributes("m-1", as_of=cmp.clock.now, days_since_last_purchase=1))

    assert await size(cmp, days_since("eq", 1)) == 1
    assert await size(cmp, days_since("eq", 0)) == 0
    assert await size(cmp, days_since("gte", 1)) == 1
    assert await size(cmp, days_since("lt", 1)) == 0


async def test_bought_in_the_last_days_counts_today_and_the_days_before_it_on_the_calendar(cmp) -> None:
    """"Bought fresh in the last 1 day" is bought today: last night's 23:30 was yesterday."""
    cmp.clock.now = datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI)
    await cmp.apply(registered("m-1"), sale("m-1", [("fresh", "30.00")], at=datetime(2026, 12, 6, 23, 30, tzinfo=SHANGHAI)))
    fresh = {"field": "categories_bought", "categories": ["fresh"]}

    assert await size(cmp, {**fresh, "days": 1}) == 0
    assert await size(cmp, {**fresh, "days": 2}) == 1


@pytest.mark.parametrize("cmp", [LONDON], indirect=True)
async def test_a_last_purchase_known_only_from_the_attributes_is_on_their_calendar_day_across_a_clock_change(cmp) -> None:
    """London's clocks went forward on 28 March 2027, a day of 23 hours: attributes of 00:30 on the
    29th saying 1 day put the last purchase on the 28th, not 24 hours back on the 27th."""
    as_of = datetime(2027, 3, 29, 0, 30, tzinfo=LONDON)
    cmp.clock.now = as_of
    await cmp.apply(registered("m-1"), attributes("m-1", as_of=as_of, days_since_last_purchase=1))

    async with cmp.app.state.sessions() as s:
        row = await s.get(CustomerRow, "m-1")
    assert row is not None and row.last_purchase_at is not None
    assert row.last_purchase_at.astimezone(LONDON).date() == date(2027, 3, 28)
    assert await size(cmp, days_since("eq", 1)) == 1
