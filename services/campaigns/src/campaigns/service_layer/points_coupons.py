"""Coupons bought with points: points announces a redemption of a coupon item in `reward_redeemed`
(naming the coupon template), and campaigns issues the member one coupon of it.

Once per redemption, whatever the redelivery: besides the consumer's dedupe by event id, the
coupon is issued under the campaign id `points:<redemption id>`, so its campaign key names the
redemption and a second delivery (a republished outbox row under another event id, say) finds
the coupon already there. The same key means a template's caps count per bought coupon, not
across them: the member paid for each, and a cap must not swallow a coupon whose points are
already booked. What a coupon item may sell in total is the points catalogue's business (its
price and active dates).

A coupon's register entry cannot be cancelled in points, so nothing here takes a coupon back.
"""

import logging
from typing import cast

from sqlmodel import select

from campaigns.adapters.tables import CouponRow
from campaigns.service_layer.coupons.counters import campaign_key
from campaigns.service_layer.coupons.issuing import issue
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.member_directory import member_facts
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def campaign_id_of(redemption_id: str) -> str:
    return f"points:{redemption_id}"


async def bought_coupon(uow: UnitOfWork, template_id: str, redemption_id: str) -> CouponRow | None:
    key = campaign_key(template_id, campaign_id_of(redemption_id))
    query = select(CouponRow).where(CouponRow.template_id == template_id, CouponRow.campaign_key == key)
    return (await uow.session.exec(query)).first()


async def on_reward_redeemed(uow: UnitOfWork, delivery: Delivery) -> None:
    redeemed = cast(c.RewardRedeemedV1, delivery.payload)
    if redeemed.kind != "coupon":
        return  # a gift picked up at the desk
    template_id, redemption_id = redeemed.coupon_template_id, redeemed.redemption_id
    assert template_id is not None  # the contract requires it for a coupon
    facts = await member_facts(uow.session, redeemed.member_id)
    if facts is not None and facts.erased_at is not None:
        # The directory records an erasure for good: an erased customer gets nothing new.
        log.info("redemption %s: member erased, no coupon issued", redemption_id)
        return
    if await bought_coupon(uow, template_id, redemption_id) is not None:
        return
    # An unknown template or one with a generic code raises here: the event is dead-lettered for
    # an operator rather than dropped, since the member has paid for the coupon.
    issued = await issue(uow, template_id, [redeemed.member_id], campaign_id_of(redemption_id), once_per_member=False)
    if issued.issued != 1:
        raise RuntimeError(f"redemption {redemption_id}: template {template_id} issued {issued.issued} coupons, not 1")
