"""Why the points domain refuses something; the API turns each into a 4xx with this message."""


class PointsError(Exception):
    """Base of every refusal of the points domain."""


class AlreadyBooked(PointsError):
    """The ledger already holds an entry of this type for this source."""


class RedemptionRefused(PointsError):
    """The member cannot pay the gift's price: too few points, or a negative balance."""


class OutOfStock(PointsError):
    """No unit of the gift is left at the store."""


class GiftUnavailable(PointsError):
    """The gift is not in the catalogue for this channel, or not active at this time."""


class InvalidTransition(PointsError):
    """A gift register entry cannot move to the requested status."""


class NothingLeft(PointsError):
    """A service entitlement has no use left."""


class CapExceeded(PointsError):
    """A manual entry beyond what the caller may book on their own (per entry or per day)."""
