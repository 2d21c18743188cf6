"""Event type -> handler map of the members service."""

from members.service_layer import handlers
from shared.consumer import Handler
from shared.events.registry import PURCHASE_MADE

HANDLERS: dict[str, Handler] = {
    PURCHASE_MADE: handlers.on_purchase_made,
}
