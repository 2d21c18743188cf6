"""Feedback's survey invitations in campaigns, on SQLite and PostgreSQL: the sender delivers each
invitation once as a service message under the member's service-message consent, and a running
survey-invitation campaign (a thank-you coupon) reaches the member once per invitation, with its
control group, consent rule and budget as for the other triggers."""

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from campaigns.adapters.tables import MessageRow
from campaigns.domain.control import in_control
from shared.auth import Role
from shared.events.registry import CAMPAIGN_NOTIFICATION_REQUESTED, COUPON_ISSUED
from tests.support.audience import consent, erased, registered, survey_invitation

pytestmark = pytest.mark.integration

SIGN = "【邻里生活超市】"
THANKS = {"template": "coupon_offer"}


async def messages_of(cmp, member_id: str) -> list[MessageRow]:
    async with cmp.app.state.sessions() as s:
        query = select(MessageRow).where(MessageRow.member_id == member_id).order_by(col(MessageRow.created_at))
        return list((await s.exec(query)).all())


async def survey_campaign(cmp, **body: Any) -> dict[str, Any]:
    return await cmp.launched(**{"name": "答卷有礼", "kind": "triggered", "trigger": "survey_invitation", "message": THANKS, **body})


async def test_the_invitation_is_sent_once_with_its_link_and_the_stores_name(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "service_tips_sms", True))
    request = survey_invitation("m-1", "inv-1")
    await cmp.apply(request)
    await cmp.apply(request)  # redelivered: skipped by its id
    await cmp.apply(survey_invitation("m-1", "inv-1", event_id=str(uuid.uuid4())))  # republished: same occasion
    (queued,) = await messages_of(cmp, "m-1")
    assert (queued.source, queued.template, queued.status, queued.marketing) == (
        "feedback:survey_invitation", "survey_invitation", "queued", False)
    assert queued.requires_consent == "service_tips_sms"

    assert (await cmp.run_job("message-dispatch"))["sent"] == 1
    r = await cmp.client.get("/v1/outbox", headers=cmp.env.auth(Role.OPERATOR))
    assert r.status_code == 200, r.text
    (sent,) = r.json()
    text = (f"{SIGN}感谢您选择城东店！诚邀您花1分钟评价我们的服务：https://crm.example.cn/surveys/tok-inv-1"
            "（2026-12-19前有效）")
    assert (sent["member_id"], sent["channel"], sent["text"]) == ("m-1", "sms", text)
    assert "回T退订" not in sent["text"]  # a service message carries no marketing opt-out line

    # The link is the member's own: in their inbox, never in the archive staff read (the 360 view).
    [mine] = (await cmp.client.get("/v1/members/m-1/messages", headers=cmp.member("m-1"))).json()
    assert "https://crm.example.cn/surveys/tok-inv-1" in mine["text"]
    staff = await cmp.client.get("/v1/members/m-1/messages", headers=cmp.env.auth(Role.MARKETING))
    [archived] = staff.json()
    assert archived["text"] == text.replace("https://crm.example.cn/surveys/tok-inv-1", "[…]"), staff.text

    await cmp.apply(survey_invitation("m-1", "inv-2", source="sale"))  # another invitation: another message
    assert len(await messages_of(cmp, "m-1")) == 2


async def test_without_service_message_consent_the_invitation_is_not_sent(cmp) -> None:
    await cmp.apply(registered("m-no"), consent("m-no", "marketing_sms", True),  # marketing consent is not enough
                    registered("m-off"), consent("m-off", "service_tips_sms", False))
    await cmp.apply(survey_invitation("m-no", "inv-1"), survey_invitation("m-off", "inv-2"))
    for member_id in ("m-no", "m-off"):
        (message,) = await messages_of(cmp, member_id)
        assert (message.status, message.reason) == ("cancelled", "no service_tips_sms consent")
    assert (await cmp.run_job("message-dispatch"))["due"] == 0


async def test_an_erased_member_gets_no_invitation(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "service_tips_sms", True))
    await cmp.apply(cmp.erased("m-1"), erased("m-1"))
    await cmp.apply(survey_invitation("m-1", "inv-1"))  # asked before the erasure, delivered after it
    (message,) = await messages_of(cmp, "m-1")
    assert (message.status, message.reason) == ("cancelled", "the member was erased")


async def test_a_thank_you_campaign_reaches_a_member_once_per_invitation(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True), consent("m-1", "service_tips_sms", True))
    coupon = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 14}, name="答卷礼券 10元")
    made = await survey_campaign(cmp, coupon_template_id=coupon, control_share="0")
    await cmp.apply(survey_invitation("m-1", "inv-1"))
    await cmp.apply(survey_invitation("m-1", "inv-1", event_id=str(uuid.uuid4())))  # asked again: same occasion
    assert len(await cmp.wallet("m-1")) == 1
    await cmp.apply(survey_invitation("m-1", "inv-2", source="sale"))  # the next invitation: a new occasion
    assert len(await cmp.wallet("m-1")) == 2

    requests = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert [m["occasion"] for m in requests] == ["survey:inv-1", "survey:inv-2"]
    assert all(m["coupon_id"] and m["requires_consent"] == "marketing_sms" and m["template"] == "coupon_offer"
               for m in requests)
    assert requests[0]["params"] == {
        "offer": "答卷礼券 10元", "link": "https://crm.example.cn/surveys/tok-inv-1", "store_id": "S001", "store_name": "城东店",
        "expires_on": "2026-12-19", "survey_source": "complaint"}
    assert await cmp.sizes(made["id"]) == (2, 0)
    # The invitations themselves went to the sender too, whatever the campaign.
    assert [m.source for m in await messages_of(cmp, "m-1")].count("feedback:survey_invitation") == 2


async def test_the_control_group_is_held_out_and_marketing_consent_decides_who_is_reached(cmp) -> None:
    members = [f"m-{i:03d}" for i in range(30)]
    await cmp.apply(*(e for m in members for e in (registered(m), consent(m, "marketing_sms", True))))
    await cmp.apply(registered("m-quiet"))  # no marketing consent
    coupon = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 14})
    made = await survey_campaign(cmp, coupon_template_id=coupon, control_share="0.3")
    await cmp.apply(*(survey_invitation(m, f"inv-{m}") for m in [*members, "m-quiet"]))

    control = {m for m in members if in_control(made["id"], m, Decimal("0.3"))}
    treated = set(members) - control
    assert 0 < len(control) < len(members)
    assert {e["member_id"] for e in await cmp.outbox(COUPON_ISSUED)} == treated
    assert {m["member_id"] for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)} == treated
    assert await cmp.sizes(made["id"]) == (len(treated), len(control))


async def test_a_paused_campaign_reaches_nobody_and_the_budget_caps_the_coupons(cmp) -> None:
    await cmp.apply(*(e for m in ("m-1", "m-2", "m-3") for e in (registered(m), consent(m, "marketing_sms", True))))
    coupon = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 14},
                                caps={"issued": 1})
    made = await survey_campaign(cmp, coupon_template_id=coupon, control_share="0")
    r = await cmp.client.post(f"/v1/campaigns/{made['id']}/pause", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    await cmp.apply(survey_invitation("m-1", "inv-1"))
    assert await cmp.outbox(COUPON_ISSUED) == [] and await cmp.sizes(made["id"]) == (0, 0)
    r = await cmp.client.post(f"/v1/campaigns/{made['id']}/resume", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    await cmp.apply(survey_invitation("m-2", "inv-2"), survey_invitation("m-3", "inv-3"))
    assert len(await cmp.outbox(COUPON_ISSUED)) == 1  # the template's issue cap
