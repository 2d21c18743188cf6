"""Request and response bodies of the coupon API (templates, issuing, wallet, till)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from campaigns.domain.coupons import Limits, Reason, TemplateSpec
from shared.bodies import Body
from shared.cards import CardNumber
from shared.coupon_codes import CouponCode
from shared.events.contracts import Channel, SaleLineIn, SaleTime
from shared.identifiers import RecordId, StoreId, TxnId
from shared.text import ItemCode, NonBlankText, Text


class LimitsIn(Limits):
    """`Limits` as marketing writes them: each sku and category stripped, and refused when blank,
    naming its place (`limits.skus.1`): a blank entry would match no line, and a list of blanks
    alone would limit the coupon to nothing while looking like a limit."""

    categories: list[ItemCode] = Field(default_factory=list, max_length=200)
    skus: list[ItemCode] = Field(default_factory=list, max_length=1000)


class TemplateIn(TemplateSpec):
    """A template as marketing creates it. The name is what members read in their wallet and in the
    campaign's SMS (`offer`), so a blank one is refused where every template from outside comes in.
    Not on `TemplateSpec.name` itself: stored templates are read back through TemplateSpec, and one
    named before this rule must still redeem at the till. Its skus and categories likewise: they
    are matched against the till's sale lines, whose skus the till strips, so one kept with its
    spaces could never be found in a basket (`ItemCode`)."""

    name: NonBlankText = Field(max_length=100)
    gift_sku: ItemCode | None = None
    limits: LimitsIn = Field(default_factory=LimitsIn)


class TemplatePublic(BaseModel):
    id: str
    name: str
    kind: str
    spec: TemplateSpec
    created_by: str
    created_at: datetime


class IssueIn(Body):
    member_ids: list[Text] = Field(min_length=1, max_length=10_000)
    campaign_id: Text | None = Field(default=None, min_length=1, max_length=64)


class IssuePublic(BaseModel):
    requested: int
    issued: int
    already_held: int = Field(description="members who hold a coupon of this template (and campaign) already")
    over_budget: int = Field(description="members not issued one: the template's `issued` cap was reached")
    unknown: int = Field(description="ids issued nothing: no customer campaigns knows of, or one erased")
    unknown_member_ids: list[str] = Field(description="those ids, as sent")
    held_out: int = Field(description="members issued nothing: held out of the campaign named (its control group)")
    held_out_member_ids: list[str] = Field(description="those ids, as sent")


class WalletCoupon(BaseModel):
    coupon_id: str
    code: str
    template_id: str
    name: str
    kind: str
    campaign_id: str | None
    state: str = Field(description="issued, reserved, redeemed, reversed, withdrawn (its holder was erased), or expired: "
                                   "issued and past valid_until")
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    redeemed_at: datetime | None
    discount: Decimal | None
    terms: dict[str, Any] = Field(description="what the coupon gives and where (the template's rules)")


class TillMember(Body):
    """The customer at the till: the card they show, or, for a customer who gave their phone
    without it, the member the gateway found by that phone (campaigns keeps no phones; the till's
    `/pos/v1/coupons/*` takes `phone` and the gateway sends `member_id` in its place). Exactly one.

    Taken from a till's token as the gateway forwards it, as points' preview takes it: a member id
    is a random id no till is ever told, no easier to name than a card number a till may name at
    will, and the till's store binding holds either way."""

    card_no: CardNumber | None = Field(default=None, description="The member card, swiped or typed")
    member_id: RecordId | None = Field(default=None, description="The member the gateway found by the phone the customer gave")

    @model_validator(mode="after")
    def _exactly_one(self) -> "TillMember":
        if (self.card_no is None) == (self.member_id is None):
            raise ValueError("give exactly one of card_no or member_id")
        return self


class TillIn(Body):
    """The basket as the till has it, and the codes the customer handed over. Read exactly as sent,
    as a sale is: a misspelt field would otherwise change which offers apply without a word."""

    store_id: StoreId
    pos_txn_id: TxnId
    occurred_at: SaleTime | None = Field(default=None, description="the till's time; the service's time if absent")
    member: TillMember | None = None
    channel: Channel = "retail"
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    codes: list[CouponCode] = Field(default_factory=list, max_length=20, description=(
        "the codes handed over; the card's personal offers apply without them"))

    @model_validator(mode="after")
    def _something_to_apply(self) -> "TillIn":
        if not self.codes and self.member is None:
            raise ValueError("codes: give the codes handed over, or the member's card for their personal offers")
        return self


class ReleaseIn(Body):
    store_id: StoreId
    pos_txn_id: TxnId


class CodeAnswer(BaseModel):
    code: str
    ok: bool
    discount: Decimal
    reason: Reason | None = Field(description="why the code gives nothing (null when it applies); worded for the cashier in the messages")
    message_zh: str
    message_en: str


class TillAnswer(BaseModel):
    store_id: str
    pos_txn_id: str
    total_discount: Decimal
    reserved_until: datetime | None = None
    codes: list[CodeAnswer]


class ReleasePublic(BaseModel):
    released: int
