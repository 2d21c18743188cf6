"""The demo of `crm run --demo` loads through the public API under the access policy, and a second
load registers nobody twice."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from crm_cli.demo import STORES_ZONE, load
from shared.auth import Role
from tests.support.platform import TestEnv, platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


async def test_the_demo_loads_through_the_gateway_and_a_second_load_changes_no_member(
    env: TestEnv, database_factory
) -> None:
    async with platform(env, database_factory) as p:
        # Waited for up to 30 s: the analytics' attributes reach campaigns through the broker, later on a loaded machine.
        first = await load(p.gateway, env.issuer, members=30, sales=150, queue_wait_s=30)
        assert "30 members, 150 sales, 4 returns" in first, first
        assert re.search(r"key customers at risk in .*: \d+ reached, [1-9]\d* held out, [1-9]\d* redeemed at the till, 1 returned", first), first
        admin = env.auth(Role.ADMIN)

        async def complaints_and_calls() -> tuple[int, int]:
            complaints = (await p.gateway.get("/api/feedback/v1/complaints", params={"limit": 100}, headers=admin)).json()
            today = datetime.now(STORES_ZONE).date().isoformat()  # the stores' day, as the demo dates its calls
            calls = (await p.gateway.get("/api/members/v1/tracking/reports/daily", params={"date": today}, headers=admin)).json()
            return len(complaints), len(calls["records"])

        before = await complaints_and_calls()
        assert before[0] == 4 and "4 complaints" in first, first
        again = await load(p.gateway, env.issuer, members=30, sales=150, queue_wait_s=5)
        assert "30 members" in again and "4 returns" in again and "campaign: loaded before" in again, again
        assert await complaints_and_calls() == before  # nothing filed or recorded twice
        found = await p.gateway.get("/api/v1/members", params={"limit": 1}, headers=env.auth(Role.ADMIN))
        assert found.json()["total"] == 30
        # Loaded as on the day before: every registration is another request for a phone taken,
        # refused naming nobody, and the loader finds those members in the list instead.
        yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        earlier = await load(p.gateway, env.issuer, members=30, sales=150, queue_wait_s=5, today=yesterday)
        assert "30 members" in earlier, earlier
        found = await p.gateway.get("/api/v1/members", params={"limit": 1}, headers=env.auth(Role.ADMIN))
        assert found.json()["total"] == 30
        # Registered over months, each member before their first sale (when the sales reached them).
        everyone = (await p.gateway.get("/api/v1/members", params={"limit": 30}, headers=env.auth(Role.ADMIN))).json()["items"]
        assert len({m["created_at"][:7] for m in everyone}) >= 3
        # Women and men, and some who did not say: the VIP welcome greets each as 女士, 先生 or 先生/女士.
        assert {m["gender"] for m in everyone} == {"female", "male", "unspecified"}
        assert all(m["created_at"] < m["first_purchase_at"] for m in everyone if m["first_purchase_at"])
