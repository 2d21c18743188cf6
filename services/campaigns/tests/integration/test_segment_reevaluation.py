"""A preview over a few thousand customers on PostgreSQL selects exactly the customers a plain
Python reading of the same rule selects (written here independently of the compiler)."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from campaigns.domain.segments import SegmentRule
from campaigns.service_layer import segments
from campaigns.service_layer.segments import CATEGORIES, CUSTOMERS

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the chain's zone in the tests' settings
CUSTOMER_COUNT = 3000
CATS = ("fresh", "dairy", "grain", "snacks", "household")


def population(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    customers, bought = [], []
    for i in range(CUSTOMER_COUNT):
        known = rng.random() > 0.1  # a tenth have no attributes yet
        c: dict[str, Any] = {
            "member_id": f"m{i:05d}",
            "channel": rng.choice(["retail", "partner"]), "home_store_id": rng.choice(["S001", "S002", "S003"]),
            "community_id": rng.choice(["C1", "C2", "C3", None]),
            "tier": rng.choice(["member", "vip"]),
            "value_class": rng.choice(["key", "secondary", "ordinary", "none"]) if known else None,
            "recency": rng.randint(0, 5) if known else None, "frequency": rng.randint(0, 5) if known else None,
            "monetary": rng.randint(0, 5) if known else None,
            "churn_risk": rng.choice(["low", "medium", "high", "lost", "unknown"]) if known else None,
            "birth_month": rng.choice([None, *range(1, 13)]),
            "last_purchase_at": NOW - timedelta(hours=rng.randint(1, 24 * 200)) if rng.random() > 0.15 else None,
            "lifetime_spend": Decimal(rng.randint(0, 2_000_000)).scaleb(-2),
            "consent_sms": rng.choice([True, False, None]), "consent_email": rng.choice([True, False, None]),
            "erased_at": NOW - timedelta(days=1) if rng.random() < 0.03 else None,
        }
        customers.append(c)
        for s in range(rng.randint(0, 4)):
            amount = Decimal(rng.randint(100, 30_000)).scaleb(-2)
            bought.append({
                "sale_event_id": f"sale-{i}-{s}", "category": rng.choice(CATS), "member_id": c["member_id"],
                "occurred_at": NOW - timedelta(hours=rng.randint(1, 24 * 90)), "amount": amount,
                "returned": amount if rng.random() < 0.1 else Decimal("0.00"),
            })
    return customers, bought


def _day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def _days_since(at: datetime) -> int:
    """Local calendar days, as members counts them."""
    return (_day(NOW) - _day(at)).days


def _compare(op: str, actual: Any, value: Any) -> bool:
    if actual is None:
        return False
    return {
        "eq": lambda: actual == value, "ne": lambda: actual != value, "gt": lambda: actual > value,
        "gte": lambda: actual >= value, "lt": lambda: actual < value, "lte": lambda: actual <= value,
        "between": lambda: value[0] <= actual <= value[1],
    }[op]()


COLUMN = {"tier": "tier", "value_class": "value_class", "churn_risk": "churn_risk", "community": "community_id",
          "home_store": "home_store_id", "channel": "channel", "birth_month": "birth_month"}


def matches(rule: dict[str, Any], c: dict[str, Any], bought: list[dict[str, Any]]) -> bool:
    if "and" in rule:
        return all(matches(r, c, bought) for r in rule["and"])
    if "or" in rule:
        return any(matches(r, c, bought) for r in rule["or"])
    if "not" in rule:
        return not matches(rule["not"], c, bought)
    field = rule["field"]
    if field in COLUMN:
        actual = c[COLUMN[field]]
        return actual is not None and ((actual in rule["value"]) == (rule["op"] == "in"))
    if field in ("recency", "frequency", "monetary"):
        return _compare(rule["op"], c[field], rule["value"])
    if field == "lifetime_spend":
        value = [Decimal(v) for v in rule["value"]] if isinstance(rule["value"], list) else Decimal(rule["value"])
        return _compare(rule["op"], c["lifetime_spend"], value)
    if field == "days_since_last_purchase":
        at = c["last_purchase_at"]
        return at is not None and _compare(rule["op"], _days_since(at), rule["value"])
    if field == "marketing_consent":
        return c[f"consent_{rule['channel']}"] is True
    if field == "categories_bought":
        mine = [b for b in bought if b["category"] in rule["categories"]
                and _days_since(b["occurred_at"]) < rule["days"] and b["occurred_at"] <= NOW]
        if "min_spend" not in rule:
            return any(b["amount"] > b["returned"] for b in mine)
        return sum((b["amount"] - b["returned"] for b in mine), Decimal(0)) >= Decimal(rule["min_spend"])
    raise AssertionError(field)


RULES = [
    {"and": [{"field": "value_class", "op": "in", "value": ["key"]},
             {"field": "churn_risk", "op": "in", "value": ["high", "lost"]},
             {"field": "community", "op": "in", "value": ["C1"]}]},
    {"or": [{"field": "tier", "op": "in", "value": ["vip"]},
            {"not": {"field": "recency", "op": "between", "value": [2, 4]}}]},
    {"and": [{"field": "categories_bought", "categories": ["fresh", "dairy"], "days": 30, "min_spend": "150"},
             {"field": "marketing_consent", "channel": "sms"}]},
    {"and": [{"field": "days_since_last_purchase", "op": "gte", "value": 60},
             {"field": "lifetime_spend", "op": "between", "value": ["1000", "15000"]},
             {"not": {"field": "home_store", "op": "not_in", "value": ["S001", "S002"]}}]},
    {"or": [{"field": "birth_month", "op": "in", "value": [11, 12]},
            {"and": [{"field": "channel", "op": "in", "value": ["partner"]},
                     {"field": "categories_bought", "categories": ["snacks"], "days": 7}]},
            {"field": "monetary", "op": "lte", "value": 1}]},
]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_previews_match_a_python_reading_of_the_rule(cmp) -> None:
    customers, bought = population(random.Random(20261123))
    async with cmp.app.state.sessions() as s, s.begin():
        await s.exec(insert(CUSTOMERS), params=customers)  # type: ignore[call-overload]
        await s.exec(insert(CATEGORIES), params=bought)  # type: ignore[call-overload]
    by_member: dict[str, list[dict[str, Any]]] = {}
    for b in bought:
        by_member.setdefault(b["member_id"], []).append(b)

    for rule in RULES:
        expected = sorted(
            c["member_id"] for c in customers
            if c["erased_at"] is None and matches(rule, c, by_member.get(c["member_id"], []))
        )
        assert 0 < len(expected) < CUSTOMER_COUNT, rule  # a rule that selects all or none proves little
        async with cmp.app.state.commands() as uow:
            preview = await segments.preview(uow, SegmentRule.from_json(rule), NOW)
            audience = await segments.audience(uow, SegmentRule.from_json(rule), NOW)
        assert preview.size == len(expected), rule
        assert [s.member_id for s in preview.sample] == expected[:20]
        assert audience == expected
