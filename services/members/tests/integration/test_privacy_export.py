"""A member's data export: everything members holds about them, for them or an admin, logged."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from members.adapters.tables.analytics import MemberComplaintRow, MemberValueRow
from members.adapters.tables.staff import TrackingRecordRow
from shared.auth import Role
from tests.support.factories import line
from tests.support.members import deliver_refund, deliver_sale, desk, register

pytestmark = pytest.mark.integration

RICE = line(sku="rice", name="大米", qty="2", unit_price="50.00")
OIL = line(sku="oil", name="花生油", qty="1", unit_price="80.00")


async def export(members, headers, member_id: str):
    return await members.get(f"/v1/members/{member_id}/export", headers=headers)


async def test_a_member_exports_profile_consents_purchases_returns_and_who_read_their_data(members, env) -> None:
    m = await register(members, env, phone="13911110000", email="me@example.com", consents={"sms": True})
    me = env.auth(Role.MEMBER, member_id=m["id"])
    await members.put(f"/v1/members/{m['id']}/consents/marketing_sms", json={"granted": False}, headers=me)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL])
    refund = await deliver_refund(members, txn=txn, lines=[OIL])
    await members.get(f"/v1/members/{m['id']}", headers=desk(env))

    r = await export(members, me, m["id"])
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == f'attachment; filename="member-{m["id"]}.json"'
    data = r.json()
    assert data["profile"]["phone"] == "13911110000" and data["profile"]["email"] == "me@example.com"
    assert [(c["purpose"], c["granted"], c["channel"]) for c in data["consents"]] == [
        ("marketing_sms", True, "service_desk"), ("marketing_sms", False, "app")]
    [purchase] = data["purchases"]
    assert purchase["pos_txn_id"] == txn and [ln["name"] for ln in purchase["lines"]] == ["大米", "花生油"]
    [ret] = data["returns"]
    assert ret["refund_id"] == refund and Decimal(ret["amount"]) == Decimal("80.00") and ret["lines"][0]["sku"] == "oil"
    assert [(a["actor"], a["purpose"]) for a in data["access_log"]] == [
        ("test-service_desk", "members.register"), ("test-service_desk", "members.read")]


async def test_the_export_includes_tracking_contacts_and_complaints(members, env) -> None:
    m = await register(members, env)
    async with members.app.state.sessions() as s, s.begin():
        s.add(TrackingRecordRow(
            tracked_on=date(2026, 11, 20), manager_id="am-1", store_id="S001", member_id=m["id"], contact="本人",
            method="phone", rating=5, notes="满意", recorded_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        ))
        s.add(MemberComplaintRow(
            complaint_id="C-1", member_id=m["id"], store_id="S001", category="product_quality", severity="high",
            channel="service_desk", filed_at=datetime(2026, 11, 21, 9, tzinfo=UTC),
        ))
    data = (await export(members, env.auth(Role.ADMIN), m["id"])).json()
    [contact] = data["tracking_contacts"]
    assert (contact["manager_id"], contact["rating"], contact["notes"]) == ("am-1", 5, "满意")
    [complaint] = data["complaints"]
    assert complaint["complaint_id"] == "C-1" and complaint["resolved_at"] is None


async def test_the_export_says_how_value_analytics_rates_the_member(members, env) -> None:
    m = await register(members, env)
    assert (await export(members, env.auth(Role.ADMIN), m["id"])).json()["value"] is None  # no run yet
    async with members.app.state.sessions() as s, s.begin():
        s.add(MemberValueRow(
            member_id=m["id"], as_of=datetime(2026, 11, 30, 16, tzinfo=UTC), window_days=365, recency=2, frequency=4, monetary=5,
            value_class="key", rhythm_churn_risk="medium", churn_risk="high", window_spend=Decimal("5200.00"),
            window_purchase_days=14, days_since_last_purchase=40, typical_interval_days=12.5, rhythm_source="own",
        ))
    value = (await export(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"])).json()["value"]
    assert (value["value_class"], value["churn_risk"], value["rhythm_churn_risk"]) == ("key", "high", "medium")
    assert (value["recency"], value["frequency"], value["monetary"], value["window_spend"]) == (2, 4, 5, "5200.00")


async def test_an_export_is_itself_logged(members, env) -> None:
    m = await register(members, env)
    await export(members, env.auth(Role.ADMIN), m["id"])
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"]}, headers=env.auth(Role.ADMIN))).json()
    assert (log["items"][0]["actor"], log["items"][0]["purpose"]) == ("test-admin", "members.export")


async def test_only_the_member_themself_or_an_admin_may_export(members, env) -> None:
    m = await register(members, env)
    other = await register(members, env)
    for headers in (desk(env), env.auth(Role.STORE_MANAGER, store_id="S001"), env.auth(Role.MARKETING),
                    env.auth(Role.MEMBER, member_id=other["id"])):
        assert (await export(members, headers, m["id"])).status_code == 403
    assert (await export(members, env.auth(Role.ADMIN), "no-such-member")).status_code == 404


async def test_a_customer_of_many_purchases_exports_each_with_its_own_lines_in_till_order(members, env, monkeypatch) -> None:
    # More purchases than one query of their lines takes (a few here, 5,000 in service): matched
    # every purchase against every line, 20,000 of them held the service's CPU for minutes and it
    # answered nothing else meanwhile.
    from members.adapters.tables import PurchaseLineRow, PurchaseRow

    monkeypatch.setattr("members.service_layer.export.LINES_PER_QUERY", 40)
    m = await register(members, env)
    count = 2 * 40 + 7
    at = datetime(2025, 1, 1, tzinfo=UTC)
    async with members.app.state.sessions() as s, s.begin():
        rows = [PurchaseRow(sale_event_id=f"e-{i}", store_id="S001", pos_txn_id=f"T-{i}", member_id=m["id"], occurred_at=at,
                            total=Decimal("3.00"), received_at=at) for i in range(count)]
        s.add_all(rows)
        await s.flush()
        # Written last line first: the export puts them in till order.
        s.add_all([PurchaseLineRow(purchase_id=p.id, line_no=n, sku=f"{p.pos_txn_id}/{n}", qty=Decimal(1), unit_price=Decimal(n),
                                   amount=Decimal(n)) for p in rows for n in (2, 1)])
    r = await export(members, env.auth(Role.ADMIN), m["id"])
    assert r.status_code == 200, r.text
    purchases = r.json()["purchases"]
    assert len(purchases) == count
    assert all([ln["sku"] for ln in p["lines"]] == [f"{p['pos_txn_id']}/1", f"{p['pos_txn_id']}/2"] for p in purchases)
