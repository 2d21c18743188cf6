"""Marketing's pages on the console against real campaigns and gateway apps: the segments, the
campaigns, and a campaign's results against its control group drawn as charts; a role that may
not read campaigns is told so by campaigns."""

import re
from decimal import Decimal

import httpx
import pytest

from campaigns.config import Settings as CampaignsSettings
from campaigns.main import create_app as campaigns_app
from gateway.adapters.clients import Downstream
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from tests.support.audience import attributes, consent, registered, sale
from tests.support.campaigns import CampaignsDriver, Clock
from tests.support.console import logged_in
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration
AUDIENCE = {"and": [{"field": "community", "op": "in", "value": ["C1"]}]}




@pytest.fixture
async def stack(env: TestEnv, database_factory):
    clock = Clock()
    async with service(campaigns_app(env.settings(CampaignsSettings, await database_factory("campaigns")), clock=clock)) as cmp:
        gateway = gateway_app(env.settings(GatewaySettings, await database_factory("gateway")))
        closed = "http://127.0.0.1:9"
        gateway.state.downstream = Downstream(
            members=httpx.AsyncClient(base_url=closed), points=httpx.AsyncClient(base_url=closed),
            campaigns=httpx.AsyncClient(transport=httpx.ASGITransport(app=cmp.app), base_url="http://campaigns"),  # type: ignore[attr-defined]
        )
        async with service(gateway) as gw:
            yield gw, CampaignsDriver(cmp, env, clock)


async def test_marketing_sees_a_campaign_s_redemption_and_uplift_against_control(stack, env) -> None:
    gw, cmp = stack
    # Enough members that the quarter held out is never fewer than the two an interval needs
    # (the split follows the campaign's random id).
    members = [f"m-{i:02d}" for i in range(60)]
    await cmp.apply(*(e for m in members for e in (registered(m), attributes(m, value_class="key", churn_risk="high", community_id="C1"),
                                                   consent(m, "marketing_sms", True))))
    r = await cmp.client.post("/v1/segments", json={"name": "C1 key customers", "rule": AUDIENCE}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    launched = await cmp.launched(name="Win them back", kind="one_off", segment_id=r.json()["id"], coupon_template_id=await cmp.template(),
                                  message={"template": "coupon_offer"}, control_share="0.25")
    treated, held_out = launched["treatment_size"], launched["control_size"]
    assert treated and held_out
    cmp.clock.advance(minutes=5)
    reached = {e["member_id"] for e in await cmp.outbox("crm.campaigns.coupon_issued.v1")}
    await cmp.apply(*(sale(m, [("grain", "150.00")], at=cmp.clock.now) for m in sorted(reached)))

    await logged_in(gw, env, "zhao.shichang", "marketing")
    listed = await gw.get("/console/campaigns")
    assert listed.status_code == 200 and "Win them back" in listed.text
    # states and channels read as words of the person's language, not the codes campaigns keeps
    row = re.search(rf'data-campaign="{launched["id"]}">(.*?)</tr>', listed.text, re.S)
    assert row and "<td>进行中</td><td>短信</td>" in row.group(1), listed.text
    segments = (await gw.get("/console/segments")).text
    segment = re.search(r"<tr><td>C1 key customers</td>(.*?)</tr>", segments, re.S)
    assert segment and "<td>启用</td>" in segment.group(1) and "active" not in segment.group(1), segments
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    assert f"{treated} / {held_out}" in page.text
    assert re.search(r"<th scope=\"row\">状态</th><td>进行中</td>", page.text), page.text
    assert page.text.count("<svg") >= 3 and 'data-uplift="spend_uplift"' in page.text
    uplift = re.search(r'data-uplift="spend_uplift".*?<figcaption>\s*([^<]*)</figcaption>', page.text, re.S)
    assert uplift and "显著" in uplift.group(1) and "不显著" not in uplift.group(1)
    assert str(Decimal("150.00")) in page.text  # treated spend per member


async def test_the_lists_head_a_campaign_s_and_a_segment_s_name_not_a_person_s(stack, env) -> None:
    gw, cmp = stack
    r = await cmp.client.post("/v1/segments", json={"name": "C1 key customers", "rule": AUDIENCE}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    await logged_in(gw, env, "zhao.shichang", "marketing")
    for path, heading in [("/console/campaigns", "活动名称"), ("/console/segments", "客群名称")]:
        head = re.search(r"<thead>(.*?)</thead>", (await gw.get(path)).text, re.S)
        assert head and f'<th scope="col">{heading}</th>' in head.group(1) and "姓名" not in head.group(1), path


async def test_an_operator_is_told_campaigns_are_not_theirs(stack, env) -> None:
    gw, _ = stack
    await logged_in(gw, env, "sun.yunwei", "operator")
    assert "/console/campaigns" not in (await gw.get("/console")).text
    r = await gw.get("/console/campaigns")
    assert r.status_code == 403 and "无权执行此操作" in r.text


async def test_a_campaign_that_held_nobody_out_is_not_compared_with_a_control_group_of_none(stack, env) -> None:
    """Campaigns answers a control group of no members with zeros per member: drawn as bars, the
    campaign would seem to lift spend from 0.00; the page says there is nothing to compare with."""
    gw, cmp = stack
    members = [f"m-{i:02d}" for i in range(4)]
    await cmp.apply(*(e for m in members for e in (registered(m), attributes(m, value_class="key", churn_risk="high", community_id="C1"),
                                                   consent(m, "marketing_sms", True))))
    r = await cmp.client.post("/v1/segments", json={"name": "C1 key customers", "rule": AUDIENCE}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    launched = await cmp.launched(name="Everyone", kind="one_off", segment_id=r.json()["id"], coupon_template_id=await cmp.template(),
                                  message={"template": "coupon_offer"}, control_share="0")
    assert (launched["treatment_size"], launched["control_size"]) == (4, 0)
    cmp.clock.advance(minutes=5)
    await cmp.apply(*(sale(m, [("grain", "150.00")], at=cmp.clock.now) for m in members))

    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    assert "4 / 0" in page.text
    assert '<p class="notice" id="no-control">本活动没有预留对照组，无从比较。</p>' in page.text
    assert "人均消费" not in page.text and "对照组</text>" not in page.text
