"""The member app's error messages in Chinese and English: the one catalogue, keyed by status.

Every refusal under `/app/v1` (the gateway's own, or a service's relayed) keeps its `detail` as the
service wrote it, for support and logs, and gains `message_zh` and `message_en`, worded for a
customer, and `message` in the language `Accept-Language` prefers (Chinese unless English ranks
higher). A validation error names the fields at fault in both languages, whichever of the two shapes
the service answered (`domain.refusals`).
"""

from typing import Any

from gateway.domain.refusals import field_names

# What the customer reads, by HTTP status. A status missing here falls back to its class (4xx, 5xx).
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("请求有误，请检查后重试。", "The request is not valid; please check it and try again."),
    401: ("登录已过期，请重新登录。", "Your sign-in has expired; please sign in again."),
    403: ("您无权进行此操作。", "You are not allowed to do this."),
    404: ("未找到相关内容。", "We could not find what you asked for."),
    409: ("当前无法完成此操作（例如积分不足、库存不足或已处理）。",
          "This cannot be done right now (for example too few points, out of stock, or already done)."),
    410: ("该链接已过期。", "This link has expired."),
    413: ("提交的内容过大。", "What you sent is too large."),
    422: ("填写的信息有误，请检查：{fields}。", "Some details are not valid; please check: {fields}."),
    429: ("操作过于频繁，请稍后再试。", "Too many attempts; please try again later."),
    503: ("服务暂时不可用，请稍后再试。", "The service is unavailable for the moment; please try again later."),
    504: ("服务响应超时，请稍后查看结果或重试。", "The service took too long to answer; please check or try again later."),
}
FALLBACK = {4: MESSAGES[400], 5: MESSAGES[503]}
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


def localised(status: int, body: Any, accept_language: str | None) -> dict[str, Any]:
    """The refusal's body with the customer's messages added; `detail` and any other field kept."""
    out = dict(body) if isinstance(body, dict) else {"detail": body}
    zh, en = MESSAGES.get(status) or FALLBACK.get(status // 100, MESSAGES[400])
    names = field_names(out.get("detail"))
    if status == 422 and not names:
        zh, en = NO_FIELD_NAMED
    fields = ", ".join(names)
    out["message_zh"], out["message_en"] = zh.format(fields=fields), en.format(fields=fields)
    out["message"] = out["message_en"] if preferred_language(accept_language) == "en" else out["message_zh"]
    return out
