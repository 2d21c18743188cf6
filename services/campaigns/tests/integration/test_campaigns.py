"""Campaigns through the app, on SQLite and PostgreSQL: a one-off campaign freezes its audience and
holds out its control group at launch, a till redeems its coupon, and the results compare the two
groups; budgets refuse a launch; triggers reach a member once per occasion; the access policy."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import col, select

from campaigns.adapters.tables import CampaignRow, MessageRow
from campaigns.domain.control import in_control
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import (
    CAMPAIGN_ENDED,
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_NOTIFICATION_REQUESTED,
    COMPLAINT_RESOLVED,
    COUPON_ISSUED,
    POINTS_EXPIRING,
)
from tests.support.audience import T0, attributes, consent, personalisation, registered, ret, sale
from tests.support.factories import keyed

pytestmark = pytest.mark.integration

# A message of one of the sender's templates, its parameter given by the campaign.
TIP = {"template": "service_tip", "params": {"tip": "本周六延长营业至22点"}}

KEY_AT_RISK_IN_C1 = {"and": [
    {"field": "value_class", "op": "in", "value": ["key"]},
    {"field": "churn_risk", "op": "in", "value": ["high", "lost"]},
    {"field": "community", "op": "in", "value": ["C1"]},
]}


async def seed(cmp, n: int = 40) -> list[str]:
    """`n` key customers at risk in C1 with SMS consent (the audience), plus some who are not."""
    ids = [f"m-{i:03d}" for i in range(n)]
    events: list[Envelope] = []
    for m in ids:
        events += [registered(m), attributes(m, value_class="key", churn_risk="high", community_id="C1"),
                   consent(m, "marketing_sms", True)]
    events += [registered("m-low"), attributes("m-low", value_class="key", churn_risk="low", community_id="C1"),
               consent("m-low", "marketing_sms", True)]
    events += [registered("m-quiet"), attributes("m-quiet", value_class="key", churn_risk="high", community_id="C1")]
    await cmp.apply(*events)
    return ids


async def segment(cmp, rule: dict[str, Any] = KEY_AT_RISK_IN_C1) -> str:
    r = await cmp.client.post("/v1/segments", json={"name": f"seg {len(str(rule))}", "rule": rule}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def campaign(cmp, **body: Any) -> dict[str, Any]:
    r = await cmp.client.post("/v1/campaigns", json={"name": "Win them back", **body}, headers=keyed(cmp.marketing()))
    assert r.status_code == 201, r.text
    return r.json()


async def act(cmp, campaign_id: str, action: str, status: int = 200) -> dict[str, Any]:
    r = await cmp.client.post(f"/v1/campaigns/{campaign_id}/{action}", headers=cmp.marketing())
    assert r.status_code == status, r.text
    return r.json()


async def test_a_one_off_campaign_reaches_its_audience_once_and_measures_against_control(cmp) -> None:
    audience = await seed(cmp)
    template_id = await cmp.template()  # 满100减20
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=template_id,
                          message={"template": "coupon_offer"}, control_share="0.25")
    assert made["state"] == "draft" and made["personalised"] is True
    launched = await act(cmp, made["id"], "launch")

    # Frozen: consent-less m-quiet and not-at-risk m-low are out; the split is the campaign's own.
    control = {m for m in audience if in_control(made["id"], m, Decimal("0.25"))}
    treated = set(audience) - control
    assert 0 < len(control) < len(audience)
    assert (launched["state"], launched["treatment_size"], launched["control_size"]) == ("running", len(treated), len(control))
    issued = await cmp.outbox(COUPON_ISSUED)
    assert {e["member_id"] for e in issued} == treated and {e["campaign_id"] for e in issued} == {made["id"]}
    messages = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert {m["member_id"] for m in messages} == treated
    # The coupon's offer is the template's name, as the wallet shows it.
    assert all(m["requires_consent"] == "marketing_sms" and m["params"] == {"offer": "满100减20"} and m["coupon_id"]
               for m in messages)
    (event,) = await cmp.outbox(CAMPAIGN_LAUNCHED)
    assert (event["treatment"], event["control"]) == (len(treated), len(control))
    await act(cmp, made["id"], "launch", 409)  # launched once
    assert len(await cmp.outbox(COUPON_ISSUED)) == len(treated)
    assert await cmp.wallet(sorted(control)[0]) == []

    # One treated member redeems the coupon at a till; every treated member spends more than control.
    buyer = sorted(treated)[0]
    code = await cmp.code_of(buyer)
    await cmp.apply(cmp.registered(buyer))  # the card the buyer shows with the coupon
    assert (await cmp.reserve([code])).json()["codes"][0]["ok"]
    cmp.clock.advance(minutes=5)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    later = cmp.clock.now
    await cmp.apply(*(sale(m, [("grain", "150.00")], at=later) for m in treated),
                    *(sale(m, [("grain", "50.00")], at=later) for m in sorted(control)[:2]))
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    res = r.json()
    assert (res["issued"], res["redeemed"]) == (len(treated), 1)
    assert Decimal(res["redemption_rate"]) == (Decimal(1) / len(treated)).quantize(Decimal("0.0001"))
    assert Decimal(res["discount_cost"]) == Decimal("20.00")
    assert res["treatment"] == {"members": len(treated), "buyers": len(treated), "spend_per_member": "150.00",
                                "visits_per_member": "1.00"}
    assert res["control"]["members"] == len(control) and res["control"]["buyers"] == 2
    expected_control = (Decimal("100.00") / len(control)).quantize(Decimal("0.01"))
    assert Decimal(res["control"]["spend_per_member"]) == expected_control
    spend = res["spend_uplift"]
    assert Decimal(spend["difference"]) == Decimal("150.00") - Decimal(spend["control_mean"])
    assert Decimal(spend["low"]) > 0 and spend["significant"] is True

    csv = await cmp.client.get(f"/v1/campaigns/{made['id']}/results.csv", headers=cmp.marketing())
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    # The shared writer's: a byte-order mark for Excel, headings in both languages, the measures' keys.
    assert csv.text.startswith("\ufeff指标 Measure,触达组 Treatment,对照组 Control,")
    rows = [line.split(",") for line in csv.text.strip().splitlines()]
    assert ["coupons_redeemed", "1"] == rows[-3][:2] or any(r[:2] == ["coupons_redeemed", "1"] for r in rows)
    assert any(r[0] == "spend_per_member" and r[1] == "150.00" for r in rows)

    ended = await act(cmp, made["id"], "end")
    assert ended["state"] == "ended" and ended["ended_at"]
    assert len(await cmp.outbox(CAMPAIGN_ENDED)) == 1
    await act(cmp, made["id"], "resume", 409)


async def test_a_campaign_s_coupon_issued_by_hand_never_reaches_its_control_group(cmp) -> None:
    """Held-out members stay untreated: a coupon of the campaign given them by hand would be counted
    as control in the results, and the uplift would understate what the campaign did."""
    audience = await seed(cmp, 20)
    template_id = await cmp.template()
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=template_id,
                          message={"template": "coupon_offer"}, control_share="0.5")
    launched = await act(cmp, made["id"], "launch")
    control = sorted(m for m in audience if in_control(made["id"], m, Decimal("0.5")))
    assert launched["control_size"] == len(control) >= 1
    r = await cmp.client.post(f"/v1/coupon-templates/{template_id}/issue", headers=cmp.marketing(),
                              json={"member_ids": [control[0], "m-low"], "campaign_id": made["id"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"requested": 2, "issued": 1, "already_held": 0, "over_budget": 0, "unknown": 0, "unknown_member_ids": [],
                        "held_out": 1, "held_out_member_ids": [control[0]]}
    assert await cmp.wallet(control[0]) == []
    # Without the campaign's id the template is the campaign's no longer: that coupon is anyone's.
    assert (await cmp.issue(template_id, [control[0]]))["issued"] == 1
    res = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    assert res["issued"] == launched["treatment_size"] + 1  # m-low's, under the campaign


async def test_coupons_by_hand_go_only_under_a_running_campaign_of_their_template(cmp) -> None:
    """Under any other id they would count in a campaign's results, or pass for the payment of a
    complaint's compensation coupon (issued under `complaint:<id>`) that was then never issued."""
    audience = await seed(cmp, 4)
    template_id, other_template = await cmp.template(), await cmp.template()
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=template_id,
                          message={"template": "coupon_offer"}, control_share="0")
    launched = await act(cmp, made["id"], "launch")
    assert launched["treatment_size"] == len(audience)

    async def by_hand(template: str, campaign_id: str) -> httpx.Response:
        return await cmp.client.post(f"/v1/coupon-templates/{template}/issue", headers=cmp.marketing(),
                                     json={"member_ids": [audience[0]], "campaign_id": campaign_id})

    for campaign_id, template, said in ((f"complaint:{made['id']}", template_id, "no campaign complaint:"),
                                        ("no-such-campaign", template_id, "no campaign no-such-campaign"),
                                        (made["id"], other_template, f"gives coupons of template {template_id}")):
        r = await by_hand(template, campaign_id)
        assert r.status_code == 422 and r.json()["detail"].startswith("campaign_id: ") and said in r.json()["detail"], r.text
    await act(cmp, made["id"], "end")
    r = await by_hand(template_id, made["id"])
    assert r.status_code == 409 and "is ended: only a running campaign gives coupons" in r.json()["detail"], r.text
    # Nothing refused was issued: the campaign's results count its launch's coupons, the member holds theirs alone.
    res = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    assert res["issued"] == launched["treatment_size"]
    assert len(await cmp.wallet(audience[0])) == 1


async def test_results_break_down_by_store_over_each_whole_group(cmp) -> None:
    audience = await seed(cmp, 12)
    await cmp.apply(sale(audience[0], [("grain", "500.00")], at=T0 - timedelta(days=1), store="S003"))  # before: no part
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=await cmp.template(),
                          message={"template": "coupon_offer"}, control_share="0.5")
    launched = await act(cmp, made["id"], "launch")
    control = sorted(m for m in audience if in_control(made["id"], m, Decimal("0.5")))
    treated = sorted(set(audience) - set(control))
    nt, nc = launched["treatment_size"], launched["control_size"]
    assert (nt, nc) == (len(treated), len(control)) and nt >= 1 and nc >= 1
    cmp.clock.advance(minutes=5)
    # Every treated member spends 100.00 at S001, every control member 60.00 there; one treated
    # member also redeems the coupon at S002 (150.00 less 20.00 off: 130.00 paid).
    buyer = treated[0]
    code = await cmp.code_of(buyer)
    await cmp.apply(cmp.registered(buyer))
    assert (await cmp.reserve([code], store="S002")).json()["codes"][0]["ok"]
    await cmp.apply(cmp.sale([code], store="S002", discounts={code: "20.00"}),
                    sale(buyer, [("grain", "150.00")], discount="20.00", store="S002", at=cmp.clock.now),
                    *(sale(m, [("grain", "100.00")], at=cmp.clock.now) for m in treated),
                    *(sale(m, [("grain", "60.00")], at=cmp.clock.now) for m in control))
    res = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    s001, s002 = res["by_store"]  # S003's sale came before the campaign
    assert (s001["store_id"], s002["store_id"]) == ("S001", "S002")
    assert (s001["treatment_spend_per_member"], s001["control_spend_per_member"]) == ("100.00", "60.00")
    assert (s001["spend_uplift"]["difference"], s001["redeemed"], s001["discount_cost"]) == ("40.00", 0, "0.00")
    # Everyone at S001 spent alike within their group: no spread, no interval.
    assert (s001["spend_uplift"]["low"], s001["spend_uplift"]["high"]) == (None, None)
    # S002: 130.00 over every treated member (those who bought nothing there count as 0.00).
    at_s002 = (Decimal("130.00") / nt).quantize(Decimal("0.01"))
    assert (Decimal(s002["treatment_spend_per_member"]), s002["control_spend_per_member"]) == (at_s002, "0.00")
    assert (s002["redeemed"], s002["discount_cost"]) == (1, "20.00")
    # The stores' parts add up to the campaign's: 100.00 + 130.00 / nt against 60.00.
    assert Decimal(res["spend_uplift"]["difference"]) == ((Decimal("100.00") + Decimal("130.00") / nt) - Decimal("60.00")).quantize(Decimal("0.01"))
    assert abs(Decimal(res["spend_uplift"]["difference"]) - Decimal("40.00") - Decimal(s002["spend_uplift"]["difference"])) <= Decimal("0.01")
    csv = await cmp.client.get(f"/v1/campaigns/{made['id']}/results.csv", headers=cmp.marketing())
    rows = {line.split(",")[0]: line.split(",") for line in csv.text.strip().splitlines()}
    assert rows["spend_per_member@S001"][1:4] == ["100.00", "60.00", "40.00"]
    assert rows["coupons_redeemed@S002"][1] == "1" and rows["discount_cost@S002"][1] == "20.00"
    assert "spend_per_member@S003" not in rows


async def test_results_count_what_was_paid_and_kept_after_discounts_and_returns(cmp) -> None:
    await seed(cmp, 2)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), message=TIP,
                          control_share="0")
    await act(cmp, made["id"], "launch")
    cmp.clock.advance(minutes=1)
    whole = sale("m-000", [("grain", "150.00")], discount="20.00", at=cmp.clock.now)
    half = sale("m-001", [("grain", "75.00"), ("oil", "75.00")], discount="20.00", at=cmp.clock.now)
    # Returns carry the gross of their lines: a sale returned whole nets to nothing, not to -20.00;
    # half of one keeps half of what was paid (130.00 / 2).
    await cmp.apply(whole, half, ret(whole, [("grain", "150.00")], at=cmp.clock.now), ret(half, [("oil", "75.00")], at=cmp.clock.now))
    res = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    assert res["treatment"]["spend_per_member"] == "32.50"  # (0.00 + 65.00) / 2
    # A sale returned whole is no visit, and its customer no buyer: what the campaign made them
    # buy and keep is what it measures.
    assert (res["treatment"]["buyers"], res["treatment"]["visits_per_member"]) == (1, "0.50")
    # The read model's lifetime spend follows the same rule: only m-001 has 65.00 to show.
    assert (await cmp.preview({"field": "lifetime_spend", "op": "gte", "value": "65.00"}))["size"] == 1
    assert (await cmp.preview({"field": "lifetime_spend", "op": "gt", "value": "65.00"}))["size"] == 0


async def test_a_launch_the_budget_cannot_cover_is_refused(cmp) -> None:
    await seed(cmp, 10)
    template_id = await cmp.template(caps={"issued": 3})
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=template_id,
                          control_share="0")
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/preview", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    assert r.json() == {"audience": 10, "treatment": 10, "control": 0, "coupons_needed": 10, "issue_cap": 3,
                        "fits_budget": False}
    r = await cmp.client.post(f"/v1/campaigns/{made['id']}/launch", headers=cmp.marketing())
    assert r.status_code == 409 and "budget" in r.json()["detail"]
    assert (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()["state"] == "draft"
    assert await cmp.outbox(COUPON_ISSUED) == []


async def test_a_campaign_starting_later_is_scheduled_and_started_by_its_job(cmp) -> None:
    await seed(cmp, 5)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), message=TIP,
                          control_share="0", starts_at=(T0 + timedelta(days=1)).isoformat(),
                          ends_at=(T0 + timedelta(days=3)).isoformat())
    assert (await act(cmp, made["id"], "launch"))["state"] == "scheduled"
    assert await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED) == []
    assert await cmp.run_job("campaign-schedule") == {"started": 0, "ended": 0}
    cmp.clock.advance(days=1)
    assert await cmp.run_job("campaign-schedule") == {"started": 1, "ended": 0}
    assert len(await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)) == 5
    assert (await act(cmp, made["id"], "pause"))["state"] == "paused"
    assert (await act(cmp, made["id"], "resume"))["state"] == "running"
    cmp.clock.advance(days=2)
    assert await cmp.run_job("campaign-schedule") == {"started": 0, "ended": 1}
    assert (await cmp.outbox(CAMPAIGN_ENDED))[0]["reason"] == "ends_at_passed"
    assert len(await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)) == 5  # started once


def resolved(complaint_id: str, member_id: str, value: str | None, event_id: str | None = None) -> Envelope:
    data = c.ComplaintResolvedV1(complaint_id=complaint_id, member_id=member_id, store_id="S001", category="product_quality",
                                 severity="high", resolved_at=T0, coupon_value=Decimal(value) if value else None)
    return new_event(COMPLAINT_RESOLVED, data, source="crm/feedback", subject=member_id, event_id=event_id)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def messages_of(cmp, member_id: str) -> list[dict[str, Any]]:
    """The sender's messages to the member, as recorded (queued ones included)."""
    async with cmp.app.state.sessions() as s:
        found = (await s.exec(select(MessageRow).where(MessageRow.member_id == member_id)
                              .order_by(col(MessageRow.created_at), col(MessageRow.id)))).all()
    return [r.model_dump() for r in found]


async def test_complaint_compensation_issues_the_coupon_of_that_value_once_per_complaint(cmp) -> None:
    await cmp.apply(registered("m-1"), cmp.registered("m-1"))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="赔付券 20元")
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=twenty,
                          control_share="0", marketing=False, message={"template": "coupon_offer"})
    await act(cmp, made["id"], "launch")
    await cmp.apply(resolved("cp-1", "m-1", "20"))
    await cmp.apply(resolved("cp-1", "m-1", "20"))  # published again with another event id: same occasion
    assert len(await cmp.wallet("m-1")) == 1
    await cmp.apply(resolved("cp-2", "m-1", "20"))  # a second complaint: a second coupon
    await cmp.apply(resolved("cp-4", "m-1", None))
    wallet = await cmp.wallet("m-1")
    assert [(w["template_id"], w["campaign_id"]) for w in wallet] == [(twenty, made["id"])] * 2  # the campaign's own
    messages = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert [m["occasion"] for m in messages] == ["complaint:cp-1", "complaint:cp-2"]
    assert all(m["requires_consent"] is None for m in messages)  # a service message, not marketing
    body = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert (body["treatment_size"], body["control_size"]) == (2, 0)
    # No campaign gives 15 yuan: not rounded to 20, but paid all the same with a 15 yuan coupon.
    await cmp.apply(resolved("cp-3", "m-1", "15"))
    fifteen = [w for w in await cmp.wallet("m-1") if w["campaign_id"] == "complaint:cp-3"]
    assert [(w["kind"], w["terms"]["amount"]) for w in fifteen] == [("amount_off", "15.00")]
    assert (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()["treatment_size"] == 2


async def test_a_compensation_campaign_holds_nobody_out_and_counts_each_complaint_once(cmp) -> None:
    members = [f"m-{i}" for i in range(12)]
    await cmp.apply(*(registered(m) for m in members))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="赔付券 20元")
    # Left out, control_share, marketing and personalised take a compensation's values, not the defaults.
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=twenty)
    # As stored (three decimal places), as a read or a retry of the create answers it too
    assert (made["control_share"], made["marketing"], made["personalised"]) == ("0.000", False, False)
    await act(cmp, made["id"], "launch")
    for _ in range(2):  # every resolution published twice, with different event ids
        await cmp.apply(*(resolved(f"cp-{m}", m, "20") for m in members))
    body = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert (body["treatment_size"], body["control_size"]) == (len(members), 0)
    issued = await cmp.outbox(COUPON_ISSUED)
    assert sorted(e["member_id"] for e in issued) == sorted(members)
    assert {e["campaign_id"] for e in issued} == {made["id"]}


async def test_a_triggered_campaign_counts_each_members_spend_from_when_it_reached_them(cmp) -> None:
    await cmp.apply(registered("m-early"), registered("m-late"))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="赔付券 20元")
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=twenty)
    await act(cmp, made["id"], "launch")
    await cmp.apply(resolved("cp-1", "m-early", "20"))
    cmp.clock.advance(days=20)
    # Bought weeks into the campaign, before it reached them: no effect of the campaign.
    await cmp.apply(sale("m-late", [("grain", "100.00")], at=cmp.clock.now))
    cmp.clock.advance(minutes=1)
    await cmp.apply(resolved("cp-2", "m-late", "20"))
    cmp.clock.advance(minutes=1)
    await cmp.apply(sale("m-late", [("grain", "30.00")], at=cmp.clock.now))
    treated = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()["treatment"]
    assert (treated["members"], treated["buyers"], treated["spend_per_member"], treated["visits_per_member"]) == (2, 1, "15.00", "0.50")


async def test_a_member_reached_on_several_occasions_counts_once_in_the_results(cmp) -> None:
    await cmp.apply(registered("m-twice"), registered("m-once"))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="赔付券 20元")
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=twenty)
    await act(cmp, made["id"], "launch")
    await cmp.apply(resolved("cp-1", "m-twice", "20"), resolved("cp-2", "m-twice", "20"), resolved("cp-3", "m-once", "20"))
    cmp.clock.advance(minutes=1)
    await cmp.apply(sale("m-twice", [("grain", "30.00")], at=cmp.clock.now))
    res = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    treated = res["treatment"]
    assert (treated["members"], treated["buyers"], treated["spend_per_member"], treated["visits_per_member"]) == (2, 1, "15.00", "0.50")
    # The campaign's sizes count its reaches: three complaints.
    assert (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()["treatment_size"] == 3


async def test_a_complaint_coupon_is_paid_once_without_a_compensation_campaign(cmp) -> None:
    """The default (the demo): no compensation campaign runs. The coupon staff promised is paid all
    the same, from a coupon of that value made for the purpose, and the member is told."""
    await cmp.apply(registered("m-1"), cmp.registered("m-1"))  # no marketing consent: none is needed
    event = resolved("cp-1", "m-1", "10.00", event_id=str(uuid.uuid4()))
    await cmp.apply(event)
    await cmp.apply(event)  # redelivered
    await cmp.apply(resolved("cp-1", "m-1", "10.00"))  # republished under another event id
    (coupon,) = await cmp.wallet("m-1")
    assert (coupon["kind"], coupon["terms"]["amount"], coupon["state"], coupon["campaign_id"]) == (
        "amount_off", "10.00", "issued", "complaint:cp-1")
    # CRM_COMPENSATION_COUPON_VALID_DAYS (30) from its issue, to the end of that local day
    last_moment = at(coupon["valid_from"]) + timedelta(days=30)
    zone = cmp.app.state.settings.zone
    assert at(coupon["valid_until"]) == datetime.combine(last_moment.astimezone(zone).date() + timedelta(days=1), time(), zone)
    assert coupon["terms"]["limits"]["stores"] == []  # any store
    (issued,) = await cmp.outbox(COUPON_ISSUED)
    assert (issued["member_id"], issued["coupon_id"]) == ("m-1", coupon["coupon_id"])
    # Told: a service SMS (no consent, no weekly cap) announcing the coupon, once.
    (message,) = await messages_of(cmp, "m-1")
    assert (message["template"], message["channel"], message["marketing"], message["status"]) == (
        "coupon_offer", "sms", False, "queued")
    assert coupon["name"] in message["text"]
    # A second complaint of the member is a second coupon; its template, of the same value, is shared.
    await cmp.apply(resolved("cp-2", "m-1", "10"))
    wallet = await cmp.wallet("m-1")
    assert len(wallet) == 2 and len({w["template_id"] for w in wallet}) == 1
    assert len(await messages_of(cmp, "m-1")) == 2


async def test_a_complaint_is_paid_once_whichever_way_it_was_paid_first(cmp) -> None:
    await cmp.apply(registered("m-1"), cmp.registered("m-1"))
    await cmp.apply(resolved("cp-1", "m-1", "10.00"))  # no campaign yet: a purpose-made coupon
    ten = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 30}, name="赔付券 10元")
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=ten,
                          message={"template": "coupon_offer"})
    await act(cmp, made["id"], "launch")
    await cmp.apply(resolved("cp-1", "m-1", "10.00"))  # republished once the campaign runs: paid already
    await cmp.apply(resolved("cp-2", "m-1", "10.00"))  # paid by the campaign
    await act(cmp, made["id"], "end")
    await cmp.apply(resolved("cp-2", "m-1", "10.00"))  # republished after it ended: paid already
    assert sorted(w["campaign_id"] for w in await cmp.wallet("m-1")) == sorted(["complaint:cp-1", made["id"]])
    # The campaign has a message: it announces its coupon, and no second message is sent.
    assert [m["occasion"] for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)] == ["complaint:cp-2"]


async def test_a_compensation_past_its_campaign_template_cap_is_paid_all_the_same(cmp) -> None:
    await cmp.apply(registered("m-1"), cmp.registered("m-1"))
    ten = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 30}, name="赔付券 10元",
                             caps={"issued": 1})
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=ten)
    await act(cmp, made["id"], "launch")
    await cmp.apply(resolved("cp-1", "m-1", "10"), resolved("cp-2", "m-1", "10"))
    wallet = await cmp.wallet("m-1")
    assert sorted(w["campaign_id"] for w in wallet) == sorted([made["id"], "complaint:cp-2"])
    assert {w["terms"]["amount"] for w in wallet} == {"10.00"}
    # The campaign has no message of its own: the member is told of each coupon by the service message.
    assert [m["template"] for m in await messages_of(cmp, "m-1")] == ["coupon_offer", "coupon_offer"]


async def test_no_compensation_goes_to_an_erased_member_or_without_a_coupon_value(cmp) -> None:
    await cmp.apply(registered("m-1"), cmp.registered("m-1"), registered("m-2"), cmp.registered("m-2"))
    await cmp.apply(cmp.erased("m-1"))
    # 0.00 passes the contract and promises nothing: handled as no coupon, never a dead letter.
    await cmp.apply(resolved("cp-1", "m-1", "10"), resolved("cp-2", "m-2", None), resolved("cp-3", "m-2", "0.00"))
    assert await cmp.outbox(COUPON_ISSUED) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"coupon_template_id": "THRESHOLD"}, "coupon_template_id"),  # 满100减20 cannot pay a promised value
    ({"control_share": "0.1"}, "control_share"),
    ({"marketing": True}, "marketing"),
    ({"personalised": True}, "personalised"),
    ({"budget": {"max_coupons": 5}}, "budget"),
])
async def test_a_compensation_campaign_that_could_not_pay_every_promise_is_refused(cmp, body, field) -> None:
    amount_off = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 30}, name="赔付券 10元")
    threshold = await cmp.template()  # 满100减20
    spec = {"name": "赔付", "kind": "triggered", "trigger": "complaint_compensation", "coupon_template_id": amount_off,
            **body}
    if spec["coupon_template_id"] == "THRESHOLD":
        spec["coupon_template_id"] = threshold
    r = await cmp.client.post("/v1/campaigns", json=spec, headers=keyed(cmp.marketing()))
    assert r.status_code == 422, r.text
    assert field in r.text
    assert (await cmp.client.get("/v1/campaigns", headers=cmp.marketing())).json() == []


async def test_win_back_reaches_a_member_when_churn_risk_rises_not_while_it_stays(cmp) -> None:
    await cmp.apply(registered("m-1"), attributes("m-1", churn_risk="low"), consent("m-1", "marketing_sms", True))
    made = await campaign(cmp, kind="triggered", trigger="win_back", message=TIP, control_share="0")
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/preview", headers=cmp.marketing())
    assert r.status_code == 409 and "triggered" in r.json()["detail"]
    await act(cmp, made["id"], "launch")
    await cmp.apply(attributes("m-1", churn_risk="high", as_of=T0 + timedelta(days=7)))
    await cmp.apply(attributes("m-1", churn_risk="lost", as_of=T0 + timedelta(days=14)))  # still at risk: no rise
    await cmp.apply(attributes("m-1", churn_risk="high", as_of=T0 + timedelta(days=3)))  # older reading: ignored
    (message,) = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert message["occasion"] == f"churn:{(T0 + timedelta(days=7)).date().isoformat()}"


async def test_the_win_back_occasion_is_the_chains_local_date_of_the_attributes(cmp) -> None:
    # Attributes worked out at 00:30 in Shanghai on 12 December (16:30 UTC on the 11th) are the
    # 12th's: the occasion is the chain's date, as every day in the platform.
    await cmp.apply(registered("m-1"), attributes("m-1", churn_risk="low"), consent("m-1", "marketing_sms", True))
    made = await campaign(cmp, kind="triggered", trigger="win_back", message=TIP, control_share="0")
    await act(cmp, made["id"], "launch")
    assert cmp.app.state.settings.zone == ZoneInfo("Asia/Shanghai")
    # Members publishes the moment in UTC.
    at = datetime(2026, 12, 12, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    await cmp.apply(attributes("m-1", churn_risk="high", as_of=at))
    (message,) = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert message["occasion"] == "churn:2026-12-12"


async def test_a_win_back_segment_is_judged_on_the_attributes_that_raise_the_risk(cmp) -> None:
    # The segment selects on what the same event changes: the member's risk and community.
    at_risk_in_c2 = {"and": [{"field": "churn_risk", "op": "in", "value": ["high", "lost"]},
                             {"field": "community", "op": "in", "value": ["C2"]}]}
    await cmp.apply(registered("m-1"), attributes("m-1", churn_risk="medium"), consent("m-1", "marketing_sms", True),
                    registered("m-2"), attributes("m-2", churn_risk="medium"), consent("m-2", "marketing_sms", True))
    made = await campaign(cmp, kind="triggered", trigger="win_back", message=TIP, control_share="0",
                          segment_id=await segment(cmp, at_risk_in_c2))
    await act(cmp, made["id"], "launch")
    await cmp.apply(attributes("m-1", churn_risk="high", community_id="C2", as_of=T0 + timedelta(days=7)),
                    attributes("m-2", churn_risk="high", as_of=T0 + timedelta(days=7)))  # m-2 stays in C1
    # Published again under another id: the same occasion, reached once.
    await cmp.apply(attributes("m-1", churn_risk="high", community_id="C2", as_of=T0 + timedelta(days=7)))
    (message,) = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert (message["member_id"], message["occasion"]) == ("m-1", f"churn:{(T0 + timedelta(days=7)).date().isoformat()}")
    assert await cmp.sizes(made["id"]) == (1, 0)


def expiring(member_id: str) -> Envelope:
    data = c.PointsExpiringV1(member_id=member_id, points=300, expires_on=date(2026, 12, 31), balance=500)
    return new_event(POINTS_EXPIRING, data, source="crm/points", subject=member_id, event_id=str(uuid.uuid4()))


async def test_an_occasion_announced_again_counts_neither_group_twice(cmp) -> None:
    candidates = [f"m-{i:02d}" for i in range(20)]
    await cmp.apply(*(e for m in candidates for e in (registered(m), consent(m, "marketing_sms", True))))
    made = await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "points_expiry"},
                          control_share="0.5")
    await act(cmp, made["id"], "launch")
    held = next(m for m in candidates if in_control(made["id"], m, Decimal("0.5")))
    treated = next(m for m in candidates if not in_control(made["id"], m, Decimal("0.5")))
    for _ in range(2):  # the same warning published twice, under two ids
        await cmp.apply(expiring(held), expiring(treated))
    body = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert (body["treatment_size"], body["control_size"]) == (1, 1)
    assert [m["member_id"] for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)] == [treated]


async def test_marketing_consent_decides_who_a_marketing_campaign_reaches(cmp) -> None:
    audience = await seed(cmp, 3)
    # Service tips are a consent of their own: m-quiet agreed to them, not to marketing.
    await cmp.apply(consent("m-quiet", "service_tips_sms", True), consent(audience[0], "service_tips_sms", True))
    rule = {"field": "community", "op": "in", "value": ["C1"]}
    seg = await segment(cmp, rule)
    marketing = await campaign(cmp, kind="one_off", segment_id=seg, message=TIP, control_share="0")
    service = await campaign(cmp, kind="one_off", segment_id=seg, message=TIP, control_share="0",
                             marketing=False)
    assert (await act(cmp, marketing["id"], "launch"))["treatment_size"] == 4  # m-quiet gave no consent
    # A service message reaches those who agreed to service tips, and asks the sender to check again.
    assert (await act(cmp, service["id"], "launch"))["treatment_size"] == 2
    asked = {(m["member_id"], m["requires_consent"]) for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
             if m["campaign_id"] == service["id"]}
    assert asked == {("m-quiet", "service_tips_sms"), (audience[0], "service_tips_sms")}


async def test_a_personalised_one_off_campaign_leaves_out_who_opted_out_and_a_store_wide_one_does_not(cmp) -> None:
    audience = await seed(cmp, 4)
    opted_out, came_back = audience[0], audience[1]
    await cmp.apply(personalisation(opted_out, False), personalisation(came_back, False),
                    personalisation(came_back, True, at=T0 + timedelta(hours=1)))
    seg = await segment(cmp, {"field": "community", "op": "in", "value": ["C1"]})
    # Personalised by default: built from a segment of behaviour.
    chosen = await campaign(cmp, kind="one_off", segment_id=seg, message=TIP, control_share="0")
    store_wide = await campaign(cmp, kind="one_off", segment_id=seg, message=TIP,
                                control_share="0", personalised=False)
    # Marketing consent still applies to both: m-quiet never gave it, m-low did.
    r = await cmp.client.get(f"/v1/campaigns/{chosen['id']}/preview", headers=cmp.marketing())
    assert r.status_code == 200 and r.json()["audience"] == 4, r.text
    r = await cmp.client.get(f"/v1/campaigns/{store_wide['id']}/preview", headers=cmp.marketing())
    assert r.status_code == 200 and r.json()["audience"] == 5, r.text
    assert (await act(cmp, chosen["id"], "launch"))["treatment_size"] == 4
    assert (await act(cmp, store_wide["id"], "launch"))["treatment_size"] == 5
    reached = [(m["campaign_id"], m["member_id"]) for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)]
    assert (chosen["id"], opted_out) not in reached and (store_wide["id"], opted_out) in reached
    assert (chosen["id"], came_back) in reached


async def test_a_personalised_trigger_skips_who_opted_out_and_a_plain_one_does_not(cmp) -> None:
    await cmp.apply(*(e for m in ("m-in", "m-out") for e in (registered(m), consent(m, "marketing_sms", True))))
    await cmp.apply(personalisation("m-out", False))
    personal = await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "points_expiry"},
                              control_share="0")
    plain = await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "points_expiry"},
                           control_share="0", personalised=False)
    await act(cmp, personal["id"], "launch")
    await act(cmp, plain["id"], "launch")
    await cmp.apply(expiring("m-in"), expiring("m-out"))
    reached = {(m["campaign_id"], m["member_id"]) for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)}
    assert reached == {(personal["id"], "m-in"), (plain["id"], "m-in"), (plain["id"], "m-out")}
    # Opting back in applies to the next occasion.
    await cmp.apply(personalisation("m-out", True, at=T0 + timedelta(days=1)), expiring("m-out"))
    reached = {(m["campaign_id"], m["member_id"]) for m in await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)}
    assert (personal["id"], "m-out") in reached


async def test_a_campaigns_switch_is_json_true_or_false_not_a_word_or_a_number(cmp) -> None:
    """Read as false, "marketing": "no" sent a campaign as a service message, past marketing consent."""
    tip = {"name": "x", "kind": "one_off", "segment_id": "s", "message": {"template": "service_tip", "params": {"tip": "t"}}}
    for field, value in [("marketing", "no"), ("marketing", 0), ("personalised", "off"), ("personalised", "1")]:
        r = await cmp.client.post("/v1/campaigns", json={**tip, field: value}, headers=keyed(cmp.marketing()))
        assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", field]], (field, value, r.text)
        assert "must be true or false" in r.json()["detail"][0]["msg"]


async def test_campaign_bodies_are_checked_and_only_marketing_runs_campaigns(cmp) -> None:
    bad = [
        ({"kind": "one_off", "message": {"template": "x"}}, "segment_id"),
        ({"kind": "triggered", "message": {"template": "x"}}, "trigger"),
        ({"kind": "triggered", "trigger": "win_back"}, "coupon_template_id"),
        ({"kind": "triggered", "trigger": "win_back", "message": {"template": "x"}, "control_share": "0.9"}, "control_share"),
    ]
    for body, field in bad:
        r = await cmp.client.post("/v1/campaigns", json={"name": "x", **body}, headers=keyed(cmp.marketing()))
        assert r.status_code == 422 and field in r.text, (body, r.text)
    r = await cmp.client.post("/v1/campaigns", json={"name": "x", "kind": "one_off", "segment_id": "nope",
                                                      "message": {"template": "x"}}, headers=keyed(cmp.marketing()))
    assert r.status_code == 422 and r.json()["detail"] == "segment_id: no segment nope", r.text
    for role in (Role.SERVICE_DESK, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER):
        headers = cmp.env.auth(role, store_id="S001")
        assert (await cmp.client.get("/v1/campaigns", headers=headers)).status_code == 403
        r = await cmp.client.post("/v1/campaigns", json={"name": "x", "kind": "triggered", "trigger": "win_back",
                                                          "message": {"template": "x"}}, headers=headers)
        assert r.status_code == 403


async def test_a_campaigns_budget_is_kept_and_a_launch_it_cannot_cover_is_refused(cmp) -> None:
    await seed(cmp, 10)
    template_id = await cmp.template()  # 满100减20, no caps of its own
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=template_id,
                          message={"template": "coupon_offer"}, control_share="0",
                          budget={"max_coupons": 2, "max_discount": "5.00"})
    assert made["budget"] == {"max_coupons": 2, "max_discount": "5.00"}
    assert made["coupon_template_id"] == template_id and made["budget_template_id"] not in (None, template_id)
    again = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert (again["budget"], again["budget_template_id"]) == (made["budget"], made["budget_template_id"])
    # It issues from the chosen template with its caps narrowed to the budget; the chosen one is unchanged.
    r = await cmp.client.get(f"/v1/coupon-templates/{made['budget_template_id']}", headers=cmp.marketing())
    own = r.json()["spec"]
    assert (r.json()["name"], own["kind"], own["threshold"], own["amount"]) == ("满100减20", "threshold", "100.00", "20.00")
    assert (own["caps"]["issued"], own["caps"]["amount"]) == (2, "5.00")
    chosen = (await cmp.client.get(f"/v1/coupon-templates/{template_id}", headers=cmp.marketing())).json()["spec"]
    assert (chosen["caps"]["issued"], chosen["caps"]["amount"]) == (None, None)

    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/preview", headers=cmp.marketing())
    assert (r.json()["coupons_needed"], r.json()["issue_cap"], r.json()["fits_budget"]) == (10, 2, False)
    r = await cmp.client.post(f"/v1/campaigns/{made['id']}/launch", headers=cmp.marketing())
    assert r.status_code == 409
    assert r.json()["detail"] == "budget.max_coupons: the campaign's budget allows 2 coupons, the campaign would issue 10"
    assert (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()["state"] == "draft"
    assert await cmp.outbox(COUPON_ISSUED) == []


async def test_a_campaigns_budget_caps_the_coupons_it_issues_and_what_they_give_at_the_tills(cmp) -> None:
    members = ["m-1", "m-2", "m-3"]
    await cmp.apply(*(e for m in members for e in (registered(m), cmp.registered(m), consent(m, "marketing_sms", True))))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="立减20元")
    made = await campaign(cmp, kind="triggered", trigger="points_expiring", coupon_template_id=twenty, control_share="0",
                          message={"template": "points_expiry"}, budget={"max_coupons": 2, "max_discount": "30.00"})
    await act(cmp, made["id"], "launch")
    await cmp.apply(*(expiring(m) for m in members))
    issued = await cmp.outbox(COUPON_ISSUED)
    assert [e["member_id"] for e in issued] == ["m-1", "m-2"]  # the third is past the budget's 2 coupons
    assert {(e["template_id"], e["campaign_id"]) for e in issued} == {(made["budget_template_id"], made["id"])}
    assert await cmp.wallet("m-3") == []
    # 20.00 of the 30.00 budget at the first till; 20.00 more would pass it.
    first = (await cmp.reserve([await cmp.code_of("m-1")], txn="T-1")).json()["codes"][0]
    assert (first["ok"], first["discount"]) == (True, "20.00")
    second = (await cmp.reserve([await cmp.code_of("m-2")], txn="T-2")).json()["codes"][0]
    assert (second["ok"], second["reason"]) == (False, "cap_reached")


async def test_a_member_past_the_budget_is_not_told_of_a_coupon_they_were_not_given(cmp) -> None:
    # The message of a campaign with a coupon announces the coupon (`offer`): once the budget's
    # coupons are gone, a message to the next member would promise one that is not in the wallet.
    members = ["m-1", "m-2", "m-3"]
    await cmp.apply(*(e for m in members for e in (registered(m), cmp.registered(m), consent(m, "marketing_sms", True))))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="立减20元")
    made = await campaign(cmp, kind="triggered", trigger="points_expiring", coupon_template_id=twenty, control_share="0",
                          message={"template": "coupon_offer"}, budget={"max_coupons": 2})
    await act(cmp, made["id"], "launch")
    await cmp.apply(*(expiring(m) for m in members))
    issued = {e["member_id"]: e["coupon_id"] for e in await cmp.outbox(COUPON_ISSUED)}
    assert sorted(issued) == ["m-1", "m-2"]
    messages = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert sorted((m["member_id"], m["coupon_id"]) for m in messages) == sorted(issued.items())


async def test_a_budget_needs_a_limit_and_a_coupon_to_limit(cmp) -> None:
    template_id = await cmp.template()
    base = {"name": "x", "kind": "triggered", "trigger": "win_back", "message": TIP}
    for body, words in [
        ({**base, "coupon_template_id": template_id, "budget": {}}, "give max_coupons, max_discount or both"),
        ({**base, "budget": {"max_coupons": 2}}, "budget: limits a campaign's coupons, and this one gives none"),
        ({**base, "coupon_template_id": template_id, "budget": {"max_coupons": 2, "per_member": 1}}, "per_member"),
        ({**base, "coupon_template_id": template_id, "budget": {"max_discount": "0"}}, "max_discount"),
    ]:
        r = await cmp.client.post("/v1/campaigns", json=body, headers=keyed(cmp.marketing()))
        assert r.status_code == 422 and words in r.text, (body, r.text)


async def test_a_campaign_never_reaches_anyone_after_its_end(cmp) -> None:
    await seed(cmp, 3)
    seg = await segment(cmp)
    body = {"name": "x", "kind": "one_off", "segment_id": seg, "message": TIP, "control_share": "0"}
    r = await cmp.client.post("/v1/campaigns", json={**body, "ends_at": (T0 - timedelta(minutes=1)).isoformat()},
                              headers=keyed(cmp.marketing()))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("ends_at: ") and "in the past" in r.json()["detail"]

    # Created in time, launched too late.
    late = await campaign(cmp, **body, ends_at=(T0 + timedelta(hours=1)).isoformat())
    cmp.clock.advance(hours=2)
    r = await cmp.client.post(f"/v1/campaigns/{late['id']}/launch", headers=cmp.marketing())
    assert r.status_code == 409 and r.json()["detail"] == (
        "ends_at: the campaign ended at 2026-12-05T11:00:00+08:00, before it started")  # T0 + 1 hour, in Shanghai
    assert (await cmp.client.get(f"/v1/campaigns/{late['id']}", headers=cmp.marketing())).json()["state"] == "draft"

    # Scheduled, with its start and its end both passed before the job next ran: ended, nobody reached.
    brief = await campaign(cmp, **body, starts_at=(cmp.clock.now + timedelta(minutes=1)).isoformat(),
                           ends_at=(cmp.clock.now + timedelta(minutes=2)).isoformat())
    assert (await act(cmp, brief["id"], "launch"))["state"] == "scheduled"
    cmp.clock.advance(minutes=5)
    assert await cmp.run_job("campaign-schedule") == {"started": 0, "ended": 1}
    assert await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED) == [] and await cmp.outbox(CAMPAIGN_LAUNCHED) == []

    # Paused while scheduled and resumed after its end: it cannot run.
    paused = await campaign(cmp, **body, starts_at=(cmp.clock.now + timedelta(minutes=1)).isoformat(),
                            ends_at=(cmp.clock.now + timedelta(minutes=2)).isoformat())
    await act(cmp, paused["id"], "launch")
    await act(cmp, paused["id"], "pause")
    cmp.clock.advance(minutes=5)
    r = await cmp.client.post(f"/v1/campaigns/{paused['id']}/resume", headers=cmp.marketing())
    assert r.status_code == 409 and "so it cannot resume" in r.json()["detail"]
    assert await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED) == []


SHANGHAI = ZoneInfo("Asia/Shanghai")
ENDS = datetime(2026, 12, 7, 7, 48, 41, tzinfo=UTC)  # 15:48:41 in Shanghai


async def running_until(cmp, ends_at: datetime, n: int = 3) -> tuple[list[str], dict[str, Any]]:
    """`n` members reached by a campaign launched now that runs until `ends_at`; the members and
    the campaign."""
    audience = await seed(cmp, n)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), message=TIP, control_share="0",
                          ends_at=ends_at.isoformat())
    return audience, await act(cmp, made["id"], "launch")


async def results_of(cmp, campaign_id: str) -> dict[str, Any]:
    r = await cmp.client.get(f"/v1/campaigns/{campaign_id}/results", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_campaign_that_cannot_resume_past_its_end_says_when_it_ended_in_the_chains_time(cmp) -> None:
    _, made = await running_until(cmp, ENDS)
    await act(cmp, made["id"], "pause")
    cmp.clock.now = ENDS + timedelta(minutes=5)

    r = await cmp.client.post(f"/v1/campaigns/{made['id']}/resume", headers=cmp.marketing())
    assert r.status_code == 409 and r.json()["detail"] == (
        "ends_at: the campaign ended at 2026-12-07T15:48:41+08:00, so it cannot resume")


async def test_a_campaign_reaching_its_end_is_measured_to_its_end_not_to_when_the_job_noticed(cmp) -> None:
    """The schedule job runs every so often (and not while the service is down): what members
    bought between the campaign's end and the job's run is none of the campaign's doing."""
    audience, made = await running_until(cmp, ENDS)
    await cmp.apply(sale(audience[0], [("grain", "100.00")], at=ENDS - timedelta(minutes=1)),
                    sale(audience[1], [("grain", "100.00")], at=ENDS + timedelta(seconds=20)),
                    sale(audience[2], [("grain", "100.00")], at=ENDS))  # an exclusive end: nobody is reached at it
    cmp.clock.now = ENDS + timedelta(seconds=36)
    assert await cmp.run_job("campaign-schedule") == {"started": 0, "ended": 1}

    shown = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert at(shown["ended_at"]) == ENDS
    assert at((await cmp.outbox(CAMPAIGN_ENDED))[0]["ended_at"]) == ENDS
    results = await results_of(cmp, made["id"])
    assert at(results["window_end"]) == ENDS
    assert (results["treatment"]["buyers"], results["treatment"]["visits_per_member"]) == (1, "0.33")
    csv = await cmp.client.get(f"/v1/campaigns/{made['id']}/results.csv", headers=cmp.marketing())
    rows = {line.split(",")[0]: line.split(",") for line in csv.text.strip().splitlines()}
    assert rows["window_end"][1] == "2026-12-07 15:48"


async def test_a_campaign_past_its_end_before_the_job_ran_is_reported_ended_at_its_end(cmp) -> None:
    audience, made = await running_until(cmp, ENDS)
    await cmp.apply(sale(audience[0], [("grain", "100.00")], at=ENDS + timedelta(minutes=1)))
    cmp.clock.now = ENDS + timedelta(minutes=2)  # the job has not run since

    results = await results_of(cmp, made["id"])
    assert (results["state"], at(results["window_end"])) == ("ended", ENDS)
    assert results["treatment"]["buyers"] == 0


async def test_a_campaign_ended_by_hand_before_its_end_is_measured_to_when_it_was_ended(cmp) -> None:
    _, made = await running_until(cmp, ENDS)
    cmp.clock.now = ENDS - timedelta(hours=1)
    ended = await act(cmp, made["id"], "end")

    assert at(ended["ended_at"]) == cmp.clock.now
    assert at((await results_of(cmp, made["id"]))["window_end"]) == cmp.clock.now


async def test_a_campaigns_template_and_its_parameters_are_checked_when_it_is_created(cmp) -> None:
    await seed(cmp, 3)
    seg = await segment(cmp)
    coupon = await cmp.template()  # 满100减20
    one_off = {"name": "x", "kind": "one_off", "segment_id": seg, "control_share": "0"}
    for body, detail in [
        ({**one_off, "message": {"template": "does_not_exist"}}, "message.template: no template 'does_not_exist'; one of "
         "coupon_offer, offer_list, points_expiry, service_tip, survey_invitation, vip_welcome"),
        ({**one_off, "message": {"template": "signin_code", "params": {"code": "123456", "minutes": "5"}}},
         "message.template: no template 'signin_code'"),
        # Win-back gives no points or expiry date: only the points-expiring trigger does.
        ({"name": "x", "kind": "triggered", "trigger": "win_back", "message": {"template": "points_expiry"}},
         "message.params: template 'points_expiry' needs expires_on, points"),
    ]:
        r = await cmp.client.post("/v1/campaigns", json=body, headers=keyed(cmp.marketing()))
        assert r.status_code == 422 and r.json()["detail"].startswith(detail), (body, r.text)

    # Supplied by the trigger, by the campaign's own params, or by its coupon (the template's name).
    await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "points_expiry"})
    await campaign(cmp, **{**one_off, "name": "周末"}, coupon_template_id=coupon,
                   message={"template": "coupon_offer", "params": {"offer": "周末9折"}})
    made = await campaign(cmp, **{**one_off, "name": "回馈"}, coupon_template_id=coupon, message={"template": "coupon_offer"})
    await act(cmp, made["id"], "launch")
    requests = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    await cmp.apply(*(new_event(CAMPAIGN_NOTIFICATION_REQUESTED, c.CampaignNotificationRequestedV1.model_validate(d),
                                source="crm/campaigns", subject=d["member_id"], event_id=d["notification_id"]) for d in requests))
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/messages", headers=cmp.marketing())
    assert (r.json()["total"], r.json()["counts"]["queued"], r.json()["counts"]["failed"]) == (3, 3, 0)
    (message,) = (await cmp.client.get("/v1/members/m-000/messages", headers=cmp.env.auth(Role.ADMIN))).json()
    assert "您有一张满100减20优惠券已放入会员卡包" in message["text"]


async def test_the_results_csv_shows_a_measured_zero_rather_than_a_blank(cmp) -> None:
    audience = await seed(cmp, 20)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=await cmp.template(),
                          message={"template": "coupon_offer"}, control_share="0.5")
    launched = await act(cmp, made["id"], "launch")
    assert launched["treatment_size"] >= 2 and launched["control_size"] >= 2
    cmp.clock.advance(minutes=1)
    # Nothing redeemed, and every member of both groups spent the same: zeros all, measured.
    await cmp.apply(*(sale(m, [("grain", "100.00")], at=cmp.clock.now) for m in audience))
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/results.csv", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    rows = {line.split(",")[0]: line.split(",") for line in r.text.strip().splitlines()}
    assert rows["redemption_rate"][1] == "0.0000"
    # The difference and the relative change are measured zeros; the interval stays empty, as
    # groups without any spread give none (domain/uplift.py), not a blank for a zero.
    assert rows["spend_per_member"][1:] == ["100.00", "100.00", "0.00", "", "", "0.0000"]
    assert rows["visits_per_member"][3:] == ["0.00", "", "", "0.0000"]


async def test_the_results_file_names_its_window_and_leaves_a_missing_control_group_empty(cmp) -> None:
    audience = await seed(cmp, 3)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), message=TIP, control_share="0")
    await act(cmp, made["id"], "launch")  # at T0, 10:00 in Shanghai
    cmp.clock.advance(hours=2)
    await cmp.apply(*(sale(m, [("grain", "100.00")], at=cmp.clock.now) for m in audience))
    await act(cmp, made["id"], "end")
    cmp.clock.advance(days=1)  # read later: the window is still the campaign's, start to end
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/results.csv", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    rows = {line.split(",")[0]: line.split(",") for line in r.text.strip().splitlines()}
    start, end = T0.astimezone(ZoneInfo("Asia/Shanghai")), (T0 + timedelta(hours=2)).astimezone(ZoneInfo("Asia/Shanghai"))
    # Bilingual like every label of the file, never the API's code.
    assert rows["state"][1] == "已结束 Ended"
    assert rows["window_start"][1] == f"{start:%Y-%m-%d %H:%M}" and rows["window_end"][1] == f"{end:%Y-%m-%d %H:%M}"
    # Nobody held out: no control spend of 0.00 beside the treated's 100.00, and no difference.
    assert rows["members"][1:3] == ["3", "0"]
    assert rows["spend_per_member"][1:] == ["100.00", "", "", "", "", ""]
    assert rows["visits_per_member"][1:3] == ["1.00", ""]


async def test_the_redemption_rate_leaves_out_the_coupons_withdrawn_at_an_erasure(cmp) -> None:
    """Four coupons issued, one redeemed, one withdrawn when its holder's data was erased: of the
    three still redeemable one was used, 1/3 = 0.3333 (not 1/4 = 0.2500, as if the campaign had
    failed to sell a coupon nobody could use any more). The withdrawn one is shown: 4 = 1 + 3."""
    audience = await seed(cmp, 4)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=await cmp.template(),
                          message={"template": "coupon_offer"}, control_share="0")
    await act(cmp, made["id"], "launch")
    buyer, erased = audience[0], audience[1]
    code = await cmp.code_of(buyer)
    await cmp.apply(cmp.registered(buyer))
    assert (await cmp.reserve([code])).json()["codes"][0]["ok"]
    cmp.clock.advance(minutes=5)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}), cmp.erased(erased))
    res = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    assert (res["issued"], res["withdrawn"], res["redeemed"]) == (4, 1, 1)
    assert Decimal(res["redemption_rate"]) == Decimal("0.3333")
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/results.csv", headers=cmp.marketing())
    rows = {line.split(",")[0]: line.split(",") for line in r.text.strip().splitlines()}
    assert (rows["coupons_issued"][1], rows["coupons_withdrawn"][1], rows["coupons_redeemed"][1]) == ("4", "1", "1")
    assert rows["redemption_rate"][1] == "0.3333"


async def test_a_member_erased_after_the_campaign_stays_in_their_group_in_either_arm(cmp) -> None:
    """Erasure keeps the id and the sales' amounts and times, and the campaign keeps its record of
    who was reached and who held out: a member erased afterwards still counts in their group with
    what they spent, treated and held out alike (dropping them from one arm only would bias the
    uplift)."""
    audience = await seed(cmp, 20)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), coupon_template_id=await cmp.template(),
                          message={"template": "coupon_offer"}, control_share="0.5")
    await act(cmp, made["id"], "launch")
    control = sorted(m for m in audience if in_control(made["id"], m, Decimal("0.5")))
    treated = sorted(set(audience) - set(control))
    assert len(treated) >= 2 and len(control) >= 2
    cmp.clock.advance(minutes=1)
    await cmp.apply(sale(treated[0], [("grain", "100.00")], at=cmp.clock.now), sale(treated[1], [("grain", "40.00")], at=cmp.clock.now),
                    sale(control[0], [("grain", "60.00")], at=cmp.clock.now))
    before = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    cmp.clock.advance(minutes=1)
    await cmp.apply(cmp.erased(treated[0]), cmp.erased(control[0]))
    after = (await cmp.client.get(f"/v1/campaigns/{made['id']}/results", headers=cmp.marketing())).json()
    assert after["treatment"] == {"members": len(treated), "buyers": 2,
                                  "spend_per_member": str((Decimal("140.00") / len(treated)).quantize(Decimal("0.01"))),
                                  "visits_per_member": str((Decimal(2) / len(treated)).quantize(Decimal("0.01")))}
    assert after["control"] == {"members": len(control), "buyers": 1,
                                "spend_per_member": str((Decimal("60.00") / len(control)).quantize(Decimal("0.01"))),
                                "visits_per_member": str((Decimal(1) / len(control)).quantize(Decimal("0.01")))}
    assert (after["treatment"], after["control"], after["spend_uplift"]) == (before["treatment"], before["control"], before["spend_uplift"])
    # The treated member's unused coupon was withdrawn: out of the rate, the group unchanged.
    assert (after["issued"], after["withdrawn"]) == (len(treated), 1)


async def test_blank_names_are_refused_and_names_are_kept_without_their_surrounding_spaces(cmp) -> None:
    window = {"valid_from": T0.isoformat(), "valid_until": (T0 + timedelta(days=14)).isoformat()}
    template = {"kind": "threshold", "amount": "20", "threshold": "100", "validity": {"days": 30}}
    for path, body, field in [
        ("/v1/coupon-templates", {**template, "name": " "}, "name"),
        ("/v1/promotions", {"title": "   ", "sku": "6907992500133", "amount_off": "5.00", **window}, "title"),
        ("/v1/campaigns", {"name": "\u3000", "kind": "triggered", "trigger": "win_back", "message": TIP}, "name"),
        ("/v1/segments", {"name": "\t ", "rule": KEY_AT_RISK_IN_C1}, "name"),
    ]:
        r = await cmp.client.post(path, json=body, headers=keyed(cmp.marketing()))
        assert r.status_code == 422, (path, r.text)
        (error,) = r.json()["detail"]
        assert (error["loc"], error["msg"]) == (["body", field], "Value error, must not be blank"), (path, error)
    r = await cmp.client.post("/v1/coupon-templates", json={**template, "name": " 满100减20 "}, headers=keyed(cmp.marketing()))
    assert r.status_code == 201 and r.json()["name"] == r.json()["spec"]["name"] == "满100减20", r.text
    r = await cmp.client.post("/v1/promotions", json={"title": " 伊利纯牛奶 立减5元\n", "sku": "6907992500133",
                                                       "amount_off": "5.00", **window}, headers=keyed(cmp.marketing()))
    assert r.status_code == 201 and r.json()["spec"]["title"] == "伊利纯牛奶 立减5元", r.text


async def test_coupons_whose_fixed_dates_have_passed_are_given_by_nothing(cmp) -> None:
    members = await seed(cmp, 3)
    window = {"valid_from": (T0 - timedelta(days=60)).isoformat(), "valid_until": (T0 - timedelta(days=30)).isoformat()}
    r = await cmp.client.post("/v1/coupon-templates", json={"name": "旧券", "kind": "amount_off", "amount": "5.00",
                                                              "validity": window}, headers=keyed(cmp.marketing()))
    assert r.status_code == 422 and r.json()["detail"].startswith("validity.valid_until: "), r.text

    # A template valid when it was made, and over by the time coupons would be given from it.
    ends = T0 + timedelta(days=1)
    template_id = await cmp.template(validity={"valid_from": T0.isoformat(), "valid_until": ends.isoformat()})
    seg = await segment(cmp)
    made = await campaign(cmp, name="x", kind="one_off", segment_id=seg, coupon_template_id=template_id,
                          message={"template": "coupon_offer"}, control_share="0")
    cmp.clock.advance(days=2)
    for path, body, field in [
        (f"/v1/campaigns/{made['id']}/launch", None, "coupon_template_id"),
        ("/v1/campaigns", {"name": "y", "kind": "one_off", "segment_id": seg, "coupon_template_id": template_id,
                           "message": {"template": "coupon_offer"}}, "coupon_template_id"),
        (f"/v1/coupon-templates/{template_id}/issue", {"member_ids": members[:1]}, "template_id"),
    ]:
        r = await cmp.client.post(path, json=body, headers=keyed(cmp.marketing()))
        assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}: template {template_id} was valid until"), (path, r.text)
    r = await cmp.client.get(f"/v1/members/{members[0]}/coupons", headers=cmp.marketing())
    assert r.status_code == 200 and r.json() == []


async def test_a_campaign_naming_a_segment_or_template_that_is_not_there_is_422_naming_it(cmp) -> None:
    seg = await segment(cmp)
    for body, field in [({"segment_id": "nonesuch"}, "segment_id"),
                        ({"segment_id": seg, "coupon_template_id": "nonesuch"}, "coupon_template_id")]:
        r = await cmp.client.post("/v1/campaigns", json={"name": "x", "kind": "one_off", "message": TIP, **body},
                                  headers=keyed(cmp.marketing()))
        assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}: no "), r.text


async def test_an_archived_segment_takes_no_new_campaign_nor_a_launch(cmp) -> None:
    seg = await segment(cmp)
    drafted = await campaign(cmp, kind="one_off", segment_id=seg, message=TIP)
    assert (await cmp.client.delete(f"/v1/segments/{seg}", headers=cmp.marketing())).status_code == 200
    r = await cmp.client.post("/v1/campaigns", json={"name": "x", "kind": "one_off", "message": TIP, "segment_id": seg},
                              headers=keyed(cmp.marketing()))
    assert r.status_code == 409 and r.json()["detail"] == f"segment_id: segment {seg} is archived; create a new one", r.text
    # A draft made before the segment was archived is not launched with it either, and its preview
    # says so rather than promising a launch the launch refuses.
    preview = await cmp.client.get(f"/v1/campaigns/{drafted['id']}/preview", headers=cmp.marketing())
    assert preview.status_code == 409 and preview.json()["detail"] == f"segment_id: segment {seg} is archived; create a new one", preview.text
    launched = await cmp.client.post(f"/v1/campaigns/{drafted['id']}/launch", headers=cmp.marketing())
    assert launched.status_code == 409 and "archived" in launched.json()["detail"], launched.text
    assert (await cmp.client.get(f"/v1/campaigns/{drafted['id']}", headers=cmp.marketing())).json()["state"] == "draft"


UNBACKED = ("coupon_template_id: message template 'coupon_offer' tells each member a coupon is in their wallet, and the "
            "campaign gives none: choose the coupon's template, or another message")


async def test_a_coupon_offer_without_the_coupon_it_announces_is_refused_naming_the_coupon_template(cmp) -> None:
    """「您有一张满50减10优惠券已放入会员卡包」 with nothing put in the wallet: refused when the
    campaign is made, one-off or triggered, whatever offer it names."""
    await seed(cmp, 3)
    seg = await segment(cmp)
    offer = {"template": "coupon_offer", "params": {"offer": "满50减10"}}
    for body in [{"kind": "one_off", "segment_id": seg, "message": offer},
                 {"kind": "one_off", "segment_id": seg, "message": {"template": "coupon_offer"}},
                 {"kind": "triggered", "trigger": "birthday", "message": offer},
                 {"kind": "triggered", "trigger": "survey_invitation", "message": offer, "control_share": "0"}]:
        r = await cmp.client.post("/v1/campaigns", json={"name": "满50减10", **body}, headers=keyed(cmp.marketing()))
        assert r.status_code == 422, (body, r.text)
        assert [(e["loc"], e["msg"]) for e in r.json()["detail"]] == [(["body"], f"Value error, {UNBACKED}")], r.text
    assert (await cmp.client.get("/v1/campaigns", headers=cmp.marketing())).json() == []
    # With the coupon it announces it is made, the campaign's own offer wording kept.
    coupon = await cmp.template()
    made = await campaign(cmp, name="满50减10", kind="one_off", segment_id=seg, coupon_template_id=coupon, message=offer)
    assert (made["coupon_template_id"], made["message"]) == (coupon, offer)


async def test_a_draft_announcing_a_coupon_it_does_not_give_is_not_launched(cmp) -> None:
    """A draft saved before the rule (its coupon left out) is refused at launch, and its preview says
    so rather than showing an audience the launch refuses: nobody is texted a coupon they lack."""
    await seed(cmp, 3)
    seg = await segment(cmp)
    drafted = await campaign(cmp, kind="one_off", segment_id=seg, coupon_template_id=await cmp.template(),
                             message={"template": "coupon_offer", "params": {"offer": "满50减10"}}, control_share="0")
    async with cmp.app.state.sessions() as s:
        row = await s.get(CampaignRow, drafted["id"])
        row.coupon_template_id = None
        s.add(row)
        await s.commit()
    preview = await cmp.client.get(f"/v1/campaigns/{drafted['id']}/preview", headers=cmp.marketing())
    assert preview.status_code == 422 and preview.json()["detail"] == UNBACKED, preview.text
    launched = await cmp.client.post(f"/v1/campaigns/{drafted['id']}/launch", headers=cmp.marketing())
    assert launched.status_code == 422 and launched.json()["detail"] == UNBACKED, launched.text
    assert (await cmp.client.get(f"/v1/campaigns/{drafted['id']}", headers=cmp.marketing())).json()["state"] == "draft"
    assert await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED) == []

