"""Event type -> handler map of the feedback service (members' events; see member_events)."""

from feedback.config import Settings
from feedback.service_layer import member_events as m
from shared.clock import Clock
from shared.consumer import BatchHandler, Handler
from shared.events.registry import (
    ACCOUNT_MANAGER_ASSIGNED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
    PURCHASE_ATTRIBUTED,
    TIER_CHANGED,
)


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    return {
        MEMBER_REGISTERED: m.on_member_registered,
        MEMBER_ATTRIBUTES: m.on_member_attributes,
        MEMBER_PROFILE_CHANGED: m.on_member_profile_changed,
        TIER_CHANGED: m.on_tier_changed,
        ACCOUNT_MANAGER_ASSIGNED: m.on_manager_assigned,
        MEMBER_ERASED: m.on_member_erased,
        PURCHASE_ATTRIBUTED: m.on_purchase_attributed,
    }


def batch_handlers(settings: Settings, clock: Clock) -> dict[str, BatchHandler]:
    # A desk's or the app's registrations arrive a few at a time: their profiles are one upsert.
    return {MEMBER_REGISTERED: m.on_members_registered}
