"""Campaigns through the app, on SQLite and PostgreSQL: a one-off campaign freezes its audience and
holds out its control group at launch, a till redeems its coupon, and the results compare the two
groups; budgets refuse a launch; triggers reach a member once per occasion; the access policy."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

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

pytestmark = pytest.mark.integration

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
    r = await cmp.client.post("/v1/campaigns", json={"name": "Win them back", **body}, headers=cmp.marketing())
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
                          message={"template": "winback_coupon", "params": {"store": "城东大卖场"}},
                          control_share="0.25")
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
    assert all(m["requires_consent"] == "marketing_sms" and m["params"] == {"store": "城东大卖场"} and m["coupon_id"]
               for m in messages)
    (event,) = await cmp.outbox(CAMPAIGN_LAUNCHED)
    assert (event["treatment"], event["control"]) == (len(treated), len(control))
    await act(cmp, made["id"], "launch", 409)  # launched once
    assert len(await cmp.outbox(COUPON_ISSUED)) == len(treated)
    assert await cmp.wallet(sorted(control)[0]) == []

    # One treated member redeems the coupon at a till; every treated member spends more than control.
    buyer = sorted(treated)[0]
    code = await cmp.code_of(buyer)
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
    rows = [line.split(",") for line in csv.text.strip().splitlines()]
    assert rows[0][:3] == ["measure", "treatment", "control"]
    assert ["coupons_redeemed", "1"] == rows[-3][:2] or any(r[:2] == ["coupons_redeemed", "1"] for r in rows)
    assert any(r[0] == "spend_per_member" and r[1] == "150.00" for r in rows)

    ended = await act(cmp, made["id"], "end")
    assert ended["state"] == "ended" and ended["ended_at"]
    assert len(await cmp.outbox(CAMPAIGN_ENDED)) == 1
    await act(cmp, made["id"], "resume", 409)


async def test_results_count_what_was_paid_and_kept_after_discounts_and_returns(cmp) -> None:
    await seed(cmp, 2)
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), message={"template": "hello"},
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
    made = await campaign(cmp, kind="one_off", segment_id=await segment(cmp), message={"template": "hello"},
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


async def test_complaint_compensation_issues_the_coupon_of_that_value_once_per_complaint(cmp) -> None:
    await cmp.apply(registered("m-1"), cmp.registered("m-1"))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="赔付券 20元")
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=twenty,
                          control_share="0", marketing=False, message={"template": "complaint_coupon"})
    await act(cmp, made["id"], "launch")
    await cmp.apply(resolved("cp-1", "m-1", "20"))
    await cmp.apply(resolved("cp-1", "m-1", "20"))  # published again with another event id: same occasion
    assert len(await cmp.wallet("m-1")) == 1
    await cmp.apply(resolved("cp-2", "m-1", "20"))  # a second complaint: a second coupon
    await cmp.apply(resolved("cp-3", "m-1", "15"))  # no campaign gives 15 yuan: not rounded to 20
    await cmp.apply(resolved("cp-4", "m-1", None))
    assert len(await cmp.wallet("m-1")) == 2
    messages = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert [m["occasion"] for m in messages] == ["complaint:cp-1", "complaint:cp-2"]
    assert all(m["requires_consent"] is None for m in messages)  # a service message, not marketing
    body = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert (body["treatment_size"], body["control_size"]) == (2, 0)


async def test_a_triggered_campaign_counts_each_occasion_once_in_its_group(cmp) -> None:
    members = [f"m-{i}" for i in range(12)]
    await cmp.apply(*(registered(m) for m in members))
    twenty = await cmp.template(kind="amount_off", amount="20", threshold=None, validity={"days": 30}, name="赔付券 20元")
    made = await campaign(cmp, kind="triggered", trigger="complaint_compensation", coupon_template_id=twenty,
                          control_share="0.5", marketing=False)
    await act(cmp, made["id"], "launch")
    for _ in range(2):  # every resolution published twice, with different event ids
        await cmp.apply(*(resolved(f"cp-{m}", m, "20") for m in members))
    held = {m for m in members if in_control(made["id"], m, Decimal("0.5"))}
    body = (await cmp.client.get(f"/v1/campaigns/{made['id']}", headers=cmp.marketing())).json()
    assert (body["treatment_size"], body["control_size"]) == (len(members) - len(held), len(held))
    assert len(await cmp.outbox(COUPON_ISSUED)) == len(members) - len(held)


async def test_win_back_reaches_a_member_when_churn_risk_rises_not_while_it_stays(cmp) -> None:
    await cmp.apply(registered("m-1"), attributes("m-1", churn_risk="low"), consent("m-1", "marketing_sms", True))
    made = await campaign(cmp, kind="triggered", trigger="win_back", message={"template": "we_miss_you"}, control_share="0")
    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/preview", headers=cmp.marketing())
    assert r.status_code == 409 and "triggered" in r.json()["detail"]
    await act(cmp, made["id"], "launch")
    await cmp.apply(attributes("m-1", churn_risk="high", as_of=T0 + timedelta(days=7)))
    await cmp.apply(attributes("m-1", churn_risk="lost", as_of=T0 + timedelta(days=14)))  # still at risk: no rise
    await cmp.apply(attributes("m-1", churn_risk="high", as_of=T0 + timedelta(days=3)))  # older reading: ignored
    (message,) = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert message["occasion"] == f"churn:{(T0 + timedelta(days=7)).date().isoformat()}"


def expiring(member_id: str) -> Envelope:
    data = c.PointsExpiringV1(member_id=member_id, points=300, expires_on=date(2026, 12, 31), balance=500)
    return new_event(POINTS_EXPIRING, data, source="crm/points", subject=member_id, event_id=str(uuid.uuid4()))


async def test_an_occasion_announced_again_counts_neither_group_twice(cmp) -> None:
    candidates = [f"m-{i:02d}" for i in range(20)]
    await cmp.apply(*(e for m in candidates for e in (registered(m), consent(m, "marketing_sms", True))))
    made = await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "use_your_points"},
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
    await seed(cmp, 3)
    rule = {"field": "community", "op": "in", "value": ["C1"]}
    seg = await segment(cmp, rule)
    marketing = await campaign(cmp, kind="one_off", segment_id=seg, message={"template": "offer"}, control_share="0")
    service = await campaign(cmp, kind="one_off", segment_id=seg, message={"template": "store_closing"}, control_share="0",
                             marketing=False)
    assert (await act(cmp, marketing["id"], "launch"))["treatment_size"] == 4  # m-quiet gave no consent
    assert (await act(cmp, service["id"], "launch"))["treatment_size"] == 5


async def test_a_personalised_one_off_campaign_leaves_out_who_opted_out_and_a_store_wide_one_does_not(cmp) -> None:
    audience = await seed(cmp, 4)
    opted_out, came_back = audience[0], audience[1]
    await cmp.apply(personalisation(opted_out, False), personalisation(came_back, False),
                    personalisation(came_back, True, at=T0 + timedelta(hours=1)))
    seg = await segment(cmp, {"field": "community", "op": "in", "value": ["C1"]})
    # Personalised by default: built from a segment of behaviour.
    chosen = await campaign(cmp, kind="one_off", segment_id=seg, message={"template": "offer"}, control_share="0")
    store_wide = await campaign(cmp, kind="one_off", segment_id=seg, message={"template": "store_offer"},
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
    personal = await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "use_your_points"},
                              control_share="0")
    plain = await campaign(cmp, kind="triggered", trigger="points_expiring", message={"template": "points_reminder"},
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


async def test_campaign_bodies_are_checked_and_only_marketing_runs_campaigns(cmp) -> None:
    bad = [
        ({"kind": "one_off", "message": {"template": "x"}}, "segment_id"),
        ({"kind": "triggered", "message": {"template": "x"}}, "trigger"),
        ({"kind": "triggered", "trigger": "win_back"}, "coupon_template_id"),
        ({"kind": "triggered", "trigger": "win_back", "message": {"template": "x"}, "control_share": "0.9"}, "control_share"),
    ]
    for body, field in bad:
        r = await cmp.client.post("/v1/campaigns", json={"name": "x", **body}, headers=cmp.marketing())
        assert r.status_code == 422 and field in r.text, (body, r.text)
    r = await cmp.client.post("/v1/campaigns", json={"name": "x", "kind": "one_off", "segment_id": "nope",
                                                      "message": {"template": "x"}}, headers=cmp.marketing())
    assert r.status_code == 404
    for role in (Role.SERVICE_DESK, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER):
        headers = cmp.env.auth(role, store_id="S001")
        assert (await cmp.client.get("/v1/campaigns", headers=headers)).status_code == 403
        r = await cmp.client.post("/v1/campaigns", json={"name": "x", "kind": "triggered", "trigger": "win_back",
                                                          "message": {"template": "x"}}, headers=headers)
        assert r.status_code == 403
