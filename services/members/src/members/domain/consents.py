"""What a member answers for, and what silence means for each purpose.

Marketing and service tips need a yes: never answered is no. Personalised offers are the other way
round: a member is offered what fits their purchases and occasions until they opt out, so never
answered is yes.
"""

import unicodedata
from typing import Literal, get_args

PERSONALISED_OFFERS = "personalised_offers"

# The purposes of the published `consent_changed` contract (shared ConsentPurpose) plus
# personalised offers. That contract's purpose list cannot grow inside its version, so
# personalisation is announced by its own event, `personalisation_changed`.
Purpose = Literal["marketing_sms", "marketing_email", "service_tips_sms", "personalised_offers"]
PURPOSES: tuple[str, ...] = get_args(Purpose)

_GRANTED_UNTIL_WITHDRAWN = frozenset({PERSONALISED_OFFERS})


def granted_when_unanswered(purpose: str) -> bool:
    return purpose in _GRANTED_UNTIL_WITHDRAWN


# What a customer replies to an SMS to stop marketing SMS: the keywords of the opt-out line every
# marketing SMS ends with (回T退订, 拒收请回复R) and those carriers accept (TD, 退订). Compared
# after NFKC, so full-width letters (Ｔ, ｔｄ) count, and case-insensitively with spaces trimmed.
REPLY_OPT_OUTS = frozenset({"t", "td", "r", "退订"})


def withdraws_by_reply(text: str) -> bool:
    """Whether an SMS reply withdraws the member's marketing SMS consent."""
    return unicodedata.normalize("NFKC", text).strip().casefold() in REPLY_OPT_OUTS
