"""The console's form of a new earning-rule version, read into points' `POST /v1/earning-rules` body.

A version replaces the whole rule, so the form starts from the version in force (or the latest
one scheduled) and the admin changes what differs. Rates per channel, per store and per category
are typed one to a line, `name = rate`, as a chain's rule sheet lists them; excluded categories
one to a line or separated by commas. What the rates may be is points' rule: the form only reads
the lines, and points' refusal of a part (`channel_rates.partner`) is shown on its box.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from gateway.domain.refusals import at_form_fields
from shared.errors import Invalid
from shared.zones import typed_moment

# name = rate, a line each (a full-width ＝ too: the form is typed on Chinese keyboards)
RATES = ("channel_rates", "store_rates", "category_multipliers")
TEXTS = ("points_per_yuan", "min_sale_amount", "rule_reason", "effective_from")
_LINE = re.compile(r"^\s*(?P<name>[^=＝]+?)\s*[=＝]\s*(?P<rate>\S+)\s*$")
_SEPARATORS = re.compile(r"[,，\n]")


def values(form: Mapping[str, list[str]]) -> dict[str, str]:
    """The form's boxes as typed, to show the form again."""
    return {name: (form.get(name) or [""])[0] for name in (*TEXTS, *RATES, "excluded_categories")}


def values_of(version: Mapping[str, Any] | None) -> dict[str, str]:
    """A version's rule in the form's boxes: the start of the new one left empty (from now), the
    reason too (the new one's own); categories earning nothing listed as excluded."""
    if version is None:
        return {"points_per_yuan": "1", "min_sale_amount": "0.00"}
    multipliers = version.get("category_multipliers") or {}
    return {
        "points_per_yuan": str(version["points_per_yuan"]), "min_sale_amount": str(version["min_sale_amount"]),
        "channel_rates": _lines(version.get("channel_rates") or {}), "store_rates": _lines(version.get("store_rates") or {}),
        "category_multipliers": _lines({c: m for c, m in multipliers.items() if Decimal(str(m)) != 0}),
        "excluded_categories": "\n".join(c for c, m in multipliers.items() if Decimal(str(m)) == 0),
    }


def _lines(rates: Mapping[str, Any]) -> str:
    return "\n".join(f"{name} = {rate}" for name, rate in rates.items())


def body(shown: Mapping[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """Points' body of the boxes; a box the form cannot read is refused naming it (a line without
    its `=`, a name twice, a start that is no date and time). Empty boxes are left out: points
    takes its defaults (from now, no rates of their own)."""
    sent: dict[str, Any] = {"reason": shown.get("rule_reason", "").strip()}
    for name in ("points_per_yuan", "min_sale_amount"):
        if text := shown.get(name, "").strip():
            sent[name] = text
    if (start := typed_moment("effective_from", shown.get("effective_from", ""), zone)) is not None:
        sent["effective_from"] = start.isoformat()
    for name in RATES:
        if rates := _rates(name, shown.get(name, "")):
            sent[name] = rates
    if excluded := [c.strip() for c in _SEPARATORS.split(shown.get("excluded_categories", "")) if c.strip()]:
        sent["excluded_categories"] = excluded
    return sent


def _rates(name: str, text: str) -> dict[str, str]:
    rates: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if (found := _LINE.fullmatch(line)) is None:
            raise Invalid(name, f"line {number} is not 'name = rate': {line.strip()}")
        if found["name"] in rates:
            raise Invalid(name, f"{found['name']} is given twice")
        rates[found["name"]] = found["rate"]
    return rates


def located(said: Any) -> Any:
    """Points' refusal with each part at the form's box (`refusals.at_form_fields`): a rule of the
    whole body at the box it names (a part of the rates' box, `channel_rates.partner`, marks the
    box, `console.js`); the reason at its own box."""
    return at_form_fields(said, {"reason": "rule_reason"})


def _starts(version: Mapping[str, Any]) -> tuple[datetime, int]:
    """A version's place among the others, as points ranks them (`points.domain.earning.rule_in_force`):
    by when it starts, then by number. A version added later may start earlier than one scheduled."""
    return datetime.fromisoformat(str(version["effective_from"])), int(version["version"])


def in_force(versions: list[Mapping[str, Any]], now: datetime) -> tuple[int | None, set[int]]:
    """The version pricing sales now (the latest started), and those scheduled to start later."""
    started = [v for v in versions if _starts(v)[0] <= now]
    current = max(started, key=_starts)["version"] if started else None
    return current, {v["version"] for v in versions if _starts(v)[0] > now}


def latest(versions: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The version starting last, scheduled or in force: what a new version starts from."""
    return max(versions, key=_starts) if versions else None
