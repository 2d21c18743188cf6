"""Rules of POS entry that need no I/O."""

import hashlib
import json
from decimal import Decimal

from pydantic import BaseModel


def payload_digest(body: BaseModel) -> str:
    """Fingerprint of a POS request, to tell an honest retry from a different sale under the same id."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def refundable(total: Decimal, refunded: Decimal) -> Decimal:
    return total - refunded
