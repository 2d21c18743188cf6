"""The member app's messages: which language a header prefers, and what a refusal becomes."""

import pytest

from gateway.domain.app_messages import MESSAGES, localised, preferred_language

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("header", "language"), [
    (None, "zh"),
    ("", "zh"),
    ("en", "en"),
    ("en-GB,en;q=0.9", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en;q=0.5,zh;q=0.8", "zh"),
    ("zh;q=0.4,en;q=0.6", "en"),
    ("fr,de", "zh"),
    ("fr,en;q=0.1", "en"),
    ("en;q=0,zh;q=0.1", "zh"),
    ("en;q=oops", "zh"),
])
def test_the_preferred_language_is_the_higher_ranked_of_chinese_and_english(header, language) -> None:
    assert preferred_language(header) == language


def test_a_refusal_keeps_its_detail_and_fields_and_gains_both_messages() -> None:
    body = localised(409, {"detail": "balance 10 is below the price 10000", "error": "insufficient_points"}, "en")
    assert body["detail"] == "balance 10 is below the price 10000" and body["error"] == "insufficient_points"
    assert (body["message_zh"], body["message_en"]) == MESSAGES[409]
    assert body["message"] == MESSAGES[409][1]
    assert localised(409, {"detail": "x"}, "zh-CN")["message"] == MESSAGES[409][0]


def test_a_validation_error_names_each_field_at_fault_once_in_both_languages() -> None:
    detail = [{"loc": ["body", "gift_id"], "msg": "Field required"}, {"loc": ["query", "limit"], "msg": "too big"},
              {"loc": ["body", "gift_id"], "msg": "again"}]
    body = localised(422, {"detail": detail}, None)
    assert body["detail"] == detail
    assert body["message_zh"].endswith("gift_id, query.limit。") and "gift_id, query.limit" in body["message_en"]
    assert body["message"] == body["message_zh"]


def test_an_unknown_status_falls_back_to_its_class_and_a_bare_body_becomes_the_detail() -> None:
    assert localised(418, "teapot", "en")["message_en"] == MESSAGES[400][1]
    assert localised(418, "teapot", "en")["detail"] == "teapot"
    assert localised(502, {"detail": "bad gateway"}, "en")["message_en"] == MESSAGES[503][1]
