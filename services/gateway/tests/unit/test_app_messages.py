"""The member app's messages: which language a header prefers, and what a refusal becomes."""

import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from gateway.api.app_http import PREFIX, SIGN_IN
from gateway.config import Settings
from gateway.domain.app_messages import (
    FIELDS,
    MESSAGES,
    NO_FIELD_NAMED,
    field_label,
    localised,
    preferred_language,
    wait_words,
)
from gateway.domain.member_codes import InvalidCode, NotAMember
from gateway.domain.member_refresh import InvalidRefreshToken
from gateway.domain.refusals import as_body_errors, field_names
from gateway.main import create_app
from shared.auth import generate_keypair
from tests.support.routes import api_routes

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
    assert (body["message_zh"], body["message_en"]) == MESSAGES[409] == ("当前无法完成此操作。", "This cannot be done right now.")
    assert body["message"] == MESSAGES[409][1]
    assert localised(409, {"detail": "x"}, "zh-CN")["message"] == MESSAGES[409][0]


@pytest.mark.parametrize(("body", "zh", "en"), [
    ({"detail": "balance 10 is below the price of 500 points", "error": "RedemptionRefused"}, "积分不足", "enough points"),
    ({"detail": "gift g1 is out of stock at store S001", "error": "OutOfStock"}, "无库存", "out of stock"),
    ({"detail": "no home store is known for this member yet: gifts are picked up at the home store"}, "到任一服务台选择", "at any service desk"),
    ({"detail": "the membership is still being set up: try again in a moment"}, "正在开通", "still being set up"),
    ({"detail": "store S003 is closed: no gift can be picked up there (a service desk can move the member's home store)",
      "error": "StoreClosed"}, "已停止营业", "has closed"),
    ({"detail": "the handling was already rated on 2026-12-04T16:20+00:00"}, "已评价", "already rated"),
    ({"detail": "only a resolved complaint can be rated; this one is in_progress"}, "处理完成后", "once the complaint is resolved"),
    ({"detail": "cannot reopen a complaint that is in_progress: it is still open"}, "重新打开", "can be reopened"),
    ({"detail": "this survey was already answered on 2026-12-04T16:20+00:00"}, "已填写", "already answered"),
    ({"detail": "Idempotency-Key k-1 was already used for a different complaint"}, "已用于其他操作", "already used"),
])
def test_each_conflict_of_the_app_is_told_for_what_it_is(body, zh, en) -> None:
    told = localised(409, body, "en")
    assert zh in told["message_zh"] and en in told["message_en"] and told["detail"] == body["detail"]


@pytest.mark.parametrize("detail", ["invalid token: the member this token was issued to has been erased",
                                    "this member's account was erased"])
def test_an_erased_members_token_is_told_the_account_is_closed_not_to_sign_in_again(detail) -> None:
    told = localised(401, {"detail": detail}, "en")
    assert "已注销" in told["message_zh"] and "closed" in told["message"] and "sign in again" not in told["message"]
    assert told["detail"] == detail
    assert localised(401, {"detail": "invalid token"}, "en")["message"] == MESSAGES[401][1]


SIGN_IN_REFUSALS = [
    (404, str(NotAMember()), None, "该手机号尚未注册会员，请先注册。", "No membership uses this phone number yet; please sign up."),
    (401, str(InvalidCode()), None, "验证码不正确或已失效，请核对后重试，或重新获取验证码。",
     "The code is wrong or no longer valid; check it, or ask for a new one."),
    (401, str(InvalidRefreshToken()), None, "登录已失效，请用短信验证码重新登录。",
     "Your sign-in has ended; please sign in again with a code sent by text message."),
    (429, "too many codes asked for; retry later", "1800", "获取验证码的次数过多，请 30 分钟后再试。",
     "Too many codes were asked for; please try again in 30 minutes."),
    (429, "too many codes asked for; retry later", None, "获取验证码的次数过多，请稍后再试。",
     "Too many codes were asked for; please try again later."),
    (429, "too many wrong codes; retry later", "61", "验证码输错的次数过多，请 2 分钟后再试。",
     "Too many wrong codes were entered; please try again in 2 minutes."),
    (429, "too many requests", "1", "操作过于频繁，请 1 秒后再试。", "Too many attempts; please try again in 1 second."),
    (404, "no survey invitation for this link", None, "找不到这份问卷，请检查链接是否完整。",
     "We could not find this survey; please check the link is complete."),
    (410, "this survey link could be answered until the end of 2026-12-31", None, "这份问卷已过了填写期限。",
     "This survey can no longer be answered: its time has passed."),
]


@pytest.mark.parametrize(("status", "detail", "retry_after", "zh", "en"), SIGN_IN_REFUSALS)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_each_refusal_of_signing_in_is_worded_for_the_customer_in_both_languages(
        status, detail, retry_after, zh, en, language) -> None:
    told = localised(status, {"detail": detail}, language, retry_after=retry_after)
    assert (told["detail"], told["message_zh"], told["message_en"]) == (detail, zh, en)
    assert told["message"] == (en if language == "en" else zh)


def test_the_sentences_of_one_status_are_not_told_for_another() -> None:
    # The sign-in's 404 sentence under another status, a 409's `error` under a 404: the status's words.
    assert localised(409, {"detail": str(NotAMember())}, "en")["message_en"] == MESSAGES[409][1]
    assert localised(404, {"detail": "x", "error": "OutOfStock"}, "en")["message_en"] == MESSAGES[404][1]


@pytest.mark.parametrize(("retry_after", "words"), [
    (None, ("稍后", "later")), ("soon", ("稍后", "later")), ("Wed, 21 Oct 2026 07:28:00 GMT", ("稍后", "later")),
    ("0", (" 1 秒后", "in 1 second")), ("59", (" 59 秒后", "in 59 seconds")), ("60", (" 1 分钟后", "in 1 minute")),
    ("3599", (" 60 分钟后", "in 60 minutes")),
])
def test_when_to_try_again_is_said_from_retry_after(retry_after, words) -> None:
    assert wait_words(retry_after) == words


def test_a_validation_error_names_each_field_at_fault_once_in_both_languages() -> None:
    detail = [{"loc": ["body", "gift_id"], "msg": "Field required"}, {"loc": ["query", "limit"], "msg": "too big"},
              {"loc": ["body", "gift_id"], "msg": "again"}]
    body = localised(422, {"detail": detail}, None)
    assert body["detail"] == detail
    assert body["message_zh"].endswith("礼品、每页条数。") and body["message_en"].endswith("please check: gift, items per page.")
    assert body["message"] == body["message_zh"]


def test_an_unknown_status_falls_back_to_its_class_and_a_bare_body_becomes_the_detail() -> None:
    assert localised(418, "teapot", "en")["message_en"] == MESSAGES[400][1]
    assert localised(418, "teapot", "en")["detail"] == "teapot"
    assert localised(502, {"detail": "bad gateway"}, "en")["message_en"] == MESSAGES[503][1]


@pytest.mark.parametrize(("detail", "zh", "en", "locs"), [
    ("store_id: required (the caller has no store)", "门店", "store", [["body", "store_id"]]),
    ("ratings.product_quality: required by this survey", "商品质量评分", "product quality rating",
     [["body", "ratings", "product_quality"]]),
    ("ratings.service: required by this survey; nps: required by this survey; comment: not asked by this survey",
     "服务评分、推荐意愿评分、留言", "service rating, likelihood to recommend, comment",
     [["body", "ratings", "service"], ["body", "nps"], ["body", "comment"]]),
    # A field the app never sends has no words of its own: its code is the only name it has.
    ("channel: members answer by app or web, not phone", "channel", "channel", [["body", "channel"]]),
    ("lines.0.sku: unknown", "lines.0.sku", "lines.0.sku", [["body", "lines", 0, "sku"]]),
])
def test_a_validation_error_written_as_a_string_becomes_the_list_validation_gives_naming_its_fields(detail, zh, en, locs) -> None:
    body = localised(422, {"detail": detail}, "en")
    assert [error["loc"] for error in body["detail"]] == locs
    assert all(error["type"] == "value_error" and error["msg"] and not error["msg"].endswith(";") for error in body["detail"])
    assert body["message_en"] == f"Some details are not valid; please check: {en}."
    assert body["message_zh"] == f"填写的信息有误，请检查：{zh}。"


def test_a_string_naming_a_query_parameter_the_request_sent_is_located_in_the_query() -> None:
    body = localised(422, {"detail": "cursor: complaints are listed up to the newest 500"}, "en", query={"cursor", "limit"})
    assert body["detail"] == [{"loc": ["query", "cursor"], "msg": "complaints are listed up to the newest 500",
                               "type": "value_error", "input": None}]
    # As request validation names a query parameter: with its place.
    assert body["message_en"] == "Some details are not valid; please check: page position."


def test_only_a_422_changes_shape() -> None:
    assert localised(409, {"detail": "store_id: closed"}, "en")["detail"] == "store_id: closed"
    assert localised(400, {"detail": "nps: bad"}, "en")["detail"] == "nps: bad"


@pytest.mark.parametrize("detail", [
    "the survey no longer takes answers", "invalid token: expired", "gift rice-cooker: sold out", None, [], {"x": 1},
])
def test_a_validation_error_naming_no_field_asks_to_check_without_a_list(detail) -> None:
    body = localised(422, {"detail": detail}, "en")
    assert (body["message_zh"], body["message_en"]) == NO_FIELD_NAMED
    assert "-" not in body["message_en"]
    # Still the list shape: one entry at the body, or none where the service listed none.
    assert isinstance(body["detail"], list) and all(error["loc"] == ["body"] and error["msg"] for error in body["detail"])


def test_a_reason_with_a_colon_of_its_own_is_not_split_into_fields() -> None:
    assert field_names("kind: must be one of: gift, coupon") == ["kind"]
    assert field_names("to: must not be before from; from: e.g. 2026-01-01") == ["to", "from"]


def test_a_mappings_bad_key_is_named_by_the_key_without_the_validation_marker() -> None:
    detail = [{"loc": ["body", "purposes", "bogus", "[key]"], "msg": "Input should be 'sms' or 'email'", "type": "enum"}]
    assert field_names(detail) == ["purposes.bogus"]
    assert "[key]" not in localised(422, {"detail": detail}, "en")["message_en"]


def test_a_string_detail_is_answered_in_the_shape_of_body_validation() -> None:
    assert as_body_errors("birthday: birthday is in the future") == [
        {"loc": ["body", "birthday"], "msg": "birthday is in the future", "type": "value_error", "input": None}]
    assert [e["loc"] for e in as_body_errors("name: too long; email: not an address")] == [["body", "name"], ["body", "email"]]
    assert as_body_errors("something went wrong") == [
        {"loc": ["body"], "msg": "something went wrong", "type": "value_error", "input": None}]
    assert as_body_errors(None) == [{"loc": ["body"], "msg": "the request was refused without a reason", "type": "value_error", "input": None}]
    assert as_body_errors({"why": "x"}) == [{"loc": ["body"], "msg": '{"why": "x"}', "type": "value_error", "input": None}]
    listed = [{"loc": ["body", "address"], "msg": "String should have at least 1 character", "type": "string_too_short"}]
    assert as_body_errors(listed) is listed


def test_a_body_that_is_no_json_names_no_field() -> None:
    # FastAPI locates it at the character where parsing stopped, which is no field of the form.
    detail = [{"loc": ["body", 19], "msg": "JSON decode error", "type": "json_invalid", "ctx": {"error": "Expecting value"}}]
    assert field_names(detail) == []
    body = localised(422, {"detail": detail}, "en")
    assert (body["message_zh"], body["message_en"]) == NO_FIELD_NAMED


def test_a_message_names_the_first_few_fields_of_many() -> None:
    detail = [{"loc": ["body", f"k{n}"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"} for n in range(5000)]
    body = localised(422, {"detail": detail}, "en")
    assert body["message_en"] == "Some details are not valid; please check: k0, k1, k2, k3, k4 and 4995 more."
    assert body["message_zh"] == "填写的信息有误，请检查：k0、k1、k2、k3、k4 等 5000 项。"
    five = localised(422, {"detail": detail[:5]}, "en")
    assert five["message_en"] == "Some details are not valid; please check: k0, k1, k2, k3, k4."


def _types(annotation: Any) -> Iterator[Any]:
    """The types a field's annotation may hold: Optional's and a union's members, Annotated's base."""
    if get_origin(annotation) in (Union, types.UnionType):
        for member in get_args(annotation):
            yield from _types(member)
    elif hasattr(annotation, "__metadata__"):  # Annotated[...]
        yield from _types(annotation.__origin__)
    else:
        yield annotation


def _body_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field of a body as `field_names` names it: nested parts joined by dots, a mapping with
    a fixed set of keys (`purposes`, `ratings`) by each key too, as validation locates its value."""
    for name, info in model.model_fields.items():
        here = prefix + (info.alias or name)
        yield here
        for kind in _types(info.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _body_fields(kind, here + ".")
            elif get_origin(kind) is dict:
                keys, _ = get_args(kind)
                for key_type in _types(keys):
                    if get_origin(key_type) is Literal:
                        yield from (f"{here}.{key}" for key in get_args(key_type))


def _app_fields(tmp_path: Path) -> set[str]:
    """What the app's routes can refuse, from their declarations: body fields, query parameters and
    headers, each as the app's 422 names it."""
    _, public = generate_keypair()
    app = create_app(Settings(environment="test", data_dir=tmp_path, jwt_public_key=public))
    fields: set[str] = set()
    for route in api_routes(app.routes):
        # The app's routes, and those it signs in and up by (the survey link's body is feedback's to check).
        if not route.path.startswith((PREFIX, SIGN_IN)):
            continue
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            pending.extend(dependant.dependencies)
            for param in dependant.body_params:
                fields |= set(_body_fields(param.field_info.annotation))
            fields |= {f"query.{param.alias}" for param in dependant.query_params}
            fields |= {f"header.{param.alias}" for param in dependant.header_params}
            # A path parameter is an id the app was given; as text it is never refused (an unknown one is 404).
            assert all(param.field_info.annotation is str for param in dependant.path_params), route.path
    return fields


def test_every_field_the_app_can_refuse_is_named_in_words_in_both_languages(tmp_path: Path) -> None:
    fields = _app_fields(tmp_path)
    # The walk reaches every kind of field: a body's, a nested body's, a mapping's key, a query's, a header's.
    assert {"birthday", "store_id", "sale.pos_txn_id", "purposes.marketing_sms", "ratings.service",
            "query.cursor", "header.Idempotency-Key", "code", "refresh_token", "consents.service_tips_sms"} <= fields
    assert sorted(fields - FIELDS.keys()) == []
    for field in fields:
        zh, en = FIELDS[field]
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[A-Za-z_]", zh), (field, zh)
        assert re.fullmatch(r"[a-z][a-z -]*[a-z]", en), (field, en)


def test_a_part_without_words_of_its_own_is_named_by_its_field_and_one_unknown_to_the_app_by_its_code() -> None:
    assert field_label("purposes.bogus") == FIELDS["purposes"]
    assert field_label("sale.till") == FIELDS["sale"]
    assert field_label("k0") == ("k0", "k0")
    # Two bad keys of one mapping are the one field to check.
    detail = [{"loc": ["body", "purposes", key, "[key]"], "msg": "bad", "type": "literal_error"} for key in ("a", "b")]
    assert localised(422, {"detail": detail}, "en")["message_en"] == "Some details are not valid; please check: consent choices."
