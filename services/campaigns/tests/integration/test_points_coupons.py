"""Coupons bought with points: campaigns reads points' `reward_redeemed` of a coupon item and issues
the member one coupon of its template, once per redemption whatever the redelivery."""

import uuid
from datetime import datetime

import pytest
from sqlmodel import select

from campaigns.adapters.tables import CouponRow
from shared.consumer import ProcessedEvent
from shared.errors import Conflict, NotFound
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import COUPON_ISSUED, REWARD_REDEEMED

pytestmark = pytest.mark.integration


def redeemed(member_id: str, template_id: str | None, *, redemption_id: str | None = None, at: datetime,
             event_id: str | None = None) -> Envelope:
    """As points announces a redemption: a coupon item when a template is named, else a gift."""
    data = c.RewardRedeemedV1(
        member_id=member_id, redemption_id=redemption_id or str(uuid.uuid4()), gift_id="coupon-20" if template_id else "cushion",
        store_id="S001", channel="retail", points=2_000, staff_id="desk-1", redeemed_at=at,
        kind="coupon" if template_id else "gift", coupon_template_id=template_id,
    )
    return new_event(REWARD_REDEEMED, data, source="crm/points", subject=member_id, event_id=event_id)


async def coupons_of(cmp, member_id: str) -> list[CouponRow]:
    async with cmp.app.state.sessions() as s:
        return list((await s.exec(select(CouponRow).where(CouponRow.member_id == member_id))).all())


async def test_a_coupon_bought_with_points_lands_in_the_wallet_once_whatever_the_redelivery(cmp) -> None:
    await cmp.apply(cmp.registered("p-1"))
    template_id = await cmp.template()
    event = redeemed("p-1", template_id, at=cmp.clock.now)
    await cmp.apply(event)
    await cmp.apply(event)  # redelivered: skipped by its event id
    republished = redeemed("p-1", template_id, redemption_id=event.data["redemption_id"], at=cmp.clock.now)
    assert republished.id != event.id
    await cmp.apply(republished)  # the same redemption under another event id: the coupon is found
    (coupon,) = await cmp.wallet("p-1")
    assert (coupon["state"], coupon["template_id"]) == ("issued", template_id) and coupon["code"]
    (issued,) = await cmp.outbox(COUPON_ISSUED)
    assert (issued["member_id"], issued["template_id"], issued["campaign_id"]) == (
        "p-1", template_id, f"points:{event.data['redemption_id']}")


async def test_each_redemption_buys_its_own_coupon_whatever_the_templates_caps(cmp) -> None:
    await cmp.apply(cmp.registered("p-2"))
    # Caps count per bought coupon: the member paid points for each.
    template_id = await cmp.template(caps={"issued": 1, "per_member": 1})
    await cmp.apply(redeemed("p-2", template_id, at=cmp.clock.now), redeemed("p-2", template_id, at=cmp.clock.now))
    wallet = await cmp.wallet("p-2")
    assert len(wallet) == 2 and len({w["code"] for w in wallet}) == 2
    code = wallet[0]["code"]
    assert (await cmp.validate([code])).json()["codes"][0]["ok"]


async def test_a_gift_redemption_issues_nothing(cmp) -> None:
    await cmp.apply(cmp.registered("p-3"))
    await cmp.template()
    await cmp.apply(redeemed("p-3", None, at=cmp.clock.now))
    assert await cmp.wallet("p-3") == [] and await cmp.outbox(COUPON_ISSUED) == []


async def test_an_erased_member_gets_no_coupon_and_an_issued_one_is_not_issued_again(cmp) -> None:
    await cmp.apply(cmp.registered("p-4"), cmp.registered("p-5"))
    template_id = await cmp.template()
    before = redeemed("p-4", template_id, at=cmp.clock.now)
    await cmp.apply(before)
    await cmp.apply(cmp.erased("p-4"), cmp.erased("p-5"))
    await cmp.apply(redeemed("p-5", template_id, at=cmp.clock.now))  # after the erasure: nothing new
    await cmp.apply(redeemed("p-4", template_id, redemption_id=before.data["redemption_id"], at=cmp.clock.now))
    assert len(await coupons_of(cmp, "p-4")) == 1
    assert await coupons_of(cmp, "p-5") == []
    assert [e["member_id"] for e in await cmp.outbox(COUPON_ISSUED)] == ["p-4"]


async def test_an_unknown_or_generic_template_fails_the_event_and_records_nothing(cmp) -> None:
    await cmp.apply(cmp.registered("p-6"))
    unknown = redeemed("p-6", str(uuid.uuid4()), at=cmp.clock.now)
    with pytest.raises(NotFound):
        await cmp.apply(unknown)
    generic = await cmp.template(generic_code="WINTER20")
    with pytest.raises(Conflict):
        await cmp.apply(redeemed("p-6", generic, at=cmp.clock.now))
    assert await coupons_of(cmp, "p-6") == []
    # Not marked processed, so the consumer's retries and then the dead letters get them.
    async with cmp.app.state.sessions() as session:
        processed = (await session.exec(select(ProcessedEvent.event_id))).all()
    assert unknown.id not in processed and len(processed) == 1  # only the registration
