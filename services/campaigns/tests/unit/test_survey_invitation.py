"""The survey-invitation message and trigger as rules: the template renders in both languages with
what feedback sends and nothing else, a missing parameter is refused rather than sent half-filled,
the message is a service one under its own consent, and a survey-invitation campaign is a
triggered campaign like the others."""

import pytest
from pydantic import ValidationError

from campaigns.adapters import templates
from campaigns.domain.campaigns import CampaignIn, Trigger
from campaigns.domain.messages import Consents, RenderError, compose, refusal, render

PARAMS = {"link": "https://crm.example.cn/surveys/abc", "store_id": "S001", "store_name": "城东店", "expires_on": "2026-12-19"}
SIGN = "【邻里生活超市】"


def test_the_invitation_renders_in_both_languages_with_the_link_store_and_last_day() -> None:
    zh = render(templates.source("survey_invitation", "zh-CN") or "", PARAMS)
    en = render(templates.source("survey_invitation", "en") or "", PARAMS)
    for text in (zh, en):
        assert "https://crm.example.cn/surveys/abc" in text and "城东店" in text and "2026-12-19" in text
    assert zh.startswith("感谢您选择城东店") and en.startswith("Thank you for choosing 城东店")
    sms = compose(zh, channel="sms", marketing=False, sign=SIGN, language="zh-CN")
    assert sms.startswith(SIGN) and not sms.endswith("回T退订")


def test_an_invitation_without_its_link_is_not_rendered() -> None:
    with pytest.raises(RenderError, match="link"):
        render(templates.source("survey_invitation", "zh-CN") or "", {k: v for k, v in PARAMS.items() if k != "link"})


def test_the_invitation_needs_service_message_consent_not_marketing_consent() -> None:
    assert refusal("sms", "service_tips_sms", Consents(service_tips_sms=True)) is None
    assert refusal("sms", "service_tips_sms", Consents(marketing_sms=True)) == "no service_tips_sms consent"
    assert refusal("sms", "service_tips_sms", Consents(service_tips_sms=True, erased=True)) == "the member was erased"


def test_a_survey_invitation_campaign_is_triggered_and_gives_a_coupon_or_a_message() -> None:
    spec = CampaignIn(name="答卷有礼", kind="triggered", trigger=Trigger.SURVEY_INVITATION, coupon_template_id="t-1")
    assert spec.trigger is Trigger.SURVEY_INVITATION and spec.marketing is True
    with pytest.raises(ValidationError, match="coupon_template_id"):
        CampaignIn(name="答卷有礼", kind="triggered", trigger=Trigger.SURVEY_INVITATION)
    with pytest.raises(ValidationError, match="trigger"):
        CampaignIn(name="答卷有礼", kind="one_off", segment_id="s-1", trigger=Trigger.SURVEY_INVITATION, coupon_template_id="t-1")
