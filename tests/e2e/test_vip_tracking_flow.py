"""From POS sales to a VIP with an account manager, a tracking record and the information base,
all through the gateway's one address, over the real broker."""

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from shared.auth import Role
from shared.outbox import OutboxRecord
from tests.support.factories import keyed, member_body, refund_body, sale_body, spend_line
from tests.support.platform import Platform, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

MANAGER = "am-li"


def _as(p: Platform, role: Role, subject: str, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {p.env.issuer.mint(subject, role, **claims)}"}


async def _welcome_sms_requests(p: Platform, member_id: str) -> list[dict]:
    async with p.apps["members"].state.sessions() as s:
        rows = (await s.exec(select(OutboxRecord).where(
            OutboxRecord.event_type == "crm.members.notification_requested.v1"))).all()
    return [json.loads(r.envelope)["data"] for r in rows if json.loads(r.envelope)["data"]["member_id"] == member_id]


async def test_pos_sales_make_a_vip_whose_manager_is_told_tracks_and_reports(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        gw = p.gateway
        admin = p.env.auth(Role.ADMIN)
        assert (await gw.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        r = await gw.post("/api/members/v1/staff", json={"id": MANAGER, "name": "李经理", "work_phone": "0571-88881234",
                                                          "store_id": "S001", "role": "account_manager"}, headers=admin)
        assert r.status_code == 201, r.text
        desk = p.env.auth(Role.SERVICE_DESK, store_id="S001")
        r = await gw.post("/api/v1/members", json=member_body(name="赵敏", community="阳光花园小区"), headers=desk)
        assert r.status_code == 201, r.text
        member = r.json()
        r = await gw.put(f"/api/members/v1/staff/{MANAGER}/communities/{member['community_id']}", headers=admin)
        assert r.status_code == 200, r.text

        pos = p.env.auth(Role.POS, store_id="S001")
        sales = [sale_body(member={"card_no": member["card_no"]}, lines=[spend_line(amount)]) for amount in ("3000.00", "2200.00")]
        for sale in sales:
            assert (await gw.post("/pos/v1/purchases", json=sale, headers=pos)).status_code == 202

        async def promoted() -> dict | None:
            profile = (await gw.get(f"/api/v1/members/{member['id']}", headers=admin)).json()
            return profile if profile["tier"] == "vip" and profile["manager_id"] == MANAGER else None

        profile = await eventually(promoted, timeout=60, what="VIP with the community's account manager")
        assert Decimal(profile["lifetime_spend"]) == Decimal("5200.00")
        [sms] = await _welcome_sms_requests(p, member["id"])
        # The manager by id: no names or phones on the bus, the manager's no more than the customer's.
        assert sms["template"] == "vip_welcome" and sms["params"] == {"manager_id": MANAGER, "store_id": "S001"}
        for personal in ("赵敏", member["phone"], "李经理", "0571-88881234"):
            assert personal not in json.dumps(sms, ensure_ascii=False)

        manager = _as(p, Role.ACCOUNT_MANAGER, MANAGER, store_id="S001")
        queue = (await gw.get("/api/members/v1/tracking/queue", headers=manager)).json()
        assert [item["member_id"] for item in queue["items"]] == [member["id"]]
        today = date.today().isoformat()
        r = await gw.post("/api/members/v1/tracking/records", headers=keyed(manager), json={
            "tracked_on": today, "member_id": member["id"], "contact": "本人", "method": "phone", "rating": 5,
            "notes": "感谢惠顾，介绍了上门回收余料服务"})
        assert r.status_code == 201, r.text

        store_manager = _as(p, Role.STORE_MANAGER, "sm-S001", store_id="S001")
        report = await gw.get("/api/members/v1/tracking/reports/daily",
                              params={"date": today, "format": "csv"}, headers=store_manager)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
        assert "attachment" in report.headers["content-disposition"]
        [header, row] = report.text.lstrip("\ufeff").strip().splitlines()
        assert header.startswith("日期 Date,客户经理 Account manager,客户 Customer")
        assert row.startswith(f"{today},李经理,赵敏,{member['card_no']},阳光花园小区,本人,")

        # A return lowers spend in the information base at once, but the tier stays until the review.
        r = await gw.post("/pos/v1/refunds", json=refund_body(sales[1]), headers=pos)
        assert r.status_code == 202, r.text

        async def community_spend() -> Decimal | None:
            page = (await gw.get("/api/members/v1/infobase/communities", headers=store_manager)).json()
            [row] = [c for c in page["items"] if c["community_id"] == member["community_id"]]
            return row["spend"] if Decimal(row["spend"]) == Decimal("3000.00") else None

        await eventually(community_spend, timeout=60, what="the return reaches the information base")
        profile = (await gw.get(f"/api/v1/members/{member['id']}", headers=admin)).json()
        assert profile["tier"] == "vip" and Decimal(profile["lifetime_spend"]) == Decimal("3000.00")
