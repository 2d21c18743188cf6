"""Compensation rules, survey sampling, link tokens and scores."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from feedback.domain.assignment import assignee_for
from feedback.domain.compensation import Compensation, CompensationRefused, check_compensation
from feedback.domain.surveys import (
    AnswerDoesNotFit,
    change,
    check_answer,
    invitation_expiry,
    last_day_to_answer,
    link_token,
    nps,
    percent,
    sampled,
    token_hash,
)
from shared.errors import Invalid

LIMITS = {"max_points": 1000, "max_coupon": Decimal("100.00"), "zone": ZoneInfo("Asia/Shanghai")}


def test_a_vip_with_a_manager_goes_to_the_manager_everyone_else_to_the_desk() -> None:
    assert assignee_for("S001", "vip", "am-7") == "am-7"
    assert assignee_for("S001", "vip", None) == "desk:S001"
    assert assignee_for("S001", "member", "am-7") == "desk:S001"
    assert assignee_for("S002", None, None) == "desk:S002"


def test_compensation_is_granted_once_per_complaint() -> None:
    check_compensation(Compensation(points=500), member_id="m1", already_granted_at=None, **LIMITS)
    # The earlier grant's time as the chain's staff saw it: 18:30 UTC is 02:30 the next day there.
    with pytest.raises(CompensationRefused, match=r"already granted on 2026-11-24T02:30\+08:00"):
        check_compensation(Compensation(points=1), member_id="m1", already_granted_at=datetime(2026, 11, 23, 18, 30, tzinfo=UTC), **LIMITS)


def test_a_resolution_without_compensation_is_always_allowed() -> None:
    check_compensation(Compensation(), member_id=None, already_granted_at=datetime(2026, 11, 23, tzinfo=UTC), **LIMITS)


def test_compensation_needs_a_member_who_is_not_erased() -> None:
    with pytest.raises(CompensationRefused, match="anonymous"):
        check_compensation(Compensation(points=10), member_id=None, already_granted_at=None, **LIMITS)
    with pytest.raises(CompensationRefused, match="member is erased"):
        check_compensation(Compensation(points=10), member_id="m1", already_granted_at=None, member_erased=True, **LIMITS)


@pytest.mark.parametrize(
    ("wanted", "field", "says"),
    [(Compensation(points=1001), "compensation.points", "limit of 1000"),
     (Compensation(coupon_value=Decimal("100.01")), "compensation.coupon_value", "limit of 100.00")],
)
def test_compensation_beyond_its_limits_is_bad_input_naming_the_field(wanted: Compensation, field: str, says: str) -> None:
    # Bad input (422), not a conflict: no state of the complaint would let it pass.
    with pytest.raises(Invalid, match=says) as refused:
        check_compensation(wanted, member_id="m1", already_granted_at=None, **LIMITS)
    assert refused.value.field == field


def test_sampling_is_deterministic_and_close_to_the_rate() -> None:
    ids = [f"sale-{i}" for i in range(20_000)]
    picked = [i for i in ids if sampled(i, 0.05)]
    assert 0.04 < len(picked) / len(ids) < 0.06
    assert picked == [i for i in ids if sampled(i, 0.05)]
    assert not any(sampled(i, 0.0) for i in ids[:100]) and all(sampled(i, 1.0) for i in ids[:100])


def test_link_tokens_depend_on_key_invitation_and_nonce_and_only_their_hash_is_kept() -> None:
    token = link_token("k1", "inv-1", "n1")
    assert token == link_token("k1", "inv-1", "n1")
    assert len({token, link_token("k2", "inv-1", "n1"), link_token("k1", "inv-2", "n1"), link_token("k1", "inv-1", "n2")}) == 4
    assert token_hash(token) != token and len(token_hash(token)) == 64


def test_scores() -> None:
    assert percent(3, 4) == Decimal("75.0")
    assert percent(0, 0) is None
    assert nps(promoters=5, detractors=2, answers=10) == Decimal("30.0")
    assert nps(0, 3, 3) == Decimal("-100.0")
    assert nps(0, 0, 0) is None
    assert change(Decimal("30.0"), Decimal("42.5")) == Decimal("-12.5")
    assert change(Decimal("1"), None) is None


def test_an_answer_that_fits_the_survey_passes() -> None:
    check_answer(["service", "price"], True, True, ratings={"service": 5, "price": 4}, nps=9, comment="fine")
    check_answer(["service"], False, False, ratings={"service": 3}, nps=None, comment=None)


def test_an_answer_that_does_not_fit_names_every_field_in_one_refusal() -> None:
    with pytest.raises(AnswerDoesNotFit) as refused:
        check_answer(["service", "price"], False, False, ratings={"service": 5, "after_sales": 2}, nps=7, comment="hm")
    assert isinstance(refused.value, Invalid)
    assert refused.value.problems == [
        ("ratings.price", "required by this survey"),
        ("ratings.after_sales", "not asked by this survey"),
        ("nps", "not asked by this survey"),
        ("comment", "not asked by this survey"),
    ]
    assert str(refused.value) == (
        "ratings.price: required by this survey; ratings.after_sales: not asked by this survey; "
        "nps: not asked by this survey; comment: not asked by this survey"
    )


def test_a_survey_that_asks_for_nps_needs_it() -> None:
    with pytest.raises(AnswerDoesNotFit, match=r"^nps: required by this survey$"):
        check_answer([], True, False, ratings={}, nps=None, comment=None)



@pytest.mark.parametrize(("made", "expires", "last_day"), [
    (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), datetime(2026, 12, 7, 16, 0, tzinfo=UTC), date(2026, 12, 7)),  # 10:00 in Shanghai
    (datetime(2026, 11, 23, 15, 59, tzinfo=UTC), datetime(2026, 12, 7, 16, 0, tzinfo=UTC), date(2026, 12, 7)),  # 23:59
    (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), datetime(2026, 12, 8, 16, 0, tzinfo=UTC), date(2026, 12, 8)),  # the next day
])
def test_a_survey_link_works_to_the_end_of_the_local_day_its_message_names(made, expires, last_day) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    assert invitation_expiry(made, 14, zone) == expires
    assert last_day_to_answer(expires, zone) == last_day
    # An invitation made before the end-of-day rule, expiring at a time of day, keeps its own date.
    assert last_day_to_answer(datetime(2026, 12, 7, 2, 0, tzinfo=UTC), zone) == date(2026, 12, 7)
