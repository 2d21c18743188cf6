"""Event type -> handler map of the members service."""

from members.config import Settings
from members.service_layer import complaints, sales, sales_batch
from shared.clock import Clock
from shared.consumer import BatchHandler, Handler
from shared.events.registry import (
    COMPLAINT_FILED,
    COMPLAINT_REOPENED,
    COMPLAINT_RESOLVED,
    PURCHASE_MADE,
    PURCHASE_REFUNDED,
)


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    return {
        PURCHASE_REFUNDED: sales.on_purchase_refunded,
        COMPLAINT_FILED: complaints.on_complaint_filed,
        COMPLAINT_RESOLVED: complaints.on_complaint_resolved,
        COMPLAINT_REOPENED: complaints.on_complaint_reopened,
    }


def batch_handlers(settings: Settings, clock: Clock) -> dict[str, BatchHandler]:
    # A chain's sales arrive by the thousand after an outage or on a busy morning: recorded a run
    # at a time (service_layer/sales_batch). Returns are few and keep the one-by-one path.
    return {PURCHASE_MADE: sales_batch.on_purchases_made}
