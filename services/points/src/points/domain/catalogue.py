"""Gift catalogue and gift register rules."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from points.domain.exceptions import GiftUnavailable, InvalidTransition


class GiftKind(StrEnum):
    """A `gift` is a thing in a store's stock, handed over at the desk; a `coupon` is a campaigns
    coupon template, issued to the member by campaigns when it reads the redemption."""

    GIFT = "gift"
    COUPON = "coupon"


@dataclass(frozen=True)
class Gift:
    gift_id: str
    prices: Mapping[str, int]  # channel -> points
    active_from: datetime | None = None
    active_until: datetime | None = None
    kind: GiftKind = GiftKind.GIFT
    coupon_template_id: str | None = None

    def __post_init__(self) -> None:
        # The catalogue's API refuses both mistakes; a row that slipped past it must not sell a
        # coupon nobody can issue.
        if (self.kind is GiftKind.COUPON) != (self.coupon_template_id is not None):
            raise GiftUnavailable(f"gift {self.gift_id}: a coupon item names its coupon template, and only a coupon item does")

    @property
    def has_stock(self) -> bool:
        return self.kind is GiftKind.GIFT

    def price_for(self, channel: str) -> int:
        if channel not in self.prices:
            raise GiftUnavailable(f"gift {self.gift_id} has no price for the {channel} channel")
        return self.prices[channel]

    def check_active(self, at: datetime, zone: tzinfo) -> None:
        """Refused outside its dates, told in the chain's `zone` as the desk and the customer read them."""
        if self.active_from is not None and at < self.active_from:
            raise GiftUnavailable(f"gift {self.gift_id} is offered from {self.active_from.astimezone(zone).isoformat(timespec='minutes')}")
        if self.active_until is not None and at >= self.active_until:
            raise GiftUnavailable(f"gift {self.gift_id} was offered until {self.active_until.astimezone(zone).isoformat(timespec='minutes')}")


class RegisterStatus(StrEnum):
    RESERVED = "reserved"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"
    # A coupon bought with points: nothing to pick up, so the entry is complete when it is written.
    COMPLETED = "completed"


def points_kept(status: str, points: int) -> int:
    """What an entry of the register keeps of the member's points: a cancelled one gave them back,
    so a register's total, which a clerk checks against the shelf, counts none of it."""
    return 0 if status == RegisterStatus.CANCELLED else points


def initial_status(kind: GiftKind) -> RegisterStatus:
    return RegisterStatus.COMPLETED if kind is GiftKind.COUPON else RegisterStatus.RESERVED


# A gift is handed over or cancelled once; a handed-over gift is never taken back or swapped.
# A completed coupon is never cancelled either: points cannot see whether the member has used it,
# and giving the points back for a used coupon would pay for it twice.
_ALLOWED = {RegisterStatus.RESERVED: {RegisterStatus.HANDED_OVER, RegisterStatus.CANCELLED}}


def check_transition(current: RegisterStatus, target: RegisterStatus) -> None:
    if current is RegisterStatus.COMPLETED and target is not RegisterStatus.COMPLETED:
        raise InvalidTransition(
            f"a coupon bought with points is issued, not handed over, and cannot be {target.replace('_', ' ')}"
        )
    if target not in _ALLOWED.get(current, set()):
        raise InvalidTransition(f"a gift register entry that is {current} cannot become {target}")
