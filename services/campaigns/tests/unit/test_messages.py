"""The sender's rules: consent per purpose and channel, quiet hours in the chain's time zone, the
weekly cap, the backoff, and how templates render into SMS and e-mail text."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.adapters import templates
from campaigns.domain.messages import (
    OPT_OUT,
    Consents,
    QuietHours,
    RenderError,
    compose,
    occasion_on,
    over_cap,
    refusal,
    render,
    retry_after,
    salutation,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET = QuietHours(21, 8, SHANGHAI)
SIGN = "【邻里生活超市】"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time on December `day` 2026 in Shanghai, as a UTC instant (how the clock gives it)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


# --- consent


def test_marketing_needs_the_consent_of_its_own_channel() -> None:
    assert refusal("sms", "marketing_sms", Consents(marketing_sms=True)) is None
    assert refusal("sms", "marketing_sms", Consents(marketing_sms=False)) == "no marketing_sms consent"
    # Never answered counts as no.
    assert refusal("sms", "marketing_sms", Consents()) == "no marketing_sms consent"
    # Consent to e-mail does not let a campaign text the member, nor the other way round.
    assert refusal("sms", "marketing_sms", Consents(marketing_email=True)) == "no marketing_sms consent"
    assert refusal("sms", "marketing_email", Consents(marketing_email=True)) == "marketing_email does not cover the sms channel"


def test_service_messages_follow_their_own_consent_or_none() -> None:
    assert refusal("sms", None, Consents()) is None
    assert refusal("sms", "service_tips_sms", Consents(service_tips_sms=True)) is None
    assert refusal("sms", "service_tips_sms", Consents(marketing_sms=True)) == "no service_tips_sms consent"


def test_nothing_goes_to_an_erased_member() -> None:
    assert refusal("sms", None, Consents(erased=True)) == "the member was erased"
    assert refusal("inbox", None, Consents(erased=True)) == "the member was erased"


# --- quiet hours


@pytest.mark.parametrize(("at", "released"), [
    (local(5, 21, 0), local(6, 8)),  # the first quiet minute
    (local(5, 22, 30), local(6, 8)),  # evening: the next morning
    (local(6, 0, 15), local(6, 8)),  # after midnight: the same morning
    (local(6, 7, 59), local(6, 8)),
])
def test_a_message_in_quiet_hours_waits_until_eight(at: datetime, released: datetime) -> None:
    assert QUIET.release(at) == released


@pytest.mark.parametrize("at", [local(6, 8, 0), local(6, 12), local(6, 20, 59)])
def test_outside_quiet_hours_a_message_goes_now(at: datetime) -> None:
    assert QUIET.release(at) is None


def test_quiet_hours_are_the_chains_local_hours_not_utc() -> None:
    # 14:00 UTC is 22:00 in Shanghai: quiet there, though mid-afternoon in UTC.
    assert QUIET.release(datetime(2026, 12, 5, 14, 0, tzinfo=UTC)) == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    assert QuietHours(21, 8, ZoneInfo("UTC")).release(datetime(2026, 12, 5, 14, 0, tzinfo=UTC)) is None


def test_a_window_within_one_day() -> None:
    lunch = QuietHours(12, 14, SHANGHAI)
    assert lunch.release(local(5, 13)) == local(5, 14)
    assert lunch.release(local(5, 14)) is None and lunch.release(local(5, 11, 59)) is None


# --- the weekly cap and retries


def test_the_weekly_cap_refuses_the_message_beyond_it_with_the_reason() -> None:
    assert over_cap(0, 2) is None and over_cap(1, 2) is None
    assert over_cap(2, 2) == "weekly cap: 2 marketing messages in the last 7 days (cap 2)"
    assert over_cap(0, 0) is not None  # a cap of 0 switches marketing messages off


def test_backoff_doubles_up_to_its_cap() -> None:
    waits = [retry_after(n, 60, 3600) for n in range(1, 9)]
    assert waits[:4] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert waits[-1] == timedelta(hours=1) and max(waits) == timedelta(hours=1)


# --- rendering


def test_templates_render_strictly() -> None:
    assert render("您有{{ points }}积分", {"points": "120"}) == "您有120积分"
    with pytest.raises(RenderError, match="'points' is undefined"):
        render("您有{{ points }}积分", {})
    with pytest.raises(RenderError, match="template"):
        render("{{ points ", {"points": "1"})


def test_every_sms_starts_with_the_sign_and_marketing_ends_with_the_opt_out() -> None:
    marketing = compose("满100减20优惠券已到账", channel="sms", marketing=True, sign=SIGN, language="zh-CN")
    assert marketing == f"{SIGN}满100减20优惠券已到账。{OPT_OUT}"  # a full stop, not run on into the opt-out
    assert compose("周末生鲜八折！", channel="sms", marketing=True, sign=SIGN, language="zh-CN") == f"{SIGN}周末生鲜八折！{OPT_OUT}"
    service = compose("您有120积分将到期", channel="sms", marketing=False, sign=SIGN, language="zh-CN")
    assert service == f"{SIGN}您有120积分将到期"
    assert compose(f"{SIGN}已签名", channel="sms", marketing=False, sign=SIGN, language="zh-CN") == f"{SIGN}已签名"
    assert compose("A coupon is waiting", channel="sms", marketing=True, sign=SIGN, language="en") == (
        f"{SIGN}A coupon is waiting {OPT_OUT}")


def test_email_and_inbox_text_is_the_body_alone() -> None:
    assert compose("body", channel="email", marketing=True, sign=SIGN, language="zh-CN") == "body"
    assert compose("body", channel="inbox", marketing=True, sign=SIGN, language="zh-CN") == "body"


def test_template_files_in_both_languages_with_zh_cn_as_fallback() -> None:
    params = {"manager_name": "王芳", "manager_phone": "021-5555-0101", "store_name": "城东店", "store_id": "S001",
              "salutation": "张女士"}
    zh = render(templates.source("vip_welcome", "zh-CN") or "", params)
    en = render(templates.source("vip_welcome", "en") or "", params | {"salutation": "Ms Zhang"})
    assert zh == "张女士，恭喜您成为城东店的VIP会员！我是您的专属客户经理王芳，工作电话021-5555-0101，有需要随时联系。"
    assert en == "Ms Zhang, you are now a VIP member of 城东店! I am your account manager 王芳, work phone 021-5555-0101."
    assert templates.source("vip_welcome", "fr") == templates.source("vip_welcome", "zh-CN")
    for name in ("vip_welcome", "service_tip", "points_expiry", "coupon_offer"):
        assert templates.source(name, "zh-CN") and templates.source(name, "en"), name


@pytest.mark.parametrize(("family_name", "gender", "language", "expected"), [
    ("张", "female", "zh-CN", "张女士"),
    ("欧阳", "male", "zh-CN", "欧阳先生"),
    ("李", "unspecified", "zh-CN", "李先生/女士"),
    ("Zhang", "female", "en", "Ms Zhang"),
    ("Smith", "male", "en", "Mr Smith"),
    ("Lee", "unspecified", "en", "Mr/Ms Lee"),
    (None, "female", "zh-CN", "尊敬的会员"),  # erased: members has no name for them
    (None, "male", "en", "Dear member"),
    ("王", "female", "fr", "王女士"),  # a language without templates falls back to zh-CN, as templates do
])
def test_a_salutation_calls_the_member_by_family_name_and_title(family_name, gender, language, expected) -> None:
    assert salutation(family_name, gender, language) == expected


def test_an_unknown_or_unsafe_template_name_is_no_template() -> None:
    assert templates.source("no_such_template", "zh-CN") is None
    assert templates.source("../config", "zh-CN") is None
    assert templates.source("vip_welcome.zh-CN", "zh-CN") is None


def test_the_copies_of_an_offer_list_keep_the_occasions_their_message_ids_derive_from() -> None:
    # Ids of the messages already sent derive from these occasions: another spelling would send a
    # round's list again on a rerun, and the inbox would no longer pair the copies.
    assert [occasion_on("offer_list", channel) for channel in ("sms", "inbox")] == ["offer_list:sms", "offer_list:inbox"]
