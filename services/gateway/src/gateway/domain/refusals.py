"""Which fields a service's 422 names, and why, read from either of the two shapes services answer.

Request validation answers FastAPI's list, `[{"loc": ["body", "gift_id"], "msg", "type", ...}]`. A
rule only the service can check answers a string, `"<field>: <reason>"`: `shared.errors.Invalid`
writes it so (`Invalid("store_id", "required")`), routes raise `HTTPException(422, "to: must not be
before from")` in the same form, and feedback joins several with "; " (`"ratings.service: required
by this survey; nps: required by this survey"`). Read here, once: for the app's messages, and to answer
every 422 of the member app (the sign-up included) in the list shape.
"""

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from shared.errors import Invalid

# A field as the services name them: a parameter or body field, nested parts joined by dots.
_FIELD = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
# A field opens the string or follows the "; " that joins one problem to the next. A reason with a
# colon of its own ("must be one of: a, b") is not split there: no "; " stands before it.
_NAMED = re.compile(rf"(?:^|;\s+)({_FIELD}): ")


# A refusal said as a sentence about a value already in use, not as "field: reason" (members' 409s,
# the gateway's staff accounts): the box holding that value is still the one to change, so it is
# named as a "field: reason" names its own. Matched whole, as the console words these sentences.
SENTENCES_NAMING = (
    (re.compile(r"phone is already registered to another member"), ("phone",)),
    (re.compile(r"card_no is already registered to another member"), ("card_no",)),
    (re.compile(r"phone or card_no is already registered"), ("phone", "card_no")),
    (re.compile(r"login \S+ is taken(?:, or a creation under this Idempotency-Key is under way: send it again)?"), ("login",)),
)


def _named_by_sentence(detail: str) -> list[str]:
    """The fields a sentence of `SENTENCES_NAMING` names; none for any other sentence."""
    return next((list(fields) for pattern, fields in SENTENCES_NAMING if pattern.fullmatch(detail.strip())), [])


def problems(detail: str) -> list[tuple[str, str]]:
    """`(field, reason)` of each problem a string detail names; none when it does not open with a
    field (`"invalid token: ..."`, a sentence): such a detail names no field, and none is guessed."""
    starts = list(_NAMED.finditer(detail))
    if not starts or starts[0].start() != 0:
        return []
    ends = [s.start() for s in starts[1:]] + [len(detail)]
    return [(s.group(1), detail[s.end():end].strip()) for s, end in zip(starts, ends, strict=True)]


def field_names(detail: Any) -> list[str]:
    """The fields a 422 names, in order, once each: `body.` left out (`gift_id`), `query.` kept
    (`query.limit`), as the app shows them. A mapping's bad key is named by the key itself
    (`purposes.bogus`), without the `[key]` validation appends to say it was the key."""
    if isinstance(detail, str):
        names = [field for field, _ in problems(detail)] or _named_by_sentence(detail)
    elif isinstance(detail, list):
        # A body that is no JSON is located at the character where parsing stopped: no field. A
        # rule of the whole body names its field in its message (`at_form_fields`): that field.
        names = [
            ".".join(str(part) for part in (error.get("loc") or []) if part not in ("body", "[key]"))
            for error in at_form_fields(detail) if isinstance(error, Mapping) and error.get("type") != "json_invalid"
        ]
    else:
        names = []
    return list(dict.fromkeys(name for name in names if name))


def as_body_errors(detail: Any, query: Collection[str] = ()) -> list[Any]:
    """A 422's detail in the shape request validation gives: a list, one entry per problem, each
    with `loc`, `msg` and `type`, so a caller reads every bad field from one shape. A list is
    already that shape. A string's fields are located as validation locates them: a field the
    request sent as a query parameter (named in `query`) at `["query", field]`, any other in the
    body, a dotted name split into its parts (`ratings.service` at `["body", "ratings", "service"]`,
    as pydantic locates a nested field). A detail naming no field is one entry at `["body"]` with
    the whole detail as its message."""
    if isinstance(detail, list):
        return detail
    if not isinstance(detail, str):
        detail = "the request was refused without a reason" if detail is None else json.dumps(detail, ensure_ascii=False)
    named = problems(detail)
    if not named:
        return [{"loc": ["body"], "msg": detail, "type": "value_error", "input": None}]
    return [{"loc": _located(field, query), "msg": reason, "type": "value_error", "input": None} for field, reason in named]


def _located(field: str, query: Collection[str]) -> list[str | int]:
    if field in query:
        return ["query", field]
    return ["body", *(int(part) if part.isdigit() else part for part in field.split("."))]


# A rule of a whole body that names its field first ("Value error, max_discount: needs its cap"):
# pydantic locates it at the body itself.
_BODY_RULE = re.compile(rf"(?:Value error, )?(?P<field>{_FIELD}): (?P<why>.*)", re.DOTALL)


def at_form_fields(detail: Any, renamed: Mapping[str, str] | None = None) -> Any:
    """A service's 422 list with each problem at the form's field: a rule of the whole body at the
    field its message names first (its own words, not the type's, then the reason), and a field the
    form names otherwise (`renamed`: the service's name -> the form's, where the console's label of
    the service's name is another form's) at the form's. A string naming its fields first (a 409's
    "name: a segment named 'x' exists already") has those renamed the same way; anything else is
    as it was."""
    if isinstance(detail, str) and renamed and (fields := problems(detail)):
        return "; ".join(f"{renamed.get(field, field)}: {why}" for field, why in fields)
    if not isinstance(detail, list):
        return detail
    located = []
    for error in detail:
        if not isinstance(error, Mapping):
            continue
        parts = [str(p) for p in error.get("loc") or [] if p != "body"]
        if not parts and (named := _BODY_RULE.fullmatch(str(error.get("msg") or ""))):
            error, parts = {"msg": named["why"], "type": "service_rule"}, named["field"].split(".")
        elif not (parts and renamed and parts[0] in renamed):
            located.append(error)  # where the service put it (a query parameter stays one)
            continue
        if parts and renamed and parts[0] in renamed:
            parts[0] = renamed[parts[0]]
        located.append({**error, "loc": ["body", *parts]})
    return located or detail


class FormProblems(Invalid):
    """The console's refusal of several of a form's boxes at once, in the list shape request
    validation gives (`[{"loc": ["body", field], "msg", "type", ...}]`), for the person to put all
    of them right in one go rather than learn of each after the last is mended. Each problem keeps
    what it was given (a `type` and `ctx` are worded from those); a dotted field (`count.pillow`)
    is located at its parts, as validation locates a nested field."""

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self.errors = [{"type": "value_error", "input": None, **error,
                        "loc": ["body", *(part for part in error["loc"] if part != "body")]} for error in errors]
        first, *_ = self.errors
        # The log's line names every problem, as a string refusal joins them (`problems`).
        super().__init__(".".join(str(p) for p in first["loc"][1:]), "; ".join(
            [str(first["msg"])] + [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in self.errors[1:]]))

    def detail(self) -> Any:
        return self.errors
