"""Birthday campaigns on SQLite and PostgreSQL: members' `birthday_upcoming` reaches each member once
a year per running campaign, holds out the control group, and a campaign's segment (VIPs only)
and marketing consent decide who is reached."""

import uuid
from decimal import Decimal
from typing import Any

import pytest

from campaigns.domain.control import in_control
from shared.events.registry import CAMPAIGN_NOTIFICATION_REQUESTED, COUPON_ISSUED
from tests.support.audience import birthday, consent, registered, tier_changed

pytestmark = pytest.mark.integration

GREETING = {"template": "service_tip", "params": {"tip": "生日快乐"}}


async def birthday_campaign(cmp, **body: Any) -> dict[str, Any]:
    return await cmp.launched(**{"name": "生日礼券", "kind": "triggered", "trigger": "birthday", "message": GREETING, **body})


async def test_a_member_is_reached_once_a_year_whatever_the_redelivery(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    coupon = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 14}, name="生日券 10元")
    made = await birthday_campaign(cmp, coupon_template_id=coupon, control_share="0")

    announced = birthday("m-1", 2026)
    await cmp.apply(announced)
    await cmp.apply(announced)  # redelivered: skipped by its id
    await cmp.apply(birthday("m-1", 2026, event_id=str(uuid.uuid4())))  # republished under another id: same occasion
    assert len(await cmp.wallet("m-1")) == 1
    await cmp.apply(birthday("m-1", 2027))  # next year's birthday: a new occasion
    assert len(await cmp.wallet("m-1")) == 2

    messages = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert [m["occasion"] for m in messages] == ["birthday:2026", "birthday:2027"]
    assert all(m["params"] == {"offer": "生日券 10元", "tip": "生日快乐", "days_until": "7"} and m["coupon_id"]
               and m["requires_consent"] == "marketing_sms" for m in messages)
    assert [e["member_id"] for e in await cmp.outbox(COUPON_ISSUED)] == ["m-1", "m-1"]
    assert await cmp.sizes(made["id"]) == (2, 0)


async def test_a_birthday_before_the_launch_or_while_paused_reaches_nobody(cmp) -> None:
    await cmp.apply(registered("m-1"), registered("m-2"), consent("m-1", "marketing_sms", True),
                    consent("m-2", "marketing_sms", True))
    await cmp.apply(birthday("m-1", 2026))  # no birthday campaign runs yet
    made = await birthday_campaign(cmp, control_share="0")
    r = await cmp.client.post(f"/v1/campaigns/{made['id']}/pause", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    await cmp.apply(birthday("m-2", 2026))
    assert await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED) == []
    assert await cmp.sizes(made["id"]) == (0, 0)


async def test_the_control_group_is_held_out_of_birthday_campaigns_and_recorded(cmp) -> None:
    members = [f"m-{i:03d}" for i in range(40)]
    await cmp.apply(*(e for m in members for e in (registered(m), consent(m, "marketing_sms", True))))
    coupon = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 14})
    made = await birthday_campaign(cmp, coupon_template_id=coupon, control_share="0.25")
    await cmp.apply(*(birthday(m, 2026) for m in members))
    await cmp.apply(*(birthday(m, 2026, event_id=str(uuid.uuid4())) for m in members))  # announced again: no change

    control = {m for m in members if in_control(made["id"], m, Decimal("0.25"))}
    treated = set(members) - control
    assert 0 < len(control) < len(members)
    assert {e["member_id"] for e in await cmp.outbox(COUPON_ISSUED)} == treated
    assert len(await cmp.outbox(COUPON_ISSUED)) == len(treated)
    assert {m["member_id"] for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)} == treated
    assert await cmp.sizes(made["id"]) == (len(treated), len(control))
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    assert (r.json()["treatment"]["members"], r.json()["control"]["members"]) == (len(treated), len(control))


async def test_a_segment_limits_a_birthday_campaign_to_vips_with_consent(cmp) -> None:
    await cmp.apply(
        registered("m-vip"), tier_changed("m-vip", "vip"), consent("m-vip", "marketing_sms", True),
        registered("m-plain"), consent("m-plain", "marketing_sms", True),
        registered("m-quiet-vip"), tier_changed("m-quiet-vip", "vip"),  # never agreed to marketing
    )
    r = await cmp.client.post("/v1/segments", json={"name": "VIPs", "rule": {"field": "tier", "op": "in", "value": ["vip"]}},
                              headers=cmp.marketing())
    assert r.status_code == 201, r.text
    made = await birthday_campaign(cmp, segment_id=r.json()["id"], control_share="0")
    await cmp.apply(birthday("m-vip", 2026), birthday("m-plain", 2026), birthday("m-quiet-vip", 2026))
    assert [m["member_id"] for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)] == ["m-vip"]
    assert await cmp.sizes(made["id"]) == (1, 0)


async def test_erased_customers_are_not_reached(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    await birthday_campaign(cmp, control_share="0")
    await cmp.apply(cmp.erased("m-1"))
    await cmp.apply(birthday("m-1", 2026))  # announced before the erasure, delivered after it
    assert await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED) == []
