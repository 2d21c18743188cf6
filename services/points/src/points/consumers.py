"""Event type -> handler map of the points service, with the member directory's handlers merged in
(home store, account manager and erasure of each customer, for the access policy) and the store
directory's (a gift is never reserved for pick-up at a closed store)."""

from points.config import Settings
from points.service_layer import compensation, earning, entitlements, erasure, redemptions
from shared import store_directory
from shared.clock import Clock
from shared.consumer import BatchHandler, Handler, in_turn
from shared.events.registry import (
    COMPLAINT_RESOLVED,
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
    PURCHASE_ATTRIBUTED,
    RETURN_ATTRIBUTED,
    SPEND_MILESTONE_REACHED,
    STORE_CHANGED,
)
from shared.member_directory import with_directory, with_directory_batches


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    return with_directory({
        MEMBER_REGISTERED: earning.on_member_registered,
        MEMBER_PROFILE_CHANGED: earning.on_member_profile_changed,
        PURCHASE_ATTRIBUTED: earning.on_purchase_attributed,
        RETURN_ATTRIBUTED: earning.on_return_attributed,
        SPEND_MILESTONE_REACHED: entitlements.milestone_handler(settings.leftover_visits_by_milestone),
        COMPLAINT_RESOLVED: compensation.on_complaint_resolved,
        # Reserved gifts cancelled first (their units back to the store), then the scrub.
        MEMBER_ERASED: in_turn(redemptions.on_member_erased, erasure.on_member_erased),
        STORE_CHANGED: store_directory.on_store_changed,
    })


def batch_handlers(settings: Settings, clock: Clock) -> dict[str, BatchHandler]:
    # Sales arrive by the thousand after an outage: booked a run at a time (see service_layer/earning);
    # registrations open their accounts a run at a time too.
    return with_directory_batches({
        PURCHASE_ATTRIBUTED: earning.on_purchases_attributed,
        MEMBER_REGISTERED: earning.on_members_registered,
    })
