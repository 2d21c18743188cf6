"""The member app end to end, as a new customer of the demo would use it, all through `/app/v1`:
sign in with the code of the SMS in campaigns' local outbox, see the card and points, the coupons
and the e-receipt of a purchase, reserve a gift with an Idempotency-Key (a retry changes nothing)
and file a complaint; another member's token never sees any of it."""

from datetime import UTC, datetime

import pytest

from shared.auth import Role
from tests.e2e.test_member_sign_in_flow import sign_in
from tests.support.campaigns import template_body
from tests.support.factories import keyed, line, member_body, sale_body
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def test_a_customer_uses_the_app_for_card_coupons_a_gift_and_a_complaint(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        assert p.campaigns is not None
        admin, desk = env.auth(Role.ADMIN), env.auth(Role.SERVICE_DESK, store_id="S001")
        assert (await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        customers = []
        for _ in range(2):
            r = await p.gateway.post("/api/v1/members", json=member_body(), headers=desk)
            assert r.status_code == 201, r.text
            customers.append(r.json())
        me, other = customers

        # A purchase at the till earns the points the gift costs; the store stocks the gift.
        sale = sale_body(member={"card_no": me["card_no"]}, lines=[line(qty="1", unit_price="12000.00")],
                         occurred_at=datetime.now(UTC).isoformat())
        assert (await p.gateway.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id="S001"))).status_code == 202
        stock = await p.gateway.put("/api/points/v1/gifts/cushion/stock/S001", json={"quantity": 1},
                                    headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
        assert stock.status_code == 200, stock.text

        mine = {"Authorization": f"Bearer {(await sign_in(p, me['phone']))['access_token']}"}
        theirs = {"Authorization": f"Bearer {(await sign_in(p, other['phone']))['access_token']}"}

        async def card_with_points() -> dict | None:
            r = await p.gateway.get("/app/v1/card", headers=mine)
            return r.json() if r.status_code == 200 and r.json()["points"]["balance"] == 12_000 else None

        card = await eventually(card_with_points, timeout=60, what="the purchase's points on the app's card")
        assert card["card_no"] == me["card_no"] == card["barcode"]["payload"]
        assert card["points"]["next_expiry"]["points"] == 12_000
        ledger = (await p.gateway.get("/app/v1/points/ledger", headers=mine)).json()
        assert [e["points"] for e in ledger["items"]] == [12_000] and ledger["next_cursor"] is None
        receipts = (await p.gateway.get("/app/v1/purchases", headers=mine)).json()
        [receipt] = receipts["items"]
        assert (receipt["store_name"], receipt["paid"], receipt["pos_txn_id"]) == ("城东大卖场", "12000.00", sale["pos_txn_id"])

        # A coupon issued by marketing shows in the app's wallet.
        marketing = env.auth(Role.MARKETING)
        r = await p.campaigns.post("/v1/coupon-templates", json=template_body(), headers=keyed(marketing))
        assert r.status_code == 201, r.text
        template_id = r.json()["id"]

        async def issued() -> bool:
            r = await p.campaigns.post(f"/v1/coupon-templates/{template_id}/issue", json={"member_ids": [me["id"]]},
                                       headers=marketing)
            return r.status_code == 200 and r.json().get("issued", 0) >= 1

        await eventually(issued, timeout=60, what="campaigns knows the member and issues the coupon")
        coupons = (await p.gateway.get("/app/v1/coupons", headers=mine)).json()
        assert len(coupons["items"]) == 1

        # The catalogue at my prices with my home store's stock; reserving twice with one key is one gift.
        gifts = (await p.gateway.get("/app/v1/gifts", headers=mine)).json()
        cushion = next(g for g in gifts["gifts"] if g["gift_id"] == "cushion")
        assert (cushion["points"], cushion["stock_at_home_store"], gifts["home_store_id"]) == (10_000, 1, "S001")
        reserving = {**mine, "Idempotency-Key": f"app-{me['id']}-cushion"}
        first = await p.gateway.post("/app/v1/gifts/reservations", json={"gift_id": "cushion"}, headers=reserving)
        retry = await p.gateway.post("/app/v1/gifts/reservations", json={"gift_id": "cushion"}, headers=reserving)
        assert (first.status_code, retry.status_code) == (201, 200), first.text
        assert retry.json()["redemption_id"] == first.json()["redemption_id"]
        assert (first.json()["status"], first.json()["store_id"]) == ("reserved", "S001")
        again = await p.gateway.post("/app/v1/gifts/reservations", json={"gift_id": "cushion"},
                                     headers={**mine, "Idempotency-Key": "another-attempt", "Accept-Language": "en"})
        assert again.status_code == 409 and again.json()["message"] == again.json()["message_en"]
        reservations = (await p.gateway.get("/app/v1/gifts/reservations", headers=mine)).json()
        assert [r["redemption_id"] for r in reservations["items"]] == [first.json()["redemption_id"]]
        assert (await p.gateway.get("/app/v1/card", headers=mine)).json()["points"]["balance"] == 2_000

        # A complaint about a store the chain does not have would sit in a queue nobody works.
        nowhere = await p.gateway.post("/app/v1/complaints", headers=keyed(mine), json={
            "category": "product_quality", "severity": "medium", "store_id": "S999", "description": "买的牛奶过期了"})
        assert nowhere.status_code == 422 and nowhere.json()["detail"][0]["loc"] == ["body", "store_id"], nowhere.text
        # A complaint may name the sale it is about, one of mine only: staff would see its receipt.
        about_mine = {"category": "product_quality", "severity": "medium", "store_id": "S001", "description": "买的牛奶过期了",
                      "sale": {"pos_txn_id": sale["pos_txn_id"]}}
        not_theirs = await p.gateway.post("/app/v1/complaints", headers=keyed(theirs), json=about_mine)
        assert not_theirs.status_code == 422 and not_theirs.json()["detail"][0]["loc"] == ["body", "sale", "pos_txn_id"], not_theirs.text
        # A complaint filed in the app is mine, from the app, and I can follow it.
        filed = await p.gateway.post("/app/v1/complaints", headers=keyed(mine), json=about_mine)
        assert filed.status_code == 201, filed.text
        complaint = filed.json()
        listed = (await p.gateway.get("/app/v1/complaints", headers=mine)).json()
        assert [c["id"] for c in listed["items"]] == [complaint["id"]]
        assert (await p.gateway.get(f"/app/v1/complaints/{complaint['id']}", headers=mine)).status_code == 200
        # Only a complaint put right (as the store thinks) can be reopened; then it is mine to reopen.
        early = await p.gateway.post(f"/app/v1/complaints/{complaint['id']}/reopen", headers=mine, json={"reason": "还没处理"})
        assert early.status_code == 409 and early.json()["message_zh"], early.text
        for action, body in (("acknowledge", None), ("resolve", {"note": "已退款并致歉"})):
            done = await p.gateway.post(f"/api/feedback/v1/complaints/{complaint['id']}/{action}", headers=desk, json=body)
            assert done.status_code == 200, done.text
        reopened = await p.gateway.post(f"/app/v1/complaints/{complaint['id']}/reopen", headers=mine,
                                        json={"reason": "退款还没到账"})
        assert reopened.status_code == 200, reopened.text
        assert reopened.json()["status"] == "in_progress"
        not_mine = await p.gateway.post(f"/app/v1/complaints/{complaint['id']}/reopen", headers=theirs, json={"reason": "x"})
        assert not_mine.status_code in (403, 404), not_mine.text

        # The other member's app shows their own (empty) lists and cannot reach mine by id either.
        assert (await p.gateway.get("/app/v1/gifts/reservations", headers=theirs)).json()["items"] == []
        assert (await p.gateway.get("/app/v1/complaints", headers=theirs)).json()["items"] == []
        assert (await p.gateway.get("/app/v1/coupons", headers=theirs)).json()["items"] == []
        assert (await p.gateway.get("/app/v1/purchases", headers=theirs)).json()["items"] == []
        assert (await p.gateway.get("/app/v1/me", headers=theirs)).json()["id"] == other["id"]
        foreign = await p.gateway.get(f"/app/v1/complaints/{complaint['id']}", headers=theirs)
        assert foreign.status_code in (403, 404) and foreign.json()["message_zh"]
        cancel = await p.gateway.post(f"/app/v1/gifts/reservations/{first.json()['redemption_id']}/cancel", headers=theirs)
        assert cancel.status_code == 404

        # My export holds what points and campaigns keep about me beside members' own records.
        export = await p.gateway.post("/app/v1/me/export", headers=mine)
        assert export.status_code == 200, export.text
        data = export.json()
        assert data["profile"]["id"] == me["id"] and [x["pos_txn_id"] for x in data["purchases"]] == [sale["pos_txn_id"]]
        assert data["points"]["balance"] == 2_000
        assert sorted(e["points"] for e in data["points"]["ledger"]) == [-10_000, 12_000]
        assert [r["redemption_id"] for r in data["points"]["reservations"]] == [first.json()["redemption_id"]]
        assert [c["code"] for c in data["coupons"]] == [c["code"] for c in coupons["items"]]
        # Every message to me, on every channel (the inbox is among them), with its status.
        inbox = (await p.gateway.get("/app/v1/messages", headers=mine)).json()
        assert {m["id"] for m in inbox["items"]} <= {m["id"] for m in data["messages"]}
        # What feedback keeps: my complaint in full, with the reason I gave to reopen it.
        [kept] = data["feedback"]["complaints"]
        assert (kept["id"], kept["description"], kept["resolution_note"]) == (complaint["id"], "买的牛奶过期了", "已退款并致歉")
        assert [h["detail"] for h in kept["history"] if h["action"] == "reopen"] == ["退款还没到账"]
        assert "offers" in data and isinstance(data["entitlements"], list)
        # and the other member's, only theirs.
        their_export = (await p.gateway.post("/app/v1/me/export", headers=theirs)).json()
        assert their_export["profile"]["id"] == other["id"] and their_export["purchases"] == []
        assert (their_export["points"]["ledger"], their_export["points"]["reservations"], their_export["coupons"]) == ([], [], [])

        # Paging my receipts one at a time while new sales land at the till: each page goes on after
        # the receipt the last one ended with, so none is shown twice and none is missed.
        pos = env.auth(Role.POS, store_id="S001")

        async def sold(txn: str) -> None:
            later = sale_body(member={"card_no": me["card_no"]}, pos_txn_id=txn, lines=[line(qty="1", unit_price="5.00")],
                              occurred_at=datetime.now(UTC).isoformat())
            assert (await p.gateway.post("/pos/v1/purchases", json=later, headers=pos)).status_code == 202

        async def receipts_counted(n: int) -> list | None:
            r = await p.gateway.get("/app/v1/purchases", params={"limit": 100}, headers=mine)
            return r.json()["items"] if len(r.json()["items"]) == n else None

        await sold("T-PAGE-1")
        await eventually(lambda: receipts_counted(2), timeout=60, what="the second receipt in the app")
        newest = (await p.gateway.get("/app/v1/purchases", params={"limit": 1}, headers=mine)).json()
        await sold("T-PAGE-2")
        await eventually(lambda: receipts_counted(3), timeout=60, what="the third receipt in the app")
        older = (await p.gateway.get("/app/v1/purchases", params={"limit": 1, "cursor": newest["next_cursor"]},
                                     headers=mine)).json()
        assert [r["pos_txn_id"] for r in newest["items"] + older["items"]] == ["T-PAGE-1", sale["pos_txn_id"]]
        assert older["next_cursor"] is None
