"""Members' events as campaigns receives them, and a driver for the campaigns service's audience API
(segments, previews) that hands it those events as the broker would."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.commands import derived_event_id
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import (
    BIRTHDAY_UPCOMING,
    CONSENT_CHANGED,
    FEEDBACK_NOTIFICATION_REQUESTED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
    PERSONALISATION_CHANGED,
    PURCHASE_ATTRIBUTED,
    RETURN_ATTRIBUTED,
    TIER_CHANGED,
)

T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)




def _lines(lines: list[tuple[str, str]]) -> list[c.AttributedLine]:
    return [c.AttributedLine(sku=f"69{i:011d}", category=cat, qty=Decimal(1), amount=Decimal(amount))
            for i, (cat, amount) in enumerate(lines)]


def _event(type_: str, data: Any, member_id: str, event_id: str | None = None) -> Envelope:
    return new_event(type_, data, source="crm/members", subject=member_id, event_id=event_id)


# --- members' events, as members publishes them


def registered(member_id: str, *, at: datetime = T0, channel: str = "retail", home_store_id: str | None = "S001",
               community_id: str | None = "C1", card_no: str | None = None) -> Envelope:
    data = c.MemberRegisteredV1(member_id=member_id, card_no=card_no or f"88{uuid.uuid4().int % 10**11:011d}", channel=channel,  # type: ignore[arg-type]
                                home_store_id=home_store_id, registered_at=at, community_id=community_id)
    return _event(MEMBER_REGISTERED, data, member_id)


def profile_changed(member_id: str, *, at: datetime = T0, channel: str = "retail", home_store_id: str | None = "S001",
                    community_id: str | None = "C1") -> Envelope:
    data = c.MemberProfileChangedV1(member_id=member_id, changed_at=at, channel=channel,  # type: ignore[arg-type]
                                    home_store_id=home_store_id, community_id=community_id)
    return _event(MEMBER_PROFILE_CHANGED, data, member_id)


def attributes(member_id: str, *, as_of: datetime = T0, **fields: Any) -> Envelope:
    values: dict[str, Any] = dict(
        member_id=member_id, as_of=as_of, window_days=365, tier="member", channel="retail", home_store_id="S001",
        community_id="C1", recency=3, frequency=3, monetary=3, value_class="ordinary", churn_risk="low",
        days_since_last_purchase=None, window_spend=Decimal("0.00"),
    )
    values.update(fields)
    return _event(MEMBER_ATTRIBUTES, c.MemberAttributesV1(**values), member_id)


def tier_changed(member_id: str, new_tier: str, *, at: datetime = T0) -> Envelope:
    old = "member" if new_tier == "vip" else "vip"
    data = c.TierChangedV1(member_id=member_id, old_tier=old, new_tier=new_tier, lifetime_spend=Decimal("0.00"),  # type: ignore[arg-type]
                           reason="manual", changed_at=at)
    return _event(TIER_CHANGED, data, member_id)


def consent(member_id: str, purpose: str, granted: bool, *, at: datetime = T0) -> Envelope:
    data = c.ConsentChangedV1(member_id=member_id, purpose=purpose, granted=granted, channel="app", changed_at=at)  # type: ignore[arg-type]
    return _event(CONSENT_CHANGED, data, member_id)


def personalisation(member_id: str, personalised: bool, *, at: datetime = T0) -> Envelope:
    data = c.PersonalisationChangedV1(member_id=member_id, personalised=personalised, channel="app", changed_at=at)
    return _event(PERSONALISATION_CHANGED, data, member_id)


def birthday(member_id: str, year: int, *, days_until: int = 7, event_id: str | None = None) -> Envelope:
    """As members' `birthday-notices` job announces it: under the id derived from member and year."""
    data = c.BirthdayUpcomingV1(member_id=member_id, days_until=days_until, occasion_year=year)
    return _event(BIRTHDAY_UPCOMING, data, member_id, event_id or derived_event_id("members", "birthday", member_id, year))


def erased(member_id: str, *, at: datetime = T0) -> Envelope:
    return _event(MEMBER_ERASED, c.MemberErasedV1(member_id=member_id, erased_at=at), member_id)


def sale(member_id: str, lines: list[tuple[str, str]], *, at: datetime = T0, discount: str = "0.00",
         store: str = "S001", txn: str | None = None, event_id: str | None = None) -> Envelope:
    txn = txn or f"T-{uuid.uuid4().hex[:10]}"
    items = _lines(lines)
    data = c.PurchaseAttributedV1(
        member_id=member_id, sale_event_id=f"sale-{store}-{txn}", store_id=store, pos_txn_id=txn, occurred_at=at,
        total=sum((ln.amount for ln in items), Decimal("0.00")), lines=items, discount=Decimal(discount),
    )
    return _event(PURCHASE_ATTRIBUTED, data, member_id, event_id)


def ret(sale_envelope: Envelope, lines: list[tuple[str, str]], *, at: datetime = T0, refund: str | None = None) -> Envelope:
    s = c.PurchaseAttributedV1.model_validate(sale_envelope.data)
    items = _lines(lines)
    refund = refund or f"R-{uuid.uuid4().hex[:10]}"
    data = c.ReturnAttributedV1(
        member_id=s.member_id, refund_event_id=f"refund-{s.store_id}-{refund}", sale_event_id=s.sale_event_id,
        store_id=s.store_id, refund_id=refund, pos_txn_id=s.pos_txn_id, occurred_at=at,
        amount=sum((ln.amount for ln in items), Decimal("0.00")), sale_total=s.total, lines=items,
    )
    return _event(RETURN_ATTRIBUTED, data, s.member_id)


# --- feedback's events, as feedback publishes them


def survey_invitation(member_id: str, invitation_id: str, *, source: str = "complaint", store: str = "S001",
                      event_id: str | None = None) -> Envelope:
    """Feedback asks for a member's survey invitation, under the id derived from the invitation."""
    notification_id = derived_event_id("feedback", "survey_invitation", invitation_id)
    data = c.FeedbackNotificationRequestedV1(
        notification_id=notification_id, member_id=member_id, invitation_id=invitation_id, source=source,  # type: ignore[arg-type]
        store_id=store, params={"link": f"https://crm.example.cn/surveys/tok-{invitation_id}", "store_id": store,
                                "store_name": "城东店", "expires_on": "2026-12-19"},
        expires_at=datetime(2026, 12, 19, 2, 0, tzinfo=UTC), requested_at=T0,
    )
    return new_event(FEEDBACK_NOTIFICATION_REQUESTED, data, source="crm/feedback", subject=member_id,
                     event_id=event_id or notification_id)
