"""Which purposes a member answers for, and what silence means."""

from typing import get_args

from members.domain.consents import PURPOSES, granted_when_unanswered
from shared.events.contracts import ConsentPurpose


def test_every_published_consent_purpose_can_be_answered() -> None:
    assert set(get_args(ConsentPurpose)) <= set(PURPOSES)
    assert "personalised_offers" in PURPOSES and "personalised_offers" not in get_args(ConsentPurpose)


def test_silence_is_no_for_marketing_and_service_tips_but_yes_for_personalised_offers() -> None:
    assert granted_when_unanswered("personalised_offers")
    for purpose in get_args(ConsentPurpose):
        assert not granted_when_unanswered(purpose), purpose
