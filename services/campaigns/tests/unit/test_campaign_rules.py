"""A campaign's rules (domain/campaigns.py): its budget narrows the template it issues from, it never
starts or resumes after its end, and the message parameters it can supply."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from campaigns.domain import messages
from campaigns.domain.campaigns import Budget, CampaignIn, State, budgeted, ended_at, move, unbacked_coupon
from campaigns.domain.coupons import TemplateSpec
from campaigns.service_layer.messages import campaign_template_params
from shared.errors import Conflict

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def template(**caps: object) -> TemplateSpec:
    return TemplateSpec.model_validate({"name": "满100减20", "kind": "threshold", "amount": "20", "threshold": "100",
                                        "validity": {"days": 30}, "caps": caps})


@pytest.mark.parametrize(("caps", "budget", "issued", "amount"), [
    ({}, {"max_coupons": 2, "max_discount": "5.00"}, 2, Decimal("5.00")),
    ({"issued": 1, "amount": "100.00"}, {"max_coupons": 2, "max_discount": "5.00"}, 1, Decimal("5.00")),  # the tighter
    ({"issued": 10}, {"max_discount": "50.00"}, 10, Decimal("50.00")),  # a budget without a coupon limit keeps the cap
])
def test_a_budget_narrows_the_templates_caps_and_nothing_else(caps: dict, budget: dict, issued: int, amount: Decimal) -> None:
    spec = template(per_member=1, **caps)
    narrowed = budgeted(spec, Budget.model_validate(budget))
    assert (narrowed.caps.issued, narrowed.caps.amount, narrowed.caps.per_member) == (issued, amount, 1)
    assert narrowed.model_dump(exclude={"caps"}) == spec.model_dump(exclude={"caps"})


def test_a_refused_move_names_the_state_in_plain_english() -> None:
    with pytest.raises(Conflict, match=r"^an ended campaign cannot resume$"):
        move(State.ENDED, "resume", now=NOW, starts_at=None, ends_at=None, zone=SHANGHAI)
    with pytest.raises(Conflict, match=r"^a paused campaign cannot launch$"):
        move(State.PAUSED, "launch", now=NOW, starts_at=None, ends_at=None, zone=SHANGHAI)


def test_a_campaign_is_not_launched_or_resumed_after_its_end_and_may_always_be_ended() -> None:
    ended = NOW - timedelta(minutes=1)
    with pytest.raises(Conflict, match=re.escape("ends_at: the campaign ended at 2026-12-05T17:59:00+08:00, before it started")):
        move(State.DRAFT, "launch", now=NOW, starts_at=None, ends_at=ended, zone=SHANGHAI)
    with pytest.raises(Conflict, match="so it cannot resume"):
        move(State.PAUSED, "resume", now=NOW, starts_at=None, ends_at=NOW, zone=SHANGHAI)
    assert move(State.PAUSED, "end", now=NOW, starts_at=None, ends_at=ended, zone=SHANGHAI) is State.ENDED
    assert move(State.DRAFT, "launch", now=NOW, starts_at=NOW + timedelta(hours=1), ends_at=NOW + timedelta(days=1),
                zone=SHANGHAI) is State.SCHEDULED


def test_a_campaign_ends_at_its_end_when_that_came_before_it_was_ended() -> None:
    """The schedule job notices an end late: the campaign ended at its `ends_at` all the same. Ended
    by hand before it, a campaign ends when it was ended."""
    assert ended_at(NOW, NOW - timedelta(seconds=36)) == NOW - timedelta(seconds=36)
    assert ended_at(NOW, NOW + timedelta(hours=1)) == NOW
    assert ended_at(NOW, None) == NOW


@pytest.mark.parametrize(("spec", "supplied"), [
    ({"kind": "one_off", "segment_id": "s", "message": {"template": "service_tip", "params": {"tip": "t"}}}, {"tip"}),
    ({"kind": "one_off", "segment_id": "s", "coupon_template_id": "t", "message": {"template": "coupon_offer"}}, {"offer"}),
    ({"kind": "triggered", "trigger": "points_expiring", "message": {"template": "points_expiry"}}, {"points", "expires_on"}),
    ({"kind": "triggered", "trigger": "win_back", "message": {"template": "x", "params": {"a": "b"}}}, {"a"}),
])
def test_the_parameters_a_campaign_supplies_its_messages(spec: dict, supplied: set[str]) -> None:
    assert CampaignIn.model_validate({"name": "x", **spec}).supplied_params() == supplied


def test_a_templates_parameters_are_what_it_renders_in_every_language_and_subject() -> None:
    assert messages.variables("{% if personal == 'yes' %}{{ count }}{% endif %}{% set x = 1 %}{{ x }}") == {"personal", "count"}
    assert campaign_template_params("coupon_offer") == {"offer"}
    assert campaign_template_params("vip_welcome") == {"manager_name", "manager_phone", "store_name"}
    assert campaign_template_params("signin_code") is None  # a one-time template: never a campaign's
    assert campaign_template_params("../coupon_offer") is None


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_message_parameter_is_refused_naming_it(value: str) -> None:
    """A campaign's own `offer` wins over its coupon's name in every member's SMS: a blank one is
    refused when the campaign is created, not sent to the whole segment as a hole in the text."""
    def spec(offer: str) -> dict:
        return {"name": "x", "kind": "one_off", "segment_id": "s", "coupon_template_id": "t",
                "message": {"template": "coupon_offer", "params": {"offer": offer}}}
    with pytest.raises(ValidationError) as refused:
        CampaignIn.model_validate(spec(value))
    assert [(e["loc"], e["msg"]) for e in refused.value.errors()] == [(("message", "params", "offer"), "Value error, must not be blank")]
    message = CampaignIn.model_validate(spec("  满100减20 ")).message
    assert message is not None and message.params == {"offer": "满100减20"}


@pytest.mark.parametrize("spec", [
    {"kind": "one_off", "segment_id": "s", "coupon_template_id": "t"},
    {"kind": "one_off", "segment_id": "s", "coupon_template_id": "t",
     "message": {"template": "coupon_offer", "params": {"offer": "满100减20"}}},
    {"kind": "one_off", "segment_id": "s", "message": {"template": "offer_list"}},
    {"kind": "triggered", "trigger": "vip_welcome", "coupon_template_id": "t", "message": {"template": "vip_welcome"}},
])
def test_a_coupon_or_an_offer_is_marketing_and_cannot_be_sent_as_a_service(spec: dict) -> None:
    """`marketing: false` skips marketing consent and the SMS opt-out line: a coupon offered that
    way would reach the members who refused marketing."""
    with pytest.raises(ValueError, match="marketing: "):
        CampaignIn.model_validate({"name": "x", "marketing": False, **spec})
    assert CampaignIn.model_validate({"name": "x", **spec}).marketing
    tip = {"name": "x", "kind": "one_off", "segment_id": "s", "message": {"template": "service_tip", "params": {"tip": "t"}}}
    assert not CampaignIn.model_validate({**tip, "marketing": False}).marketing  # a service tip may be a service


@pytest.mark.parametrize("value", ["no", "off", "false", "0", "1", "t", "y", 0, 1])
@pytest.mark.parametrize("field", ["marketing", "personalised"])
def test_a_campaigns_switches_are_json_true_or_false_only(field: str, value: object) -> None:
    """Pydantic's lax bool read "no" as false: a campaign sent "marketing": "no" went out as a
    service message, past the members' marketing consent."""
    tip = {"name": "x", "kind": "one_off", "segment_id": "s", "message": {"template": "service_tip", "params": {"tip": "t"}}}
    with pytest.raises(ValidationError) as info:
        CampaignIn.model_validate({**tip, field: value})
    [error] = info.value.errors()
    assert error["loc"] == (field,) and "must be true or false (a JSON boolean)" in error["msg"]
    assert getattr(CampaignIn.model_validate({**tip, field: False}), field) is False


def test_a_service_message_goes_by_sms_to_those_who_agreed_to_service_tips() -> None:
    tip = {"name": "x", "kind": "one_off", "segment_id": "s", "message": {"template": "service_tip", "params": {"tip": "t"}},
           "marketing": False}
    with pytest.raises(ValueError, match="channel: a service message goes by SMS"):
        CampaignIn.model_validate({**tip, "channel": "email"})
    assert CampaignIn.model_validate({**tip, "channel": "email", "marketing": True}).channel == "email"
    assert CampaignIn.model_validate({**COMPENSATION, "channel": "email"}).channel == "email"  # owed: no consent to go by


COMPENSATION = {"name": "赔付", "kind": "triggered", "trigger": "complaint_compensation", "coupon_template_id": "t-1"}


def test_a_compensation_campaign_takes_a_services_settings_not_marketings_defaults() -> None:
    spec = CampaignIn.model_validate(COMPENSATION)
    assert (spec.control_share, spec.marketing, spec.personalised, spec.budget) == (0, False, False, None)
    given = CampaignIn.model_validate({**COMPENSATION, "control_share": "0", "marketing": False, "personalised": False})
    assert (given.control_share, given.marketing, given.personalised) == (0, False, False)
    win_back = CampaignIn.model_validate({**COMPENSATION, "trigger": "win_back"})  # the defaults stay others'
    assert (win_back.control_share, win_back.marketing, win_back.personalised) == (Decimal("0.10"), True, True)


@pytest.mark.parametrize(("given", "field"), [
    ({"coupon_template_id": None, "message": {"template": "coupon_offer"}}, "coupon_template_id"),
    ({"control_share": "0.05"}, "control_share"),
    ({"marketing": True}, "marketing"),
    ({"personalised": True}, "personalised"),
    ({"budget": {"max_coupons": 100}}, "budget"),
])
def test_a_compensation_campaign_that_could_hold_back_a_promised_coupon_is_refused(given: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"{field}: "):
        CampaignIn.model_validate({**COMPENSATION, **given})


@pytest.mark.parametrize("spec", [
    {"kind": "one_off", "segment_id": "s", "message": {"template": "coupon_offer", "params": {"offer": "满50减10"}}},
    {"kind": "one_off", "segment_id": "s", "message": {"template": "coupon_offer"}},
    {"kind": "triggered", "trigger": "birthday", "message": {"template": "coupon_offer", "params": {"offer": "生日礼"}}},
    {"kind": "triggered", "trigger": "survey_invitation", "message": {"template": "coupon_offer", "params": {"offer": "答卷礼"}}},
])
def test_a_message_announcing_a_coupon_needs_the_coupon(spec: dict) -> None:
    """`coupon_offer` tells each member a coupon is in their wallet: a campaign giving none would
    promise every member something nobody gets. Refused naming the box to fill in."""
    with pytest.raises(ValidationError) as refused:
        CampaignIn.model_validate({"name": "x", **spec})
    [error] = refused.value.errors()
    assert error["loc"] == () and error["msg"] == (
        "Value error, coupon_template_id: message template 'coupon_offer' tells each member a coupon is in their "
        "wallet, and the campaign gives none: choose the coupon's template, or another message")
    given = CampaignIn.model_validate({"name": "x", **spec, "coupon_template_id": "t-1"})
    assert given.coupon_template_id == "t-1" and given.message is not None and given.message.template == "coupon_offer"


def test_only_a_message_announcing_a_coupon_needs_one() -> None:
    assert unbacked_coupon("coupon_offer", None) is not None
    assert unbacked_coupon("coupon_offer", "t-1") is None
    for template in ("service_tip", "offer_list", "vip_welcome", None):
        assert unbacked_coupon(template, None) is None
