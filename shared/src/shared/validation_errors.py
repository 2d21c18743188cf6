"""The 422 answer every service gives: FastAPI's usual shape, without echoing the input back.

FastAPI's default handler returns each error's whole `input`, so a 50 MB body that fails
validation comes back as a still larger answer, and an input the JSON encoder cannot write (a lone
surrogate) turns the 422 into a 500. Here each error keeps `loc`, `msg` and `type` (which field,
and why) plus a short, always encodable excerpt of the input and of the `ctx` values; and a body
with thousands of bad fields (50,000 unknown keys fit in the body limit) gets the first
`MAX_ERRORS` and a count of the rest, not an answer eight times its size.

A secret is never part of an excerpt, as answers end up in logs, proxies' included: not the value
of a field whose name says it holds one (`secret_name`: a password, a token, a one-time code,
whatever its case), not a field the route does not take (most often a misspelt one, `Password`),
and not a body refused whole for not being an object (the login's fields sent as a list).
"""

import json
import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

EXCERPT_CHARS = 100
MESSAGE_CHARS = 300
MAX_ERRORS = 50
# Passwords, one-time codes and tokens: the error names the field and the reason, not the value.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "totp")
_SECRET_NAMES = frozenset({"code", "sms_code", "otp", "pin"})
HIDDEN = "(hidden)"


def secret_name(name: object) -> bool:
    """Whether a field of this name holds a secret (`access_token`, `Password`, `client_secret`, `code`)."""
    if not isinstance(name, str):
        return False
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str | int | float | bool | None:
    """A short, JSON-safe rendering: small scalars as they are, anything else as truncated text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return value
        # str() of a huge integer is slow and refused past 4,300 digits: describe it instead.
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif not isinstance(value, str):
        try:
            value = json.dumps(value, default=str, ensure_ascii=False)
        except ValueError:  # e.g. an integer too long to print inside it
            value = f"a {type(value).__name__}"
    return _clip(value, limit)


def _clip(text: str, limit: int) -> str:
    # Lone surrogates cannot be encoded as UTF-8: show them escaped instead of failing the answer.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + "…"


# A length checked after a validator (`Annotated[Text, StringConstraints(max_length=...)]`) is
# reported by pydantic as a collection's: "Value should have at most 200 items". For text the
# answer says characters, with the type and limit a plain string field's error has.
_TEXT_LENGTH = {"too_long": ("string_too_long", "max_length", "at most"),
                "too_short": ("string_too_short", "min_length", "at least")}


def as_text_length(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error of a text's length worded as one (characters, not items)."""
    if (kind := _TEXT_LENGTH.get(error.get("type", ""))) is None or not isinstance(error.get("input"), str):
        return error
    type_, limit_name, bound = kind
    limit = (error.get("ctx") or {}).get(limit_name)
    characters = "character" if limit == 1 else "characters"
    return {**error, "type": type_, "msg": f"String should have {bound} {limit} {characters}", "ctx": {limit_name: limit}}


def summarise(errors: Any) -> list[dict[str, Any]]:
    errors = list(errors)
    not_taken = {tuple(e.get("loc", ())) for e in errors if e.get("type") == "extra_forbidden"}
    summary = []
    for error in map(as_text_length, errors[:MAX_ERRORS]):
        item: dict[str, Any] = {
            "loc": [excerpt(part) for part in error.get("loc", ())],
            "msg": _clip(str(error.get("msg", "")), MESSAGE_CHARS),
            "type": error.get("type", "value_error"),
        }
        if "input" in error:
            item["input"] = HIDDEN if _hides_input(error) else excerpt(_without_secrets(_without_fields_not_taken(error, not_taken)))
        if ctx := error.get("ctx"):
            item["ctx"] = {key: excerpt(value) for key, value in ctx.items()}
        summary.append(item)
    if len(errors) > MAX_ERRORS:  # an entry of the same shape, naming no field
        summary.append({"loc": [], "msg": f"{len(errors) - MAX_ERRORS} more problems not listed", "type": "too_many_errors"})
    return summary


def _hides_input(error: dict[str, Any]) -> bool:
    loc = tuple(error.get("loc", ()))
    whole_body = loc == ("body",) and not isinstance(error.get("input"), dict | None)
    return error.get("type") == "extra_forbidden" or whole_body or any(map(secret_name, loc))


def _without_fields_not_taken(error: dict[str, Any], not_taken: set[tuple[Any, ...]]) -> Any:
    """An object echoed by another error of it (a field missing beside a misspelt one, a rule
    across its fields) shows the fields the route does not take by name only: their own errors
    hide their values, and so does this one."""
    value = error["input"]
    if not isinstance(value, dict) or not not_taken:
        return value
    loc = tuple(error.get("loc", ()))
    at = loc[:-1] if error.get("type") == "missing" else loc  # a missing field's input is its object
    return {key: HIDDEN if (*at, key) in not_taken else item for key, item in value.items()}


def _without_secrets(value: Any) -> Any:
    """A whole body refused as one (a rule across its fields) shows its secrets' names, not their
    values. Our secrets are top-level fields of the bodies that carry them."""
    if isinstance(value, dict) and any(map(secret_name, value)):
        return {key: HIDDEN if secret_name(key) else item for key, item in value.items()}
    return value


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(tuple(e.get("loc", ())) == ("body",) and e.get("type") != "missing" for e in errors) and not _json_sent(request):
        # FastAPI reads a JSON body only when the request says it is JSON; otherwise the body is
        # refused as "a valid dictionary" whatever it holds, which sends the caller to the wrong field.
        sent = request.headers.get("content-type") or "no Content-Type"
        return JSONResponse({"detail": f"Content-Type: send the body as application/json (the request said {sent})"},
                            status_code=415)
    return JSONResponse({"detail": summarise(errors)}, status_code=422)


def _json_sent(request: Request) -> bool:
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))
