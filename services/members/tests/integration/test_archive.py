"""The customer archive (客户档案): profile, spend, tier, manager, evaluations, complaints, contacts."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.adapters.tables.analytics import MemberComplaintRow
from members.adapters.tables.staff import StaffRow, TrackingRecordRow
from shared.auth import Role
from tests.support.factories import line
from tests.support.members import deliver_refund, deliver_sale, desk, register

pytestmark = pytest.mark.integration

RICE = line(sku="rice", name="大米", qty="2", unit_price="50.00")  # 100.00
OIL = line(sku="oil", name="花生油", qty="1", unit_price="80.00")   # 80.00
T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


async def archive(members, headers, member_id: str, **params):
    return await members.get(f"/v1/members/{member_id}/archive", params=params, headers=headers)


async def managed_member(members, env, manager_id: str = "am-7") -> dict:
    """A member whose account manager is on the staff directory, with two tracking contacts and a complaint."""
    m = await register(members, env, consents={"sms": True})
    async with members.app.state.sessions() as s, s.begin():
        row = (await s.exec(select(MemberRow).where(MemberRow.id == m["id"]))).one()
        row.manager_id, row.tier, row.tier_since = manager_id, "vip", T0
        s.add(row)
        s.add(StaffRow(id=manager_id, name="陈经理", work_phone="0571-88880000", store_id="S001",
                       role="account_manager", created_at=T0, updated_at=T0))
        for day, rating, notes in ((date(2026, 11, 20), 3, "询问促销"), (date(2026, 11, 22), 5, "满意")):
            s.add(TrackingRecordRow(tracked_on=day, manager_id=manager_id, store_id="S001", member_id=m["id"],
                                    contact="本人", method="phone", rating=rating, notes=notes, recorded_at=T0))
        s.add(MemberComplaintRow(complaint_id="C-9", member_id=m["id"], store_id="S001", category="service",
                                 severity="low", channel="phone", filed_at=T0))
    return m


async def test_the_archive_brings_profile_spend_tier_manager_contacts_complaints_and_purchases(members, env) -> None:
    m = await managed_member(members, env)
    first = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL], occurred_at=T0)
    second = await deliver_sale(members, card_no=m["card_no"], lines=[RICE], occurred_at=datetime(2026, 11, 21, tzinfo=UTC))
    await deliver_refund(members, txn=first, lines=[OIL])

    r = await archive(members, desk(env), m["id"])
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["profile"]["phone"] == m["phone"] and a["profile"]["consents"]["marketing_sms"]["granted"] is True
    assert a["community_name"] == "阳光花园" and a["tier"] == "vip"
    assert a["manager"] == {"id": "am-7", "name": "陈经理", "work_phone": "0571-88880000", "store_id": "S001", "active": True}
    spend = a["spend"]
    assert Decimal(spend["lifetime_spend"]) == Decimal("200.00") and spend["purchase_count"] == 2
    assert Decimal(spend["average_purchase"]) == Decimal("100.00") and Decimal(spend["returned_total"]) == Decimal("80.00")
    assert [p["pos_txn_id"] for p in a["recent_purchases"]] == [second, first]
    assert [ln["name"] for ln in a["recent_purchases"][1]["lines"]] == ["大米", "花生油"]
    assert [(t["tracked_on"], t["rating"]) for t in a["tracking_contacts"]] == [("2026-11-22", 5), ("2026-11-20", 3)]
    assert a["evaluation"] == {"contacts": 2, "average_rating": "4.00", "last_tracked_on": "2026-11-22"}
    assert a["complaints"]["filed"] == 1 and a["complaints"]["open"] == 1 and a["complaints"]["by_category"] == {"service": 1}
    assert a["value"] is None  # the value analytics job has not run


async def test_a_new_customer_has_an_archive_with_empty_sections(members, env) -> None:
    m = await register(members, env)
    a = (await archive(members, desk(env), m["id"], purchases=5)).json()
    assert a["manager"] is None and a["tracking_contacts"] == [] and a["recent_purchases"] == []
    assert a["evaluation"] == {"contacts": 0, "average_rating": None, "last_tracked_on": None}
    assert a["spend"]["average_purchase"] is None and Decimal(a["spend"]["returned_total"]) == Decimal("0.00")
    assert a["complaints"]["filed"] == 0


async def test_opening_an_archive_is_logged(members, env) -> None:
    m = await register(members, env)
    await archive(members, desk(env), m["id"])
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"]}, headers=env.auth(Role.ADMIN))).json()
    assert log["items"][0]["purpose"] == "members.archive" and log["items"][0]["fields"] == ["phone", "address"]


async def test_an_account_manager_opens_only_their_own_customers_archives(members, env) -> None:
    mine = await managed_member(members, env, manager_id="am-8")
    other = await register(members, env)
    manager = {"Authorization": f"Bearer {env.issuer.mint('am-8', Role.ACCOUNT_MANAGER)}"}
    assert (await archive(members, manager, mine["id"])).status_code == 200
    assert (await archive(members, manager, other["id"])).status_code == 403


async def test_marketing_and_members_do_not_open_archives(members, env) -> None:
    m = await register(members, env)
    assert (await archive(members, env.auth(Role.MARKETING), m["id"])).status_code == 403
    assert (await archive(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"])).status_code == 403
    assert (await archive(members, desk(env), "no-such-member")).status_code == 404
    assert (await archive(members, desk(env), m["id"], purchases=500)).status_code == 422


async def test_an_erased_customers_archive_shows_them_as_erased_with_totals_and_no_personal_data(members, env) -> None:
    m = await managed_member(members, env, manager_id="am-9")
    await deliver_sale(members, card_no=m["card_no"], lines=[RICE])
    assert (await members.post(f"/v1/members/{m['id']}/erasure", headers=env.auth(Role.ADMIN))).status_code == 200
    a = (await archive(members, desk(env), m["id"])).json()
    assert a["profile"]["erased"] and a["profile"]["name"] == "已注销用户" and a["profile"]["phone"] is None
    assert Decimal(a["spend"]["lifetime_spend"]) == Decimal("100.00")
    assert {(t["contact"], t["notes"]) for t in a["tracking_contacts"]} == {("", "")}
