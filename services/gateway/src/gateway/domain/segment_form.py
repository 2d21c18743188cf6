"""The console's segment form and campaigns' segment rules, each into the other: the one home of
that translation.

The form holds the conditions marketing uses most, all of which a customer must meet (an `and`
of conditions). Its values go to campaigns as typed: campaigns checks them (an amount, a number of
days, a store) and names the part of the rule it refuses as it was sent, `rule.and.2.value`;
`Built.located` names the form's field that part came from instead, for the refusal to be shown
on it. A number field's digits are sent as a number, anything else as typed, for campaigns to
refuse.

A saved rule the form can show (`values_of`) opens in the form for editing; any other (an `or`, a
`not`, nesting, a condition or comparison the form has no field for, made through the API) is not
taken apart here: the console shows it as it is and it is changed through the API.

A product category is typed as its code or as a name the console shows for it (`Categories`, the
earning-rule form's reading of its category boxes too): the tills send the code, so a name kept as
typed would match no purchase.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.domain.form_numbers import typed_number
from gateway.domain.refusals import at_form_fields

# Fields holding several values (a select of several, or ids separated by commas or spaces).
LISTS = ("tier", "value_class", "churn_risk", "birth_month", "home_store", "categories", "consent")
# Fields of one value.
SINGLES = ("spend_min", "spend_max", "idle_from", "idle_to", "category_days", "category_min_spend")
# The set conditions the form has a field of its own for: the rule's field -> the form's.
_SETS = {"tier": "tier", "value_class": "value_class", "churn_risk": "churn_risk", "home_store": "home_store",
         "birth_month": "birth_month"}
# Fields typed as ids: several in one box, separated by commas (either width) or white space.
_TYPED_LISTS = ("home_store", "categories")
_SEPARATORS = re.compile(r"[,，\s]+")
CONSENT_CHANNELS = ("sms", "email")


class Categories:
    """The product categories the console knows, each by its code and by the names it shows for it,
    one per language (`生鲜`, `Fresh food` for `fresh`). The one place a typed category is read."""

    def __init__(self, codes: Iterable[str] = (), wordings: Iterable[Callable[[str], str]] = ()) -> None:
        self.codes = tuple(codes)
        # Names are matched whatever their case: the English ones are capitalised as words are.
        self._by_name = {wording(code).casefold(): code for wording in wordings for code in self.codes}

    def code(self, typed: str) -> str:
        """The code of a category typed as its code or a name shown for it; anything else as typed,
        as a chain's tills may send codes of their own. A code is matched exactly: a till's codes
        may differ by case alone."""
        if typed in self.codes:
            return typed
        return self._by_name.get(typed.strip().casefold(), typed)


NONE_KNOWN = Categories()  # every category kept as typed


@dataclass(frozen=True)
class Built:
    """A rule made of a form, with the form's field of each part of it (`places[i]`: the part of
    the i-th condition, "" for the condition as a whole, -> the field)."""

    rule: dict[str, Any]
    places: list[dict[str, str]] = field(default_factory=list)

    def located(self, loc: list[Any]) -> str:
        """The form's field of a refusal's location, a place in the rule as sent (`["body", "rule",
        "and", 2, "value", 0]`), as campaigns names it and `rule_stores` does (`rule.and.2.value.0`)."""
        parts = [str(p) for p in loc if p != "body"]
        if not parts or parts[0] != "rule":
            # The segment's name has a box of its own name: the console's label of a `name` is a person's.
            return ".".join(["segment_name", *parts[1:]] if parts[:1] == ["name"] else parts)
        if parts[1:2] != ["and"] or len(parts) < 3 or not parts[2].isdigit() or int(parts[2]) >= len(self.places):
            return "rule"  # the rule as a whole (no condition at all)
        place = self.places[int(parts[2])]
        attribute, rest = (parts[3], parts[4:]) if len(parts) > 3 else ("", [])
        if attribute == "value" and rest and f"value.{rest[0]}" in place:
            return place[f"value.{rest[0]}"]  # a bound of a range: its own box
        return place.get(attribute) or place[""]

    def refusal(self, said: Any) -> Any:
        """Campaigns' list of errors with each located at the form's field (once per field, the
        first: a box is put right as one), or what it said when it is no list: a string naming the
        segment's `name` (a 409 of a name taken) at its box."""
        if not isinstance(said, list):
            return at_form_fields(said, {"name": "segment_name"})
        seen: set[str] = set()
        errors = []
        for error in said:
            if not isinstance(error, Mapping):
                continue
            name = self.located(list(error.get("loc") or []))
            if name in seen:
                continue
            seen.add(name)
            errors.append({**error, "loc": ["body", *name.split(".")]})
        return errors or said


def values(form: Mapping[str, list[str]]) -> dict[str, Any]:
    """The form's values as the page shows them again: lists for the fields of several values
    (ids typed in one box split apart), the others' text trimmed; empty ones left out."""
    shown: dict[str, Any] = {}
    for name in LISTS:
        items = [item for given in form.get(name) or [] for item in
                 (_SEPARATORS.split(given) if name in _TYPED_LISTS else [given.strip()])]
        if items := list(dict.fromkeys(item for item in items if item)):
            shown[name] = items
    for name in SINGLES:
        if text := (form.get(name) or [""])[0].strip():
            shown[name] = text
    return shown


def build(shown: Mapping[str, Any], categories: Categories = NONE_KNOWN) -> Built:
    """The rule of the form's values (`values`): each condition filled in, all of them to be met;
    the categories by their codes (a name `categories` knows read as its code, each code once)."""
    conditions: list[dict[str, Any]] = []
    places: list[dict[str, str]] = []

    def add(condition: dict[str, Any], place: dict[str, str]) -> None:
        conditions.append(condition)
        places.append(place)

    for rule_field, name in _SETS.items():
        if items := shown.get(name):
            value = [typed_number(i) for i in items] if name == "birth_month" else list(items)
            add({"field": rule_field, "op": "in", "value": value}, {"": name})
    # A range of two boxes: both filled, one `between` (campaigns refuses a low above the high,
    # which as two conditions made a segment nobody can be in); one filled, a bound.
    for rule_field, low_name, high_name, typed in (("lifetime_spend", "spend_min", "spend_max", str),
                                                   ("days_since_last_purchase", "idle_from", "idle_to", typed_number)):
        low, high = shown.get(low_name), shown.get(high_name)
        if low is not None and high is not None:
            add({"field": rule_field, "op": "between", "value": [typed(low), typed(high)]},
                {"": low_name, "value.0": low_name, "value.1": high_name})
        elif low is not None or high is not None:
            name = low_name if low is not None else high_name
            add({"field": rule_field, "op": "gte" if low is not None else "lte", "value": typed(shown[name])}, {"": name})
    if any(name in shown for name in ("categories", "category_days", "category_min_spend")):
        # Left out when not given, for campaigns to name what is missing or to take no minimum.
        codes = dict.fromkeys(categories.code(typed) for typed in shown.get("categories", []))
        bought: dict[str, Any] = {"field": "categories_bought", "categories": list(codes)}
        if "category_days" in shown:
            bought["days"] = typed_number(shown["category_days"])
        if "category_min_spend" in shown:
            bought["min_spend"] = shown["category_min_spend"]
        add(bought, {"": "categories", "categories": "categories", "days": "category_days", "min_spend": "category_min_spend"})
    for channel in shown.get("consent", []):
        add({"field": "marketing_consent", "channel": channel}, {"": "consent"})
    return Built({"and": conditions}, places)


def values_of(rule: Any) -> dict[str, Any] | None:
    """The form's values of a saved rule, or None when the form cannot show it: anything but an
    `and` of conditions it has fields for, each field once (two minimums of spend, or a spend
    `gt`, have no place on it)."""
    if not isinstance(rule, Mapping) or set(rule) != {"and"} or not isinstance(rule["and"], list):
        return None
    shown: dict[str, Any] = {}
    for condition in rule["and"]:
        if not isinstance(condition, Mapping):
            return None
        found = _fields(condition)
        if found is None:
            return None
        for name, value in found.items():
            if name == "consent" and value[0] not in shown.get(name, []):
                shown[name] = [*shown.get(name, []), *value]
            elif name in shown:
                return None
            else:
                shown[name] = value
    return shown


def _fields(condition: Mapping[str, Any]) -> dict[str, Any] | None:
    """The form's fields of one condition, or None when it has none for it."""
    kind, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if kind in _SETS and op == "in" and isinstance(value, list):
        return {_SETS[kind]: [str(v) for v in value]}
    for rule_field, low, high in (("lifetime_spend", "spend_min", "spend_max"), ("days_since_last_purchase", "idle_from", "idle_to")):
        if kind == rule_field and op == "between" and isinstance(value, list) and len(value) == 2:
            return {low: str(value[0]), high: str(value[1])}
        if kind == rule_field and op in ("gte", "lte") and not isinstance(value, list):
            return {low if op == "gte" else high: str(value)}
    if kind == "categories_bought" and set(condition) <= {"field", "categories", "days", "min_spend"}:
        found = {"categories": [str(c) for c in condition.get("categories") or []], "category_days": str(condition.get("days"))}
        return found | ({"category_min_spend": str(condition["min_spend"])} if condition.get("min_spend") is not None else {})
    if kind == "marketing_consent" and condition.get("channel") in CONSENT_CHANNELS:
        return {"consent": [condition["channel"]]}
    return None
