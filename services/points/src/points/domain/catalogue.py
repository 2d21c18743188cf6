"""Gift catalogue and gift register rules."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from points.domain.exceptions import GiftUnavailable, InvalidTransition


@dataclass(frozen=True)
class Gift:
    gift_id: str
    prices: Mapping[str, int]  # channel -> points
    active_from: datetime | None = None
    active_until: datetime | None = None

    def price_for(self, channel: str) -> int:
        if channel not in self.prices:
            raise GiftUnavailable(f"gift {self.gift_id} has no price for the {channel} channel")
        return self.prices[channel]

    def check_active(self, at: datetime) -> None:
        if self.active_from is not None and at < self.active_from:
            raise GiftUnavailable(f"gift {self.gift_id} is offered from {self.active_from.isoformat()}")
        if self.active_until is not None and at >= self.active_until:
            raise GiftUnavailable(f"gift {self.gift_id} was offered until {self.active_until.isoformat()}")


class RegisterStatus(StrEnum):
    RESERVED = "reserved"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"


# A gift is handed over or cancelled once; a handed-over gift is never taken back or swapped.
_ALLOWED = {RegisterStatus.RESERVED: {RegisterStatus.HANDED_OVER, RegisterStatus.CANCELLED}}


def check_transition(current: RegisterStatus, target: RegisterStatus) -> None:
    if target not in _ALLOWED.get(current, set()):
        raise InvalidTransition(f"a gift register entry that is {current} cannot become {target}")
