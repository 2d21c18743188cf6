"""A POS sale becomes points in the customer-360 view, through the gateway and the real broker."""

from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from members.adapters.tables import PurchaseRow
from shared.auth import Role
from tests.support.factories import line, member_body, sale_body
from tests.support.platform import Platform, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def _open_store(p: Platform, store_id: str = "S001") -> None:
    r = await p.gateway.put(f"/api/v1/stores/{store_id}", json={"name": "城东大卖场"}, headers=p.env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text


async def _register(p: Platform, **fields) -> dict:
    r = await p.gateway.post("/api/v1/members", json=member_body(**fields), headers=p.env.auth(Role.SERVICE_DESK))
    assert r.status_code == 201, r.text
    return r.json()


async def _view(p: Platform, member_id: str, role: Role = Role.SERVICE_DESK) -> dict:
    r = await p.gateway.get(f"/api/v1/customers/{member_id}/360", headers=p.env.auth(role))
    assert r.status_code == 200, r.text
    return r.json()


async def test_sale_by_card_is_credited_and_shown_in_the_360_view(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        await _open_store(p)
        member = await _register(p)
        sale = sale_body(
            member={"card_no": member["card_no"]},
            lines=[line(qty="2", unit_price="39.90"), line(sku="6902083881085", qty="1", unit_price="139.00")],
        )  # 218.80 -> 218 points
        r = await p.gateway.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id="S001"))
        assert r.status_code == 202, r.text
        assert r.json()["duplicate"] is False

        async def credited() -> dict | None:
            view = await _view(p, member["id"])
            return view if view["points"]["balance"] == 218 else None

        view = await eventually(credited, what="points credited")
        assert Decimal(view["lifetime_spend"]) == Decimal("218.80")
        assert view["purchase_count"] == 1
        assert view["recent_purchases"][0]["pos_txn_id"] == sale["pos_txn_id"]
        assert len(view["recent_purchases"][0]["lines"]) == 2
        entry = view["points"]["entries"][0]
        assert entry["entry_type"] == "earn" and entry["points"] == 218
        assert sale["pos_txn_id"] in entry["reason"]
        assert view["unavailable"] == []
        assert view["member"]["phone"] == member["phone"]  # the service desk calls customers

        # Marketing works with segments: no customer's ledger and complaints, so no 360 view; the
        # profile it may read comes with the phone masked.
        refused = await p.gateway.get(f"/api/v1/customers/{member['id']}/360", headers=env.auth(Role.MARKETING))
        assert refused.status_code == 403
        profile = (await p.gateway.get(f"/api/members/v1/members/{member['id']}", headers=env.auth(Role.MARKETING))).json()
        assert profile["phone"] != member["phone"] and "****" in profile["phone"] and profile["phone_masked"] is True


async def _post_sale(p: Platform, sale: dict) -> str:
    r = await p.gateway.post("/pos/v1/purchases", json=sale, headers=p.env.auth(Role.POS, store_id=sale["store_id"]))
    assert r.status_code == 202, r.text
    return r.json()["event_id"]


async def _balance(p: Platform, member_id: str) -> int:
    return (await _view(p, member_id))["points"]["balance"]


async def _balance_is(p: Platform, member_id: str, expected: int):
    seen: list[int] = []

    async def probe() -> bool:
        seen.append(await _balance(p, member_id))
        return seen[-1] == expected

    try:
        return await eventually(probe, timeout=40, what=f"balance {expected}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; balance last seen: {seen[-1:]}") from exc


async def test_sale_with_unregistered_card_or_phone_is_credited_after_registration(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        await _open_store(p)
        await _post_sale(p, sale_body(member={"card_no": "8800000055555"}, lines=[line(qty="1", unit_price="100.00")]))
        await _post_sale(p, sale_body(member={"phone": "13711112222"}, lines=[line(qty="1", unit_price="50.50")]))

        async def sales_recorded() -> bool:
            # Both sales stored by members, unattributed, before the customer registers. (Its
            # consumer lag is no proof: it reads 0 before the relay has published anything.)
            async with p.apps["members"].state.sessions() as session:
                stored = (await session.exec(select(func.count()).select_from(PurchaseRow))).one()
            return stored == 2

        await eventually(sales_recorded, what="sales stored by members")
        member = await _register(p, card_no="8800000055555", phone="13711112222")
        await _balance_is(p, member["id"], 150)
        view = await _view(p, member["id"])
        assert view["purchase_count"] == 2 and Decimal(view["lifetime_spend"]) == Decimal("150.50")


async def test_the_360_view_survives_the_points_service_being_down(env: TestEnv, database_factory) -> None:
    from crm_cli.broker import free_port

    async with platform(env, database_factory, points_url=f"http://127.0.0.1:{free_port()}") as p:
        member = await _register(p)
        view = await _view(p, member["id"])
        assert view["member"]["id"] == member["id"]
        assert view["points"] is None
        assert [u["section"] for u in view["unavailable"]] == ["points"]
        assert "unreachable" in view["unavailable"][0]["reason"]


async def test_360_of_an_unknown_member_is_404(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        r = await p.gateway.get("/api/v1/customers/no-such-member/360", headers=env.auth(Role.SERVICE_DESK))
        assert r.status_code == 404


async def test_pos_retries_never_count_twice_end_to_end(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        await _open_store(p)
        member = await _register(p)
        sale = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price="88.80")])
        first = await _post_sale(p, sale)
        for _ in range(3):
            assert await _post_sale(p, sale) == first
        second = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price="11.20")])
        await _post_sale(p, second)
        await _balance_is(p, member["id"], 88 + 11)
        view = await _view(p, member["id"])
        assert view["purchase_count"] == 2


async def test_an_erased_customers_sales_keep_no_card_or_phone_at_the_gateway(env: TestEnv, database_factory) -> None:
    """Head office erases a customer on their request: members forgets the card and phone digest
    on their sales, and tells the gateway, which kept them with each sale the tills posted."""
    async with platform(env, database_factory) as p:
        await _open_store(p)
        member = await _register(p)
        bystander = await _register(p)
        sales = [sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price="100.00")]),
                 sale_body(member={"phone": member["phone"]}, lines=[line(qty="1", unit_price="50.50")])]
        for sale in sales:
            await _post_sale(p, sale)
        await _post_sale(p, sale_body(member={"card_no": bystander["card_no"]}))
        await _balance_is(p, member["id"], 150)
        r = await p.gateway.post(f"/api/v1/customers/{member['id']}/erasure", headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text

        async def kept_at_the_gateway() -> dict[str, tuple[str | None, str | None]]:
            async with p.apps["gateway"].state.sessions() as session:
                rows = (await session.exec(select(PosSaleRow))).all()
            return {row.pos_txn_id: (row.card_no, row.phone_hmac) for row in rows}

        async def forgotten() -> bool:
            kept = await kept_at_the_gateway()
            return all(kept[sale["pos_txn_id"]] == (None, None) for sale in sales)

        await eventually(forgotten, what="the gateway forgets the erased customer's card and phone on their sales")
        assert bystander["card_no"] in {card for card, _ in (await kept_at_the_gateway()).values()}


async def test_the_360_view_of_a_customer_who_is_not_theirs_is_refused_whole(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        await _open_store(p)
        member = await _register(p)
        stranger = {"Authorization": f"Bearer {env.issuer.mint('am-other', Role.ACCOUNT_MANAGER, store_id='S001')}"}
        r = await p.gateway.get(f"/api/v1/customers/{member['id']}/360", headers=stranger)
        assert r.status_code == 403 and "assigned to them" in r.json()["detail"]
        other_store = {"Authorization": f"Bearer {env.issuer.mint('sm-2', Role.STORE_MANAGER, store_id='S002')}"}
        assert (await p.gateway.get(f"/api/v1/customers/{member['id']}/360", headers=other_store)).status_code == 403
