"""The member app's error messages in Chinese and English: the one catalogue, keyed by status.

Every refusal the app can meet (under `/app/v1`, the gateway's own or a service's relayed, and on
the routes it signs in and up by, `/identity/v1/members/...`, and the survey link `/surveys/...`)
keeps its `detail` as the service wrote it, for support and logs, and gains `message_zh` and
`message_en`, worded for a customer, and `message` in the language `Accept-Language` prefers
(Chinese unless English ranks higher). A 429 says when to try again where `Retry-After` says so.

Every 422 comes in one shape, whoever refused: `detail` is the list request validation gives, each
problem with `loc`, `msg` and `type`, so the app marks the form's fields from one shape. A rule only
a service checks is answered there as a string (`"birthday: birthday is in the future"`); it is
turned into that list here (`domain.refusals.as_body_errors`), the field it names located where the
app sent it, and the messages name the fields at fault in both languages, each in words
(`FIELDS`: "生日" / "birthday", never the code `birthday` or `store_id`); `detail` keeps the codes
for the app to mark its form by.
"""

import math
import re
from collections.abc import Collection
from typing import Any

from gateway.domain.refusals import as_body_errors, field_names

# What the customer reads, by HTTP status. A status missing here falls back to its class (4xx, 5xx).
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("请求有误，请检查后重试。", "The request is not valid; please check it and try again."),
    401: ("登录已过期，请重新登录。", "Your sign-in has expired; please sign in again."),
    403: ("您无权进行此操作。", "You are not allowed to do this."),
    404: ("未找到相关内容。", "We could not find what you asked for."),
    409: ("当前无法完成此操作。", "This cannot be done right now."),
    410: ("该链接已过期。", "This link has expired."),
    413: ("提交的内容过大。", "What you sent is too large."),
    422: ("填写的信息有误，请检查：{fields}。", "Some details are not valid; please check: {fields}."),
    429: ("操作过于频繁，请{wait}再试。", "Too many attempts; please try again {wait}."),
    503: ("服务暂时不可用，请稍后再试。", "The service is unavailable for the moment; please try again later."),
    504: ("服务响应超时，请稍后查看结果或重试。", "The service took too long to answer; please check or try again later."),
}
FALLBACK = {4: MESSAGES[400], 5: MESSAGES[503]}
# The refusals of what the app does, told apart within their status: by the `error` points names
# each refusal with, else by the sentence the service (or the gateway's sign-in) says, matched from
# its start. Any other refusal gets its status's words. `{wait}` is when to try again (`Retry-After`).
TOLD_APART: tuple[tuple[int, str | None, re.Pattern[str] | None, str, str], ...] = tuple(
    (status, error, re.compile(pattern) if pattern else None, zh, en) for status, error, pattern, zh, en in (
        (409, "RedemptionRefused", None, "积分不足，无法兑换。", "You do not have enough points for this."),
        (409, "OutOfStock", None, "该礼品在您的门店已无库存。", "This gift is out of stock at your store."),
        (409, "GiftUnavailable", None, "该礼品目前不可兑换。", "This gift cannot be reserved at the moment."),
        (409, "InvalidTransition", None, "该预约当前的状态不允许此操作。", "This reservation cannot be changed in its present state."),
        # The home store is the chain's to set (members' SELF_SERVICE_FIELDS): the app sends the member to a desk.
        (409, "StoreClosed", None, "您的所属门店已停止营业：请到任一服务台更换所属门店后再领取礼品。",
         "Your home store has closed: choose another at any service desk to pick up gifts."),
        (409, None, r"no home store is known", "您还没有所属门店：请到任一服务台选择，礼品在所属门店领取。",
         "You have no home store yet: choose one at any service desk; gifts are picked up there."),
        (409, None, r"the membership is still being set up", "您的会员资料正在开通，请稍后再试。",
         "Your membership is still being set up; please try again in a moment."),
        (409, None, r"Idempotency-Key \S+ (?:was|is)", "该请求已用于其他操作，请刷新后重试。",
         "This request was already used for something else; please refresh and try again."),
        (409, None, r"the handling was already rated", "您已评价过本次处理。", "You have already rated how this was handled."),
        (409, None, r"only a resolved complaint can be rated", "投诉处理完成后才能评价。", "You can rate the handling once the complaint is resolved."),
        (409, None, r"cannot reopen a complaint", "只有已解决或已关闭的投诉才能重新打开。", "Only a resolved or closed complaint can be reopened."),
        (409, None, r"this survey was already answered", "您已填写过这份问卷。", "You have already answered this survey."),
        # A member token of an erased member (the gateway's "... has been erased", a service's "this
        # member's account was erased") is no sign-in to renew: signing in again finds no member.
        (401, None, r".*(?:has been erased|account was erased)", "您的会员账户已注销，如需继续使用请重新注册。",
         "Your membership account has been closed; sign up again to go on using the app."),
        # Signing in and up (`/identity/v1/members/...`, gateway.domain.member_codes and member_refresh).
        (401, None, r"the code is not valid", "验证码不正确或已失效，请核对后重试，或重新获取验证码。",
         "The code is wrong or no longer valid; check it, or ask for a new one."),
        (401, None, r"the refresh token is not valid", "登录已失效，请用短信验证码重新登录。",
         "Your sign-in has ended; please sign in again with a code sent by text message."),
        (404, None, r"no member has this phone", "该手机号尚未注册会员，请先注册。",
         "No membership uses this phone number yet; please sign up."),
        (429, None, r"too many codes asked for", "获取验证码的次数过多，请{wait}再试。",
         "Too many codes were asked for; please try again {wait}."),
        (429, None, r"too many wrong codes", "验证码输错的次数过多，请{wait}再试。",
         "Too many wrong codes were entered; please try again {wait}."),
        # The survey link, in the app (`/app/v1/surveys/...`) or opened from the message (`/surveys/...`).
        (404, None, r"no survey invitation for this link", "找不到这份问卷，请检查链接是否完整。",
         "We could not find this survey; please check the link is complete."),
        (410, None, r"this survey link could be answered until", "这份问卷已过了填写期限。",
         "This survey can no longer be answered: its time has passed."),
    ))
NAMED = 5  # the most fields a message names
# Each field the app can be refused, as the customer reads it, by the name `refusals.field_names`
# gives it (a body field as it is, nested parts joined by dots, a query parameter or header with its
# place). The app's own words: the console's `LABELS` are its forms' boxes, worded through its
# gettext catalogue for staff. Every field of the app's bodies, queries and headers has one
# (tests/unit/test_app_messages.py walks the routes); a part not listed is named by the field it is
# a part of (`purposes.bogus` by `purposes`), and a field unknown to the app by its code. A survey's
# questions are labelled by the same words (`ratings.<dimension>`, `nps`, `comment`; `service_layer.app.survey`).
FIELDS: dict[str, tuple[str, str]] = {
    # PATCH /app/v1/me
    "email": ("电子邮箱", "e-mail address"),
    "address": ("地址", "address"),
    "community": ("小区", "residential community"),
    "birthday": ("生日", "birthday"),
    # what the profile shows and the app cannot change (a service desk does): named if sent anyway
    "phone": ("手机号", "phone number"),
    "home_store_id": ("所属门店", "home store"),
    "name": ("姓名", "name"),
    "card_no": ("会员卡号", "card number"),
    "gender": ("性别", "gender"),
    # PUT /app/v1/me/consents
    "purposes": ("授权选项", "consent choices"),
    "purposes.marketing_sms": ("营销短信", "marketing text messages"),
    "purposes.marketing_email": ("营销邮件", "marketing e-mails"),
    "purposes.service_tips_sms": ("服务提示短信", "service tips by text message"),
    "purposes.personalised_offers": ("个性化优惠", "personalised offers"),
    # POST /app/v1/gifts/reservations
    "gift_id": ("礼品", "gift"),
    # POST /app/v1/complaints
    "category": ("投诉类别", "kind of complaint"),
    "severity": ("严重程度", "how serious it is"),
    "description": ("问题描述", "description"),
    "store_id": ("门店", "store"),
    "sale": ("所投诉的购物", "purchase complained about"),
    "sale.store_id": ("购物门店", "store of the purchase"),
    "sale.pos_txn_id": ("小票号", "receipt number"),
    # a complaint's rating and reopening, and a survey's answer
    "score": ("评分", "rating"),
    "comment": ("留言", "comment"),
    "reason": ("重新打开的原因", "reason for reopening"),
    "ratings": ("各项评分", "ratings"),
    "ratings.product_quality": ("商品质量评分", "product quality rating"),
    "ratings.service": ("服务评分", "service rating"),
    "ratings.price": ("价格评分", "price rating"),
    "ratings.store_environment": ("门店环境评分", "store environment rating"),
    "ratings.after_sales": ("售后服务评分", "after-sales service rating"),
    "nps": ("推荐意愿评分", "likelihood to recommend"),
    # signing in and up (POST /identity/v1/members/...): the profile's fields above, and
    "code": ("验证码", "code"),
    "refresh_token": ("登录凭据", "sign-in credential"),
    "consents": ("授权选项", "consent choices"),
    "consents.sms": ("营销短信", "marketing text messages"),
    "consents.email": ("营销邮件", "marketing e-mails"),
    "consents.service_tips_sms": ("服务提示短信", "service tips by text message"),
    # every list's paging, and the key of a reservation or a complaint (the app's own, not typed)
    "query.limit": ("每页条数", "items per page"),
    "query.cursor": ("翻页位置", "page position"),
    "header.Idempotency-Key": ("请求编号", "request reference"),
}
# A 422 whose detail names no field (a sentence of the service's): asked to check, without a list.
NO_FIELD_NAMED = ("填写的信息有误，请检查后重试。", "Some details are not valid; please check them and try again.")


def preferred_language(accept_language: str | None) -> str:
    """"zh" or "en": whichever of the two the header ranks higher (by q, then order); Chinese when
    neither is named or the header is absent, since the app's customers read Chinese first."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if best is None or (q, -position) > (best[0], -best[1]):
            best = (q, position, primary)
    return best[2] if best else "zh"


def localised(status: int, body: Any, accept_language: str | None, query: Collection[str] = (),
              retry_after: str | None = None) -> dict[str, Any]:
    """The refusal's body with the customer's messages added; any other field kept, and `detail`
    too, but for a 422's in the list shape. `query`: the names of the request's query parameters;
    `retry_after`: the answer's `Retry-After`, if any."""
    out = dict(body) if isinstance(body, dict) else {"detail": body}
    if status == 422:
        out["detail"] = as_body_errors(out.get("detail"), query)
    zh, en = MESSAGES.get(status) or FALLBACK.get(status // 100, MESSAGES[400])
    if (told := _told_apart(status, out)) is not None:
        zh, en = told
    # Two parts of one field (two bad keys of `purposes`) are the one field to check.
    labels = list(dict.fromkeys(field_label(name) for name in field_names(out.get("detail"))))
    if status == 422 and not labels:
        zh, en = NO_FIELD_NAMED
    # A few fields are something to check; a body of thousands of bad keys gets the first few.
    shown, more = labels[:NAMED], len(labels) - NAMED
    fields_zh, fields_en = "、".join(z for z, _ in shown), ", ".join(e for _, e in shown)
    wait_zh, wait_en = wait_words(retry_after)
    out["message_zh"] = zh.format(fields=f"{fields_zh} 等 {len(labels)} 项" if more > 0 else fields_zh, wait=wait_zh)
    out["message_en"] = en.format(fields=f"{fields_en} and {more} more" if more > 0 else fields_en, wait=wait_en)
    out["message"] = out["message_en"] if preferred_language(accept_language) == "en" else out["message_zh"]
    return out


def field_label(name: str) -> tuple[str, str]:
    """The field `name` (as `field_names` gives it) in Chinese and English: its own words in
    `FIELDS`, else those of the field it is a part of, else its code, the only name it has."""
    part = name
    while part:
        if part in FIELDS:
            return FIELDS[part]
        part = part.rpartition(".")[0]
    return name, name


def wait_words(retry_after: str | None) -> tuple[str, str]:
    """When to try again, in Chinese and English, from a `Retry-After` in seconds ("5 分钟后" / "in 5
    minutes", a part minute counted whole); "稍后" / "later" without one (or with an HTTP date, which
    the gateway never sends)."""
    try:
        seconds = int(retry_after) if retry_after is not None else None
    except ValueError:
        seconds = None
    if seconds is None or seconds < 0:
        return "稍后", "later"
    if seconds < 60:
        return f" {max(seconds, 1)} 秒后", f"in {max(seconds, 1)} second{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f" {minutes} 分钟后", f"in {minutes} minute{'s' if minutes > 1 else ''}"


def _told_apart(status: int, body: dict[str, Any]) -> tuple[str, str] | None:
    detail = body.get("detail")
    for told_status, error, pattern, zh, en in TOLD_APART:
        if told_status == status and ((error is not None and body.get("error") == error) or (
                pattern is not None and isinstance(detail, str) and pattern.match(detail))):
            return zh, en
    return None
