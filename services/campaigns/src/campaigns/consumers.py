"""Event type -> handler map of the campaigns service, with the member directory's handlers merged
in (home store, account manager and erasure of each customer, for the access policy)."""

from campaigns.config import Settings
from campaigns.service_layer import coupons
from shared.clock import Clock
from shared.consumer import Handler
from shared.events.registry import MEMBER_ERASED, MEMBER_REGISTERED, PURCHASE_MADE, PURCHASE_REFUNDED
from shared.member_directory import with_directory


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    own: dict[str, Handler] = {}
    # coupons: redemption and reversal from the tills' sales, and members' cards for generic codes
    own.update({
        PURCHASE_MADE: coupons.on_purchase_made,
        PURCHASE_REFUNDED: coupons.on_purchase_refunded,
        MEMBER_REGISTERED: coupons.on_member_registered,
        MEMBER_ERASED: coupons.on_member_erased,
    })
    return with_directory(own)
