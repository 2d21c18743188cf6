"""Bodies and answers of the member app API, with the examples its OpenAPI document shows.

Only what the app may send is declared here (unknown fields are refused, 422 naming them); the
values themselves are checked by the owning service, which answers the same 422 for them. Free
text is the shared `Text` here already: a lone surrogate could not even be written into the body
forwarded to the service. What a member writes to feedback (a complaint, a rating, a survey) is
typed as feedback types it (`shared.feedback_input`, the complaint's category and severity from the
event contracts), so the document gives its choices and limits."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from shared.bodies import Body
from shared.events.contracts import ComplaintCategory, Severity
from shared.feedback_input import ComplaintDescription, Dimension, RatingComment, ReopenReason, SurveyComment
from shared.identifiers import StoreId, TxnId
from shared.integers import NpsScore
from shared.integers import Rating as Score  # the class Rating below is the app's body
from shared.strict import StrictBool, StrictDate
from shared.text import Text

Purpose = Literal["marketing_sms", "marketing_email", "service_tips_sms", "personalised_offers"]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# A profile field members keeps once set: null is refused before pydantic reads the text, so the
# answer says why (it cannot be cleared) rather than that null is no string.
def _not_cleared(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("not_clearable", "cannot be cleared: leave the field out to keep it unchanged")
    return value


KeptText = Annotated[Text, BeforeValidator(_not_cleared)]


def _no_default(schema: dict[str, Any]) -> None:
    # A field left out is unchanged, not set to null: the document shows no default that says so.
    schema.pop("default", None)


def _clearable(description: str) -> Any:
    return Field(default=None, json_schema_extra=_no_default, description=f"{description}. Left out: unchanged; null clears it")


def _kept(description: str) -> Any:
    return Field(default=None, json_schema_extra=_no_default,
                 description=f"{description}. Left out: unchanged; it cannot be cleared (null is refused, 422 naming it)")


class ProfileEdit(Body):
    """What a member changes in the app: contact details, community and birthday, only the fields
    sent. The phone is the sign-in identity and is changed at the service desk.

    Which fields null clears is members' rule (`MemberUpdate`): e-mail and birthday may be cleared,
    the address and community may not (the information base counts every member in a community and
    household). It is written here once, as each field's type, so the document states it and a null
    members would refuse is refused here, naming the field, before members is asked."""

    model_config = _examples({"email": "li.na@example.com", "address": "幸福小区 3-2-501", "community": "幸福小区",
                              "birthday": "1990-05-17"}, {"email": None, "birthday": None})
    email: Text | None = _clearable("E-mail address")
    address: KeptText = _kept("Delivery address")
    community: KeptText = _kept("Residential community (小区)")
    birthday: StrictDate | None = _clearable("Birthday, YYYY-MM-DD")


class ConsentsEdit(Body):
    model_config = _examples({"purposes": {"marketing_sms": True, "personalised_offers": False}})
    purposes: dict[Purpose, StrictBool] = Field(
        min_length=1,
        description="true grants, false withdraws (at once); personalised_offers false is \"no personalised offers\". "
        "Recorded as answered in the app.",
    )


class GiftReservation(Body):
    model_config = _examples({"gift_id": "rice-cooker"})
    gift_id: Text = Field(min_length=1, max_length=64)


class SaleRef(Body):
    """The sale a complaint is about: one of the member's own purchases (checked with members)."""

    store_id: StoreId | None = Field(default=None, description="Defaults to the complaint's store_id")
    pos_txn_id: TxnId


class ComplaintFiling(Body):
    """The complaint is always the caller's own and filed from the app; the rest is as feedback takes it."""

    model_config = _examples({"category": "product_quality", "severity": "medium", "store_id": "S001",
                              "description": "买的牛奶过期了 The milk I bought was past its date"})
    category: ComplaintCategory
    severity: Severity
    description: ComplaintDescription
    store_id: StoreId | None = None
    sale: SaleRef | None = Field(default=None, description="The sale it is about, one of my purchases: {store_id, pos_txn_id}")


class Rating(Body):
    model_config = _examples({"score": 4, "comment": "处理很及时 Handled quickly"})
    score: Score
    comment: RatingComment | None = None


class Reopening(Body):
    model_config = _examples({"reason": "问题没有解决 It was not put right"})
    reason: ReopenReason


class SurveyAnswer(Body):
    model_config = _examples({"ratings": {"service": 5, "product_quality": 4}, "nps": 9, "comment": "很好 Good"})
    ratings: dict[Dimension, Score] = Field(default_factory=dict)
    nps: NpsScore | None = None
    comment: SurveyComment | None = None


class Barcode(BaseModel):
    format: Literal["CODE128"] = "CODE128"
    payload: str = Field(description="The card number itself: what the till scans, as it takes a typed card number")


class Qr(BaseModel):
    payload: str


class ExpiringLot(BaseModel):
    expires_on: date
    points: int


class CardPoints(BaseModel):
    balance: int
    next_expiry: ExpiringLot | None = Field(description="The soonest date, today or later, some points expire, and how many")
    expiring: list[ExpiringLot]
    past_date: int = Field(description="Points whose last day has passed, in the balance until the expiry job takes "
                                       "them (a few hours at most); they buy no gift")


class Card(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "member_id": "5f0c1c3e-8f7a-4d7e-9a39-1f5a1c1b2d3e", "card_no": "8800000012345678",
        "barcode": {"format": "CODE128", "payload": "8800000012345678"}, "qr": {"payload": "8800000012345678"},
        "tier": "silver",
        "points": {"balance": 1250, "next_expiry": {"expires_on": "2026-12-31", "points": 300},
                   "expiring": [{"expires_on": "2026-12-31", "points": 300}, {"expires_on": "2027-12-31", "points": 950}],
                   "past_date": 0},
    }]})
    member_id: str
    card_no: str
    barcode: Barcode
    qr: Qr
    tier: str
    points: CardPoints


class Page(BaseModel):
    """One page of a list: pass `next_cursor` as `cursor` for the next one (null: the last page)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{"...": "..."}], "next_cursor": "WyJtc2ctMDAyMSJd"}]})
    items: list[dict[str, Any]]
    next_cursor: str | None


class LedgerEntry(BaseModel):
    id: int
    entry_type: str = Field(description="earn, reverse (a return), redeem, cancel_redeem, adjust, bonus or expire; "
                                        "more may be added")
    points: int
    balance_after: int
    reason: str = Field(description="Points' own record of the entry, for staff and support; show `description`")
    description: str = Field(description="What the entry was, for the member: in the language Accept-Language prefers "
                                         "(Chinese unless English ranks higher)")
    description_zh: str
    description_en: str
    occurred_at: str


class LedgerPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"id": 42, "entry_type": "earn", "points": 120, "balance_after": 1250, "reason": "purchase S001/T1001",
         "description": "购物：城东大卖场，小票 T1001", "description_zh": "购物：城东大卖场，小票 T1001",
         "description_en": "Purchase at 城东大卖场, receipt T1001", "occurred_at": "2026-11-30T10:15:00+08:00"},
        {"id": 41, "entry_type": "redeem", "points": -28000, "balance_after": 1130, "reason": "gift rice-cooker at S001",
         "description": "兑换礼品：电饭锅（城东大卖场）", "description_zh": "兑换礼品：电饭锅（城东大卖场）",
         "description_en": "Gift redeemed: Rice cooker (城东大卖场)", "occurred_at": "2026-11-28T16:40:00+08:00"}],
        "next_cursor": "WyI0MSJd"}]})
    items: list[LedgerEntry]
    next_cursor: str | None
