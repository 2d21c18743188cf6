"""Why the points domain refuses something: `shared.errors` refusals, so the service answers each
with its status and this message like every other service does."""

from typing import Any

from shared import errors
from shared.errors import Conflict, Forbidden, ServiceError


class PointsError(ServiceError):
    """Base of every refusal of the points service. Its answers also name the kind of refusal in
    `error` (e.g. "OutOfStock"): desk screens tell "too few points" from "out of stock" by it."""

    def extra(self) -> dict[str, Any]:
        return {"error": type(self).__name__}


class NotFound(PointsError, errors.NotFound):
    """No points account, gift register entry or bulk bonus job under this id (answered with
    `"error": "NotFound"`, hence the name shared with `shared.errors.NotFound`)."""


class AlreadyBooked(PointsError, Conflict):
    """The ledger already holds an entry of this type for this source."""


class RedemptionRefused(PointsError, Conflict):
    """The member cannot pay the gift's price: too few points, or a negative balance."""


class NotEnoughPoints(PointsError, Conflict):
    """A manual adjustment would take away more points than the balance holds (a state of the
    account, not of the request: the same adjustment passes once the balance allows it)."""


class MemberErased(PointsError, Conflict):
    """Members erased the customer: points records nothing new about them (the erasure's scrub ran
    once, when `member_erased` arrived, and would never reach what came after it)."""


class OutOfStock(PointsError, Conflict):
    """No unit of the gift is left at the store."""


class StoreClosed(PointsError, Conflict):
    """The store has closed (the gateway says it is not open for business): no gift is picked up there."""


class GiftUnavailable(PointsError, Conflict):
    """The gift is not in the catalogue for this channel, or not active at this time."""


class InvalidTransition(PointsError, Conflict):
    """A gift register entry cannot move to the requested status."""


class NothingLeft(PointsError, Conflict):
    """A service entitlement has no use left."""


class CapExceeded(PointsError, Forbidden):
    """A manual entry beyond what the caller may book on their own (per entry or per day)."""


class IdempotencyConflict(PointsError, Conflict):
    """The Idempotency-Key was used before for a different request."""
