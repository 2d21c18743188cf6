"""Which purposes a member answers for, and what silence means."""

from typing import get_args

import pytest

from members.domain.consents import PURPOSES, granted_when_unanswered, withdraws_by_reply
from shared.events.contracts import ConsentPurpose


def test_every_published_consent_purpose_can_be_answered() -> None:
    assert set(get_args(ConsentPurpose)) <= set(PURPOSES)
    assert "personalised_offers" in PURPOSES and "personalised_offers" not in get_args(ConsentPurpose)


def test_silence_is_no_for_marketing_and_service_tips_but_yes_for_personalised_offers() -> None:
    assert granted_when_unanswered("personalised_offers")
    for purpose in get_args(ConsentPurpose):
        assert not granted_when_unanswered(purpose), purpose


@pytest.mark.parametrize("text", ["T", "t", " T ", "TD", "td", "Td", "R", "r", "退订", " 退订\n", "Ｔ", "ｔｄ", "Ｒ", "　T　"])
def test_an_opt_out_reply_is_t_td_r_or_tuiding_trimmed_in_any_case_and_width(text: str) -> None:
    assert withdraws_by_reply(text)


@pytest.mark.parametrize("text", ["", "好的", "TT", "T退订", "stop", "谢谢 T", "Y", "DT"])
def test_any_other_reply_keeps_the_consent(text: str) -> None:
    assert not withdraws_by_reply(text)
