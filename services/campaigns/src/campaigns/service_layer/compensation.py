"""A complaint's coupon compensation: staff resolve a complaint promising the customer a coupon of
some value (feedback's `complaint_resolved` with a `coupon_value`), and that coupon is owed, not
marketing. Campaigns pays it every time, once per complaint, never holding the member out and
never asking for marketing consent or counting a weekly cap:

- from the running `complaint_compensation` campaign whose `amount_off` template gives exactly
  that value (service_layer/campaigns.py `on_complaint_resolved`, the campaign's own coupon and
  message, counted in its results);
- otherwise (no such campaign runs, its segment leaves the member out, or its template's caps
  refuse one more coupon) from a template made for the purpose: `amount_off` of that value, valid
  `CRM_COMPENSATION_COUPON_VALID_DAYS` from its issue, in every store and channel, returned to the
  wallet when the sale it paid for is returned. Its coupon is issued under the campaign id
  `complaint:<complaint id>` (the pattern of coupons bought with points), and the member is sent
  the `coupon_offer` message as a service SMS (and so sees it in the app's inbox).

Once: the occasion is the complaint (`complaint:<id>`). A compensation campaign records it in
`campaign_member`, the purpose-made coupon carries it as its campaign id, and either is looked for
before paying, so a redelivery, a republication under another event id, or one arriving after a
compensation campaign started or ended pays nothing again. A payment and its record are written in
one transaction.
"""

from decimal import Decimal
from typing import cast

from sqlalchemy import select as core_select
from sqlmodel import select

from campaigns.adapters.tables import CampaignMemberRow, CampaignRow, CouponRow, CouponTemplateRow
from campaigns.config import Settings
from campaigns.domain.campaigns import Trigger
from campaigns.domain.coupons import CENT, Kind, TemplateSpec, Validity
from campaigns.service_layer import messages
from campaigns.service_layer.coupons.issuing import issue
from campaigns.service_layer.coupons.templates import ensure_template
from shared.commands import derived_event_id
from shared.unit_of_work import UnitOfWork

SERVICE = "campaigns"
SOURCE = "campaigns:complaint_compensation"  # the sender's source of the purpose-made coupon's message
MEMBERS = CampaignMemberRow.__table__  # type: ignore[attr-defined]


def occasion_of(complaint_id: str) -> str:
    return f"complaint:{complaint_id}"


def campaign_id_of(complaint_id: str) -> str:
    """The campaign id a purpose-made compensation coupon is issued under (no campaign has it)."""
    return f"complaint:{complaint_id}"


async def paid(uow: UnitOfWork, member_id: str, complaint_id: str) -> bool:
    """Whether the complaint's coupon was paid already: by a compensation campaign (its treated
    member on the complaint's occasion; one held out by a campaign created before compensation
    was never held out got nothing, and is paid now) or by a purpose-made coupon."""
    campaign_ids = (await uow.session.exec(select(CampaignRow.id).where(
        CampaignRow.trigger == Trigger.COMPLAINT_COMPENSATION.value))).all()
    if campaign_ids:
        reached = await uow.session.exec(core_select(MEMBERS.c.campaign_id).where(  # type: ignore[call-overload]
            MEMBERS.c.campaign_id.in_(campaign_ids), MEMBERS.c.member_id == member_id,
            MEMBERS.c.occasion == occasion_of(complaint_id), MEMBERS.c.control.is_(False)).limit(1))
        if reached.first() is not None:
            return True
    coupon = await uow.session.exec(select(CouponRow.id).where(
        CouponRow.member_id == member_id, CouponRow.campaign_id == campaign_id_of(complaint_id)).limit(1))
    return coupon.first() is not None


def _yuan(value: Decimal) -> str:
    """10.00 -> 10, 12.50 -> 12.5: how the coupon's name gives its value."""
    text = f"{value.quantize(CENT):f}"
    return text.rstrip("0").rstrip(".")


async def _template(uow: UnitOfWork, value: Decimal) -> CouponTemplateRow:
    """The purpose-made template of this value and the validity set now: one per (value, validity),
    its id derived from what it gives, made the first time a complaint needs it."""
    days = cast(Settings, uow.settings).compensation_coupon_valid_days
    spec = TemplateSpec(name=f"{_yuan(value)}元补偿", kind=Kind.AMOUNT_OFF, amount=value.quantize(CENT),
                        validity=Validity(days=days), returns_on_refund=True)
    template_id = derived_event_id(SERVICE, "compensation_template", spec.model_dump_json())
    return await ensure_template(uow, template_id, spec, SERVICE, uow.now())


async def pay(uow: UnitOfWork, member_id: str, complaint_id: str, value: Decimal) -> str:
    """Issues the member the purpose-made coupon of `value` for the complaint and tells them;
    answers the coupon id. The template has no caps, so it always issues: anything else is a fault
    for an operator (the event is dead-lettered), not a promise quietly dropped."""
    template = await _template(uow, value)
    issued = await issue(uow, template.id, [member_id], campaign_id_of(complaint_id), once_per_member=False)
    if issued.issued != 1:
        raise RuntimeError(f"complaint {complaint_id}: template {template.id} issued {issued.issued} coupons, not 1")
    await tell(uow, member_id, complaint_id, template.name)
    return issued.coupon_of[member_id]


async def tell(uow: UnitOfWork, member_id: str, complaint_id: str, offer: str, campaign_id: str | None = None) -> None:
    """The service message announcing a compensation coupon (`coupon_offer`, by SMS, no consent
    asked and no weekly cap counted), once per complaint: for a purpose-made coupon, or one paid
    by a compensation campaign that has no message of its own."""
    await messages.request(uow, [messages.Request(
        member_id=member_id, source=SOURCE, occasion=occasion_of(complaint_id), campaign_id=campaign_id,
        notification_id=derived_event_id(SERVICE, "compensation_message", complaint_id), channel="sms",
        template="coupon_offer", params={"offer": offer, "complaint_id": complaint_id}, marketing=False,
        requires_consent=None,
    )])

