"""Event type -> handler map of the feedback service (members' events; see member_events)."""

from feedback.config import Settings
from feedback.domain.workflow import Clock
from feedback.service_layer.member_events import build_handlers
from shared.consumer import Handler


def handlers(settings: Settings, clock: Clock) -> dict[str, Handler]:
    return build_handlers(settings, clock)
