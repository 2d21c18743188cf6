"""Event type -> handler map of the campaigns service."""

from campaigns.config import Settings
from campaigns.service_layer import segments
from shared.clock import Clock
from shared.consumer import Handler
from shared.events.registry import (
    CONSENT_CHANGED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_REGISTERED,
    PURCHASE_ATTRIBUTED,
    RETURN_ATTRIBUTED,
    TIER_CHANGED,
)


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    # --- audience: the customers read model (service_layer/segments.py)
    handlers.update({
        MEMBER_REGISTERED: segments.on_member_registered,
        MEMBER_ATTRIBUTES: segments.on_member_attributes,
        TIER_CHANGED: segments.on_tier_changed,
        CONSENT_CHANGED: segments.on_consent_changed,
        MEMBER_ERASED: segments.on_member_erased,
        PURCHASE_ATTRIBUTED: segments.on_purchase_attributed,
        RETURN_ATTRIBUTED: segments.on_return_attributed,
    })
    # --- end of audience
    return handlers
