"""Event payloads (the `data` of the envelope), one pydantic model per versioned type, grouped by
the service that publishes them.

Rules: payloads carry ids and amounts, never names, phones or addresses; inside a version
fields are only ever added (optional ones), so consumers ignore what they do not know.
"""

from shared.events.contracts.campaigns import (
    CampaignEndedV1,
    CampaignLaunchedV1,
    CampaignNotificationRequestedV1,
    CouponIssuedV1,
    CouponRedeemedV1,
    CouponReleasedV1,
    CouponReversedV1,
)
from shared.events.contracts.common import Channel, Contract, StoreId, TxnId, lines_add_up
from shared.events.contracts.feedback import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEscalatedV1,
    ComplaintFiledV1,
    ComplaintResolvedV1,
    Severity,
)
from shared.events.contracts.members import (
    AccountManagerAssignedV1,
    AttributedLine,
    BirthdayUpcomingV1,
    ChurnRisk,
    ConsentChangedV1,
    ConsentChannel,
    ConsentPurpose,
    MemberAttributesV1,
    MemberErasedV1,
    MemberRegisteredV1,
    NotificationRequestedV1,
    PurchaseAttributedV1,
    ReturnAttributedV1,
    SpendMilestoneReachedV1,
    Tier,
    TierChangedV1,
    ValueClass,
)
from shared.events.contracts.points import (
    EntitlementGrantedV1,
    PointsExpiringV1,
    RewardRedeemedV1,
    RewardRedemptionCancelledV1,
)
from shared.events.contracts.pos import (
    CustomerRef,
    Discount,
    PurchaseMadeV1,
    PurchaseRefundedV1,
    SaleLine,
    discounts_fit,
    sum_of_discounts,
)

__all__ = [
    "AccountManagerAssignedV1",
    "AttributedLine",
    "BirthdayUpcomingV1",
    "CampaignEndedV1",
    "CampaignLaunchedV1",
    "CampaignNotificationRequestedV1",
    "Channel",
    "ChurnRisk",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintEscalatedV1",
    "ComplaintFiledV1",
    "ComplaintResolvedV1",
    "ConsentChangedV1",
    "ConsentChannel",
    "ConsentPurpose",
    "Contract",
    "CouponIssuedV1",
    "CouponRedeemedV1",
    "CouponReleasedV1",
    "CouponReversedV1",
    "CustomerRef",
    "Discount",
    "EntitlementGrantedV1",
    "MemberAttributesV1",
    "MemberErasedV1",
    "MemberRegisteredV1",
    "NotificationRequestedV1",
    "PointsExpiringV1",
    "PurchaseAttributedV1",
    "PurchaseMadeV1",
    "PurchaseRefundedV1",
    "ReturnAttributedV1",
    "RewardRedeemedV1",
    "RewardRedemptionCancelledV1",
    "SaleLine",
    "Severity",
    "SpendMilestoneReachedV1",
    "StoreId",
    "Tier",
    "TierChangedV1",
    "TxnId",
    "ValueClass",
    "discounts_fit",
    "lines_add_up",
    "sum_of_discounts",
]
