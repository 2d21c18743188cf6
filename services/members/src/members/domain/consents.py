"""What a member answers for, and what silence means for each purpose.

Marketing and service tips need a yes: never answered is no. Personalised offers are the other way
round: a member is offered what fits their purchases and occasions until they opt out, so never
answered is yes.
"""

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
