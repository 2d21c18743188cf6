"""The explicit map from versioned event type to topic and payload model.

Consumers route on `type` strings found here, never on class names. The registry also says who may
publish a type: only its owner, on its owner's topic (`EventSpec.topic`, which broker ACLs reserve
to the owner's principal), and for POS sales and returns only with a till's credential
(`EventSpec.credential`). What consumers do with a type that is not here is described in
`shared.consumer`.
"""

import builtins
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from shared.events import contracts as c
from shared.events.credentials import CredentialCheck, till_of_the_store


class Topics:
    POS_PURCHASES = "crm.pos.purchases"
    MEMBERS = "crm.members.events"
    POINTS = "crm.points.events"
    FEEDBACK = "crm.feedback.events"
    CAMPAIGNS = "crm.campaigns.events"
    GATEWAY = "crm.gateway.events"
    DEAD_LETTER = "crm.dead-letter"


# Topics written by systems outside the platform (POS vendors' tills). A type the registry does not
# know there is a mistake that would lose a sale, never a newer version of one of our services.
EXTERNAL_TOPICS = frozenset({Topics.POS_PURCHASES})


def namespace(type_: str) -> str:
    """The owner part of a type string: `crm.members` for `crm.members.tier_changed.v1`."""
    return ".".join(type_.split(".")[:2])


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    model: builtins.type[BaseModel]  # builtins: the field `type` shadows the name here
    # Checked by the consumer before any handler sees the event; None: the topic ACL suffices.
    credential: CredentialCheck | None = None


class EventRegistry:
    def __init__(self, specs: list[EventSpec]) -> None:
        self._by_type = {spec.type: spec for spec in specs}

    def __getitem__(self, type_: str) -> EventSpec:
        return self._by_type[type_]

    def get(self, type_: str) -> EventSpec | None:
        return self._by_type.get(type_)

    def __iter__(self) -> Iterator[EventSpec]:
        return iter(self._by_type.values())

    def topics(self) -> set[str]:
        return {spec.topic for spec in self._by_type.values()}

    def namespaces(self, topic: str) -> set[str]:
        """The owners whose types travel on `topic`."""
        return {namespace(spec.type) for spec in self._by_type.values() if spec.topic == topic}


PURCHASE_MADE = "crm.pos.purchase_made.v1"
PURCHASE_REFUNDED = "crm.pos.purchase_refunded.v1"
MEMBER_REGISTERED = "crm.members.member_registered.v1"
PURCHASE_ATTRIBUTED = "crm.members.purchase_attributed.v1"
RETURN_ATTRIBUTED = "crm.members.return_attributed.v1"
TIER_CHANGED = "crm.members.tier_changed.v1"
SPEND_MILESTONE_REACHED = "crm.members.spend_milestone_reached.v1"
ACCOUNT_MANAGER_ASSIGNED = "crm.members.account_manager_assigned.v1"
NOTIFICATION_REQUESTED = "crm.members.notification_requested.v1"
CONSENT_CHANGED = "crm.members.consent_changed.v1"
CONSENT_CHANGED_V2 = "crm.members.consent_changed.v2"
PERSONALISATION_CHANGED = "crm.members.personalisation_changed.v1"
MEMBER_ATTRIBUTES = "crm.members.member_attributes.v1"
MEMBER_ERASED = "crm.members.member_erased.v1"
MEMBER_SALES_ERASED = "crm.members.member_sales_erased.v1"
MEMBER_PROFILE_CHANGED = "crm.members.member_profile_changed.v1"
SALES_IMPORTED = "crm.members.sales_imported.v1"
BIRTHDAY_UPCOMING = "crm.members.birthday_upcoming.v1"
REWARD_REDEEMED = "crm.points.reward_redeemed.v1"
REWARD_REDEMPTION_CANCELLED = "crm.points.reward_redemption_cancelled.v1"
POINTS_EXPIRING = "crm.points.points_expiring.v1"
ENTITLEMENT_GRANTED = "crm.points.entitlement_granted.v1"
COMPLAINT_FILED = "crm.feedback.complaint_filed.v1"
COMPLAINT_ESCALATED = "crm.feedback.complaint_escalated.v1"
COMPLAINT_RESOLVED = "crm.feedback.complaint_resolved.v1"
COMPLAINT_REOPENED = "crm.feedback.complaint_reopened.v1"
# feedback: the survey invitations it asks the sender to deliver
FEEDBACK_NOTIFICATION_REQUESTED = "crm.feedback.notification_requested.v1"
# campaigns: coupons
COUPON_ISSUED = "crm.campaigns.coupon_issued.v1"
COUPON_REDEEMED = "crm.campaigns.coupon_redeemed.v1"
COUPON_RELEASED = "crm.campaigns.coupon_released.v1"
COUPON_REVERSED = "crm.campaigns.coupon_reversed.v1"
# campaigns: campaigns and the messages they ask for
CAMPAIGN_LAUNCHED = "crm.campaigns.campaign_launched.v1"
CAMPAIGN_ENDED = "crm.campaigns.campaign_ended.v1"
CAMPAIGN_NOTIFICATION_REQUESTED_V1 = "crm.campaigns.notification_requested.v1"  # read, no longer written
CAMPAIGN_NOTIFICATION_REQUESTED = "crm.campaigns.notification_requested.v2"
# gateway: the chain's stores
STORE_CHANGED = "crm.gateway.store_changed.v1"

REGISTRY = EventRegistry(
    [
        EventSpec(PURCHASE_MADE, Topics.POS_PURCHASES, c.PurchaseMadeV1, credential=till_of_the_store),
        EventSpec(PURCHASE_REFUNDED, Topics.POS_PURCHASES, c.PurchaseRefundedV1, credential=till_of_the_store),
        EventSpec(MEMBER_REGISTERED, Topics.MEMBERS, c.MemberRegisteredV1),
        EventSpec(PURCHASE_ATTRIBUTED, Topics.MEMBERS, c.PurchaseAttributedV1),
        EventSpec(RETURN_ATTRIBUTED, Topics.MEMBERS, c.ReturnAttributedV1),
        EventSpec(TIER_CHANGED, Topics.MEMBERS, c.TierChangedV1),
        EventSpec(SPEND_MILESTONE_REACHED, Topics.MEMBERS, c.SpendMilestoneReachedV1),
        EventSpec(ACCOUNT_MANAGER_ASSIGNED, Topics.MEMBERS, c.AccountManagerAssignedV1),
        EventSpec(NOTIFICATION_REQUESTED, Topics.MEMBERS, c.NotificationRequestedV1),
        EventSpec(CONSENT_CHANGED, Topics.MEMBERS, c.ConsentChangedV1),
        EventSpec(CONSENT_CHANGED_V2, Topics.MEMBERS, c.ConsentChangedV2),
        EventSpec(PERSONALISATION_CHANGED, Topics.MEMBERS, c.PersonalisationChangedV1),
        EventSpec(MEMBER_ATTRIBUTES, Topics.MEMBERS, c.MemberAttributesV1),
        EventSpec(MEMBER_ERASED, Topics.MEMBERS, c.MemberErasedV1),
        EventSpec(MEMBER_SALES_ERASED, Topics.MEMBERS, c.MemberSalesErasedV1),
        EventSpec(MEMBER_PROFILE_CHANGED, Topics.MEMBERS, c.MemberProfileChangedV1),
        EventSpec(SALES_IMPORTED, Topics.MEMBERS, c.SalesImportedV1),
        EventSpec(BIRTHDAY_UPCOMING, Topics.MEMBERS, c.BirthdayUpcomingV1),
        EventSpec(REWARD_REDEEMED, Topics.POINTS, c.RewardRedeemedV1),
        EventSpec(REWARD_REDEMPTION_CANCELLED, Topics.POINTS, c.RewardRedemptionCancelledV1),
        EventSpec(POINTS_EXPIRING, Topics.POINTS, c.PointsExpiringV1),
        EventSpec(ENTITLEMENT_GRANTED, Topics.POINTS, c.EntitlementGrantedV1),
        EventSpec(COMPLAINT_FILED, Topics.FEEDBACK, c.ComplaintFiledV1),
        EventSpec(COMPLAINT_ESCALATED, Topics.FEEDBACK, c.ComplaintEscalatedV1),
        EventSpec(COMPLAINT_RESOLVED, Topics.FEEDBACK, c.ComplaintResolvedV1),
        EventSpec(COMPLAINT_REOPENED, Topics.FEEDBACK, c.ComplaintReopenedV1),
        EventSpec(FEEDBACK_NOTIFICATION_REQUESTED, Topics.FEEDBACK, c.FeedbackNotificationRequestedV1),
        # campaigns: coupons
        EventSpec(COUPON_ISSUED, Topics.CAMPAIGNS, c.CouponIssuedV1),
        EventSpec(COUPON_REDEEMED, Topics.CAMPAIGNS, c.CouponRedeemedV1),
        EventSpec(COUPON_RELEASED, Topics.CAMPAIGNS, c.CouponReleasedV1),
        EventSpec(COUPON_REVERSED, Topics.CAMPAIGNS, c.CouponReversedV1),
        EventSpec(CAMPAIGN_LAUNCHED, Topics.CAMPAIGNS, c.CampaignLaunchedV1),
        EventSpec(CAMPAIGN_ENDED, Topics.CAMPAIGNS, c.CampaignEndedV1),
        EventSpec(CAMPAIGN_NOTIFICATION_REQUESTED_V1, Topics.CAMPAIGNS, c.CampaignNotificationRequestedV1),
        EventSpec(CAMPAIGN_NOTIFICATION_REQUESTED, Topics.CAMPAIGNS, c.CampaignNotificationRequestedV2),
        EventSpec(STORE_CHANGED, Topics.GATEWAY, c.StoreChangedV1),
    ]
)
