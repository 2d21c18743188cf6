"""Customers' replies to our SMS, pushed by the provider: each goes to members, which owns consents
and decides (T, TD, R, 退订 withdraw marketing SMS at once; members/domain/consents.py). What
members made of it is logged here; no reply is kept in campaigns.
"""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.adapters.members_api import ReplyForwarder, ReplyRefused

log = logging.getLogger(__name__)

# A mainland mobile number as providers write it: 11 digits, perhaps after +86 or 86.
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9][0-9]{9})$")


@dataclass(frozen=True)
class Reply:
    phone: str
    text: str
    received_at: datetime


def mainland_mobile(phone: str) -> str | None:
    found = _MOBILE.match(phone.strip().replace(" ", "").replace("-", ""))
    return found.group(1) if found else None


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


async def forward(forwarder: ReplyForwarder, replies: Sequence[Reply]) -> dict[str, int]:
    """Raises MembersUnavailable when members cannot take them now: the provider pushes the batch
    again, and members records a withdrawal once however often it hears it."""
    counts = {"opted_out": 0, "already_out": 0, "other": 0, "unknown_phone": 0, "refused": 0}
    for reply in replies:
        phone = mainland_mobile(reply.phone)
        if phone is None:
            log.warning("sms reply from %s ignored: not a mainland mobile number", _masked(reply.phone))
            counts["refused"] += 1
            continue
        try:
            answer = await forwarder.forward(phone, reply.text, reply.received_at)
        except ReplyRefused as exc:
            log.warning("sms reply from %s refused by members: %s", _masked(phone), exc)
            counts["refused"] += 1
            continue
        if not answer.found:
            log.info("sms reply from %s: no member has this phone", _masked(phone))
            counts["unknown_phone"] += 1
        elif not answer.opt_out:
            log.info("sms reply from member %s is not an opt-out: nothing changed", answer.member_id)
            counts["other"] += 1
        elif answer.changed:
            log.info("sms reply from member %s withdrew marketing SMS", answer.member_id)
            counts["opted_out"] += 1
        else:
            counts["already_out"] += 1
    return counts
