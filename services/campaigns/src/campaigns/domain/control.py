"""The control group every campaign holds out.

Membership is a pure function of (campaign, member): hashing both gives a number uniform in [0, 1),
and the member is held out when it falls below the campaign's control share. So the split needs no
random state, is the same on every replica and every rerun, and can be recomputed to audit what was
recorded at launch; and a member's place in one campaign says nothing about another.
"""

import hashlib
from decimal import Decimal

# 2**64: the first eight bytes of the digest read as an integer, scaled into [0, 1).
_SCALE = 1 << 64


def draw(campaign_id: str, member_id: str) -> float:
    """The member's draw for this campaign, uniform in [0, 1)."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def in_control(campaign_id: str, member_id: str, share: Decimal) -> bool:
    """Whether the member is held out of the campaign (gets nothing, is measured all the same)."""
    return draw(campaign_id, member_id) < float(share)
