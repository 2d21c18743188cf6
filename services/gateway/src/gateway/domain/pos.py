"""Rules of POS entry that need no I/O."""

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel

# Fields a sale body gained after sales were already being accepted. Left out of the fingerprint
# while empty, so that a sale accepted before they existed and retried after the upgrade is still
# recognised as the same sale rather than refused as different content.
_ADDED_LATER = ("coupons", "discounts")


def payload_digest(body: BaseModel) -> str:
    """Fingerprint of a POS request, to tell an honest retry from a different sale under the same id."""
    data = body.model_dump(mode="json")
    for name in _ADDED_LATER:
        if name in data and not data[name]:
            del data[name]
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def refundable(total: Decimal, refunded: Decimal) -> Decimal:
    return total - refunded


def future_time_problem(occurred_at: datetime, now: datetime, skew: timedelta) -> str | None:
    """Why a sale or return time cannot be accepted, or None. A till's clock may run a little
    ahead (the allowed skew); a time beyond that is a wrong clock or a wrong field, and accepting
    it would put the purchase ahead of every later one and skew spend windows and expiry."""
    if occurred_at > now + skew:
        return f"is {occurred_at.isoformat()}, in the future beyond the allowed clock skew of {skew}"
    return None
