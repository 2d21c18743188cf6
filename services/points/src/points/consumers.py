"""Event type -> handler map of the points service."""

from points.service_layer import handlers
from shared.consumer import Handler
from shared.events.registry import MEMBER_REGISTERED, PURCHASE_ATTRIBUTED

HANDLERS: dict[str, Handler] = {
    MEMBER_REGISTERED: handlers.on_member_registered,
    PURCHASE_ATTRIBUTED: handlers.on_purchase_attributed,
}
