"""Event envelope, contracts, registry and their Kafka binding."""

from shared.events.envelope import Envelope, new_event
from shared.events.registry import REGISTRY, EventSpec, Topics

__all__ = ["REGISTRY", "Envelope", "EventSpec", "Topics", "new_event"]
