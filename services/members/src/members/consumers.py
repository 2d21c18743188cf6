"""Event type -> handler map of the members service."""

from members.config import Settings
from members.service_layer import complaints, sales
from shared.clock import Clock
from shared.consumer import Handler
from shared.events.registry import COMPLAINT_FILED, COMPLAINT_RESOLVED, PURCHASE_MADE, PURCHASE_REFUNDED


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    return {
        PURCHASE_MADE: sales.on_purchase_made,
        PURCHASE_REFUNDED: sales.on_purchase_refunded,
        COMPLAINT_FILED: complaints.on_complaint_filed,
        COMPLAINT_RESOLVED: complaints.on_complaint_resolved,
    }
