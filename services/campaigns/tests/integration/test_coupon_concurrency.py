"""Many tills at once on PostgreSQL: caps hold under concurrent reservations and redemptions, and a
coupon is held by one sale only."""

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import text

from campaigns.service_layer.coupons.counters import counter
from campaigns.service_layer.coupons.redemption import on_purchase_made, on_purchase_refunded
from tests.support.campaigns import template_body
from tests.support.factories import keyed

pytestmark = pytest.mark.integration
TILLS = 32


@pytest.fixture
def backend() -> str:
    return "postgres"  # SQLite runs one writer at a time: nothing concurrent to prove there


async def coupons_for(cmp, n: int, **template: object) -> tuple[str, list[str]]:
    members = [f"m-{i}" for i in range(n)]
    await cmp.apply(*(cmp.registered(m) for m in members))  # their cards, shown with their coupons
    template_id = await cmp.template(**template)
    await cmp.issue(template_id, members)
    return template_id, [await cmp.code_of(m) for m in members]


async def used(cmp, key: str) -> tuple[int, Decimal]:
    async with cmp.app.state.sessions() as s:
        row = await counter(s, key)
    return (row.used_count, row.used_amount) if row else (0, Decimal("0.00"))


async def test_parallel_reservations_never_pass_the_caps(cmp) -> None:
    template_id, codes = await coupons_for(cmp, TILLS, caps={"redemptions": 10, "amount": "180", "per_store": 12})
    results = await asyncio.gather(*(cmp.reserve([code], txn=f"T-{i}") for i, code in enumerate(codes)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    answers = [r.json()["codes"][0] for r in results]
    assert sum(a["ok"] for a in answers) == 9  # 9 x 20.00 = 180.00, the money budget binds first
    assert {a["reason"] for a in answers if not a["ok"]} == {"cap_reached"}
    assert await used(cmp, f"{template_id}|-|redemptions") == (9, Decimal("180.00"))
    assert await used(cmp, f"{template_id}|-|store|S001") == (9, Decimal("180.00"))


async def test_parallel_sales_published_straight_to_kafka_never_pass_the_cap(cmp) -> None:
    template_id, codes = await coupons_for(cmp, TILLS, caps={"redemptions": 7})
    consumer = cmp.app.state.consumer
    deliveries = [consumer.delivery(cmp.sale([code], txn=f"T-{i}")) for i, code in enumerate(codes)]
    commands = cmp.app.state.commands

    async def redeem(delivery) -> None:
        async with commands() as uow:
            await on_purchase_made(uow, delivery)

    await asyncio.gather(*(redeem(d) for d in deliveries))
    assert await used(cmp, f"{template_id}|-|redemptions") == (7, Decimal("140.00"))
    states = [(await cmp.wallet(f"m-{i}"))[0]["state"] for i in range(TILLS)]
    assert states.count("redeemed") == 7 and states.count("issued") == TILLS - 7


async def test_one_coupon_raced_by_many_tills_is_held_by_one(cmp) -> None:
    template_id, (code,) = await coupons_for(cmp, 1)
    results = await asyncio.gather(*(cmp.reserve([code], txn=f"T-{i}") for i in range(TILLS)))
    answers = [r.json()["codes"][0] for r in results]
    assert sum(a["ok"] for a in answers) == 1
    assert {a["reason"] for a in answers if not a["ok"]} == {"reserved_elsewhere"}
    assert await used(cmp, f"{template_id}|-|redemptions") == (1, Decimal("20.00"))


async def test_a_generic_code_per_member_cap_holds_under_parallel_tills(cmp) -> None:
    await cmp.template(generic_code="WINTER20", caps={"per_member": 2})
    await cmp.apply(cmp.registered("m-a"))
    card = cmp.cards["m-a"]
    results = await asyncio.gather(*(cmp.reserve(["WINTER20"], txn=f"T-{i}", card=card) for i in range(TILLS)))
    assert sum(r.json()["codes"][0]["ok"] for r in results) == 2


async def test_a_return_applied_while_its_sale_commits_still_reverses_the_coupon(cmp) -> None:
    # A return naming no customer travels on another partition than its sale: two replicas may
    # apply the two at once. Here the return comes while the sale's transaction, having redeemed
    # the coupon, has not committed yet: the return may not miss the coupon (the sale's look for
    # earlier returns could not see it either), so it waits for the sale.
    _, (code,) = await coupons_for(cmp, 1)
    consumer, commands = cmp.app.state.consumer, cmp.app.state.commands

    async def apply_return() -> None:
        async with commands() as uow:
            await on_purchase_refunded(uow, consumer.delivery(cmp.refund("T-1")))

    async def waiting_on_a_lock() -> bool:
        async with cmp.app.state.sessions() as s:
            found = await s.exec(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            return found.scalar_one() > 0

    async with commands() as uow:
        await on_purchase_made(uow, consumer.delivery(cmp.sale([code])))
        returned = asyncio.create_task(apply_return())
        deadline = asyncio.get_running_loop().time() + 10
        while not returned.done() and not await waiting_on_a_lock():
            assert asyncio.get_running_loop().time() < deadline, "the return neither finished nor waited"
            await asyncio.sleep(0.01)
    await returned
    assert (await cmp.wallet("m-0"))[0]["state"] == "reversed"


async def test_one_sale_reserved_at_once_by_a_double_click_holds_a_generic_code_once(cmp) -> None:
    # A till sends the same sale twice at once (a double click, a retry after a timeout): both add
    # the generic code's use for the sale; the one that loses on its unique key runs again and
    # answers as the repeat it is, rather than a 500, and the member's cap counts the use once.
    template_id = await cmp.template(generic_code="WINTER20", caps={"per_member": 2})
    await cmp.apply(cmp.registered("m-a"))
    results = await asyncio.gather(*(cmp.reserve(["WINTER20"], txn="T-1", card=cmp.cards["m-a"]) for _ in range(TILLS // 4)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    assert all(r.json()["codes"][0]["ok"] for r in results)
    assert await used(cmp, f"{template_id}|-|member|m-a") == (1, Decimal("20.00"))
    assert await used(cmp, f"{template_id}|-|redemptions") == (1, Decimal("20.00"))


async def test_one_generic_code_given_to_two_templates_at_once_goes_to_one(cmp) -> None:
    # Both find the code free before either is written; its unique key lets one through and the
    # other is told which field, as it would be a moment later.
    answers = await asyncio.gather(*(
        cmp.client.post("/v1/coupon-templates", json=template_body(name=f"冬季{n}", generic_code="WINTER20"),
                        headers=keyed(cmp.marketing())) for n in range(6)))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
    assert all("generic_code: WINTER20" in r.json()["detail"] for r in answers if r.status_code == 409)


async def test_coupons_issued_by_hand_twice_at_once_are_one_per_member(cmp) -> None:
    # A double click on issue: both requests read who holds one before either has written.
    members = [f"m-{i}" for i in range(5)]
    await cmp.apply(*(cmp.registered(m) for m in members))
    for caps in ({}, {"issued": 100}):
        template_id = await cmp.template(caps=caps)
        answers = await asyncio.gather(*(
            cmp.client.post(f"/v1/coupon-templates/{template_id}/issue", json={"member_ids": members}, headers=cmp.marketing())
            for _ in range(4)))
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
        assert sum(r.json()["issued"] for r in answers) == len(members), (caps, [r.json() for r in answers])
        assert sum(r.json()["already_held"] for r in answers) == 3 * len(members)
        for m in members:
            assert [c["template_id"] for c in await cmp.wallet(m)].count(template_id) == 1, (caps, m)
