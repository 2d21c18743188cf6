"""Segment rules: what the model accepts and refuses, and what the compiled WHERE selects.

The compiler is run against the read model's own tables in an in-memory SQLite database (no
fixture, no file): the point is which customers a rule selects, not how the SQL reads."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, insert, select

from campaigns.adapters.tables import CustomerPurchaseCategoryRow, CustomerRow
from campaigns.domain.segments import MAX_DEPTH, MAX_NODES, SegmentRule, where
from campaigns.service_layer.segments import CATEGORIES, CUSTOMERS, READ_MODEL

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


def errors(rule: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        SegmentRule.from_json(rule)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


# --- the model


def test_a_rule_round_trips_through_json() -> None:
    rule = {
        "and": [
            {"field": "value_class", "op": "in", "value": ["key"]},
            {"or": [{"field": "churn_risk", "op": "in", "value": ["high", "lost"]},
                    {"not": {"field": "recency", "op": "between", "value": [3, 5]}}]},
            {"field": "categories_bought", "categories": ["fresh"], "days": 30, "min_spend": "100"},
            {"field": "lifetime_spend", "op": "gte", "value": "5000"},
            {"field": "marketing_consent", "channel": "sms"},
        ]
    }
    parsed = SegmentRule.from_json(rule)
    again = SegmentRule.from_json(parsed.to_json())
    assert again == parsed
    assert parsed.to_json()["and"][2]["min_spend"] == "100.00"


@pytest.mark.parametrize(("rule", "where_", "says"), [
    ({"field": "postcode", "op": "in", "value": ["1"]}, ("rule", "field"), "'tier', 'value_class', "),
    ({"field": 5}, ("rule", "field"), "or 'marketing_consent'"),
    ({"field": "tier", "op": "gte", "value": ["vip"]}, ("rule", "op"), "'in' or 'not_in'"),
    ({"field": "tier", "op": "in", "value": ["gold"]}, ("rule", "value", 0), "'member' or 'vip'"),
    ({"field": "tier", "op": "in", "value": []}, ("rule", "value"), "at least 1"),
    ({"field": "birth_month", "op": "in", "value": [13]}, ("rule", "value", 0), "12"),
    ({"field": "recency", "op": "eq", "value": 6}, ("rule", "value"), "less than or equal to 5"),
    ({"field": "recency", "op": "gt", "value": 7}, ("rule", "value"), "less than or equal to 5"),
    ({"field": "recency", "op": "eq", "value": True}, ("rule", "value"), "valid integer"),
    ({"field": "birth_month", "op": "in", "value": [True]}, ("rule", "value", 0), "valid integer"),
    ({"field": "days_since_last_purchase", "op": "gt", "value": False}, ("rule", "value"), "valid integer"),
    ({"field": "recency", "op": "between", "value": [4, 2]}, ("rule", "value"), "between needs low <= high"),
    ({"field": "recency", "op": "between", "value": [1]}, ("rule", "value"), "between takes [low, high]"),
    ({"field": "lifetime_spend", "op": "between", "value": "100"}, ("rule", "value"), "between takes [low, high]"),
    ({"field": "recency", "op": "gte", "value": [1, 2]}, ("rule", "value"), "gte takes one value, not a list"),
    ({"field": "lifetime_spend", "op": "gte", "value": "-1"}, ("rule", "value"), "0"),
    ({"field": "lifetime_spend", "op": "gte", "value": "abc"}, ("rule", "value"), "valid decimal"),
    ({"field": "categories_bought", "categories": ["fresh"]}, ("rule", "days"), "required"),
    ({"field": "categories_bought", "categories": ["fresh"], "days": 0}, ("rule", "days"), "1"),
    ({"field": "marketing_consent", "channel": "wechat"}, ("rule", "channel"), "'sms' or 'email'"),
    ({"field": "channel", "op": "in", "value": ["retail"], "channel": "sms"}, ("rule", "channel"), "not permitted"),
    ({"field": "tier", "op": "in", "value": ["vip"], "extra": 1}, ("rule", "extra"), "not permitted"),
    ({"and": []}, ("rule", "and"), "at least 1"),
    ({"xor": []}, ("rule",), "a rule is"),
    ("tier = vip", ("rule",), "a rule is"),
    # Nested: the place in the rule as written, each index and key as sent.
    ({"and": [{"field": "lifetime_spend", "op": "between", "value": ["100.5", "abc"]}]}, ("rule", "and", 0, "value", 1),
     "valid decimal"),
    ({"or": [{"not": {"field": "tier", "op": "in", "value": ["bogus"]}}]}, ("rule", "or", 0, "not", "value", 0), "'member' or 'vip'"),
    ({"and": [{"field": "tier", "op": "in", "value": ["vip"]}, {"or": [{"field": "postcode"}]}]}, ("rule", "and", 1, "or", 0, "field"),
     "'marketing_consent'"),
    ({"not": {"field": "days_since_last_purchase", "op": "lt", "value": [1, "x"]}}, ("rule", "not", "value"), "lt takes one value"),
    ({"and": [{"field": "tier", "op": "in", "value": ["vip"]}], "or": []}, ("rule", "or"), "not permitted"),
    ({"not": {"xor": 1}}, ("rule", "not"), "a rule is"),
])
def test_bad_rules_are_refused_once_at_the_place_in_the_rule_as_written(rule: Any, where_: tuple[Any, ...], says: str) -> None:
    """One error per mistake, at the keys and indexes the client sent: none of the tags validation
    adds to tell the kinds of node, the fields' conditions or the shapes of a value apart."""
    [(loc, msg)] = errors(rule)
    assert loc == where_ and says in msg, (loc, msg)


def test_depth_and_size_are_bounded() -> None:
    leaf: dict[str, Any] = {"field": "tier", "op": "in", "value": ["vip"]}
    deep: dict[str, Any] = leaf
    for _ in range(MAX_DEPTH - 1):
        deep = {"not": deep}
    SegmentRule.from_json(deep)  # exactly at the limit
    assert "nested deeper" in str(errors({"not": deep}))
    assert "more than" in str(errors({"or": [leaf] * MAX_NODES}))
    SegmentRule.from_json({"or": [leaf] * (MAX_NODES - 1)})


# --- the compiler


@pytest.fixture
def read_model() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    CUSTOMERS.create(engine)
    CATEGORIES.create(engine)
    yield engine
    engine.dispose()


def customer(member_id: str, **values: Any) -> dict[str, Any]:
    row = {c: None for c in CustomerRow.model_fields}
    row.update(member_id=member_id, lifetime_spend=Decimal("0.00"))
    row.update(values)
    return row


def selected(engine: Engine, rule: dict[str, Any], now: datetime = NOW) -> list[str]:
    condition = where(SegmentRule.from_json(rule), READ_MODEL, now, SHANGHAI)
    query = select(CUSTOMERS.c.member_id).where(condition).order_by(CUSTOMERS.c.member_id)
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(query)]


def load(engine: Engine, customers: list[dict[str, Any]], bought: list[dict[str, Any]] | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(CUSTOMERS), customers)
        if bought:
            conn.execute(insert(CATEGORIES), bought)


def test_sets_and_unknown_values(read_model: Engine) -> None:
    load(read_model, [
        customer("a", tier="vip", value_class="key", community_id="C1", home_store_id="S1", channel="retail", birth_month=3),
        customer("b", tier="member", value_class="ordinary", community_id="C2", home_store_id="S2", channel="partner"),
        customer("c"),  # registered, nothing else known yet
    ])
    assert selected(read_model, {"field": "tier", "op": "in", "value": ["vip"]}) == ["a"]
    # Unknown never matches a condition, either way round; `not` of it does.
    assert selected(read_model, {"field": "tier", "op": "not_in", "value": ["vip"]}) == ["b"]
    assert selected(read_model, {"not": {"field": "tier", "op": "in", "value": ["vip"]}}) == ["b", "c"]
    assert selected(read_model, {"field": "birth_month", "op": "in", "value": [3, 4]}) == ["a"]
    assert selected(read_model, {"field": "channel", "op": "in", "value": ["partner"]}) == ["b"]
    assert selected(read_model, {"or": [{"field": "community", "op": "in", "value": ["C1"]},
                                        {"field": "home_store", "op": "in", "value": ["S2"]}]}) == ["a", "b"]
    assert selected(read_model, {"and": [{"field": "value_class", "op": "in", "value": ["key"]},
                                         {"field": "community", "op": "in", "value": ["C2"]}]}) == []


def test_numbers_money_and_consent(read_model: Engine) -> None:
    load(read_model, [
        customer("a", recency=5, monetary=1, lifetime_spend=Decimal("5000.00"), consent_sms=True, consent_email=False),
        customer("b", recency=2, monetary=4, lifetime_spend=Decimal("4999.99"), consent_email=True),
        customer("c", recency=0, lifetime_spend=Decimal("0.00")),
    ])
    assert selected(read_model, {"field": "recency", "op": "gte", "value": 2}) == ["a", "b"]
    assert selected(read_model, {"field": "recency", "op": "between", "value": [0, 2]}) == ["b", "c"]
    assert selected(read_model, {"field": "recency", "op": "ne", "value": 5}) == ["b", "c"]
    assert selected(read_model, {"field": "monetary", "op": "lt", "value": 4}) == ["a"]  # c's is unknown
    assert selected(read_model, {"field": "lifetime_spend", "op": "gte", "value": "5000"}) == ["a"]
    assert selected(read_model, {"field": "lifetime_spend", "op": "between", "value": ["0.01", "4999.99"]}) == ["b"]
    assert selected(read_model, {"field": "marketing_consent", "channel": "sms"}) == ["a"]
    assert selected(read_model, {"field": "marketing_consent", "channel": "email"}) == ["b"]
    assert selected(read_model, {"not": {"field": "marketing_consent", "channel": "sms"}}) == ["b", "c"]


def test_days_since_last_purchase_counts_days(read_model: Engine) -> None:
    load(read_model, [
        customer("d0", last_purchase_at=NOW - timedelta(hours=3)),
        customer("d30", last_purchase_at=NOW - timedelta(days=30, hours=1)),
        customer("d31", last_purchase_at=NOW - timedelta(days=31)),
        customer("never"),
    ])
    days = "days_since_last_purchase"
    assert selected(read_model, {"field": days, "op": "eq", "value": 0}) == ["d0"]
    assert selected(read_model, {"field": days, "op": "eq", "value": 30}) == ["d30"]
    assert selected(read_model, {"field": days, "op": "gte", "value": 30}) == ["d30", "d31"]
    assert selected(read_model, {"field": days, "op": "gt", "value": 30}) == ["d31"]
    assert selected(read_model, {"field": days, "op": "lte", "value": 30}) == ["d0", "d30"]
    assert selected(read_model, {"field": days, "op": "lt", "value": 30}) == ["d0"]
    assert selected(read_model, {"field": days, "op": "between", "value": [1, 30]}) == ["d30"]
    assert selected(read_model, {"field": days, "op": "ne", "value": 30}) == ["d0", "d31"]


def test_days_since_last_purchase_counts_local_calendar_days_not_24_hour_periods(read_model: Engine) -> None:
    """At 15:30 in Shanghai, a purchase at 23:30 last night was 1 day ago (as members counts it),
    one at 00:00 today none, and one at 23:59 the day before yesterday 2."""
    now = datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI)
    load(read_model, [
        customer("today", last_purchase_at=datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI)),
        customer("last-night", last_purchase_at=datetime(2026, 12, 6, 23, 30, tzinfo=SHANGHAI)),
        customer("yesterday-morning", last_purchase_at=datetime(2026, 12, 6, 0, 0, tzinfo=SHANGHAI)),
        customer("two-days", last_purchase_at=datetime(2026, 12, 5, 23, 59, 59, tzinfo=SHANGHAI)),
    ])
    days = "days_since_last_purchase"
    assert selected(read_model, {"field": days, "op": "eq", "value": 0}, now) == ["today"]
    assert selected(read_model, {"field": days, "op": "eq", "value": 1}, now) == ["last-night", "yesterday-morning"]
    assert selected(read_model, {"field": days, "op": "gte", "value": 2}, now) == ["two-days"]
    assert selected(read_model, {"field": days, "op": "lt", "value": 1}, now) == ["today"]


def test_bought_in_the_last_days_begins_at_local_midnight(read_model: Engine) -> None:
    """The last 2 days at 15:30 are yesterday from its midnight and today, in the chain's time."""
    now = datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI)

    def bought(member_id: str, at: datetime) -> dict[str, Any]:
        return {"sale_event_id": member_id, "category": "fresh", "member_id": member_id, "occurred_at": at,
                "amount": Decimal("10.00"), "returned": Decimal("0.00")}

    load(read_model, [customer(m) for m in ("midnight", "before-midnight", "later")], [
        bought("midnight", datetime(2026, 12, 6, 0, 0, tzinfo=SHANGHAI)),
        bought("before-midnight", datetime(2026, 12, 5, 23, 59, 59, tzinfo=SHANGHAI)),  # within 48 hours, yet 2 days ago
        bought("later", datetime(2026, 12, 7, 16, 0, tzinfo=SHANGHAI)),  # not yet
    ])
    assert selected(read_model, {"field": "categories_bought", "categories": ["fresh"], "days": 2}, now) == ["midnight"]
    assert selected(read_model, {"field": "categories_bought", "categories": ["fresh"], "days": 3}, now) == [
        "before-midnight", "midnight"]


def test_categories_bought_in_a_window_with_and_without_a_minimum(read_model: Engine) -> None:
    def bought(member_id: str, sale: str, category: str, days_ago: float, amount: str, returned: str = "0.00") -> dict[str, Any]:
        return {"sale_event_id": sale, "category": category, "member_id": member_id,
                "occurred_at": NOW - timedelta(days=days_ago), "amount": Decimal(amount), "returned": Decimal(returned)}

    assert set(CustomerPurchaseCategoryRow.model_fields) == {c.name for c in CATEGORIES.columns}
    load(read_model, [customer(m) for m in ("fresh", "old", "returned", "two", "grain")], [
        bought("fresh", "s1", "fresh", 3, "120.00"),
        bought("old", "s2", "fresh", 45, "500.00"),
        bought("returned", "s3", "fresh", 2, "80.00", returned="80.00"),
        bought("two", "s4", "fresh", 5, "60.00"), bought("two", "s5", "dairy", 6, "50.00", returned="10.00"),
        bought("grain", "s6", "grain", 1, "300.00"),
    ])
    fresh = {"field": "categories_bought", "categories": ["fresh"], "days": 30}
    assert selected(read_model, fresh) == ["fresh", "two"]  # returned in full is not bought
    assert selected(read_model, {**fresh, "days": 60}) == ["fresh", "old", "two"]
    assert selected(read_model, {**fresh, "min_spend": "100"}) == ["fresh"]
    # Together across the listed categories, net of returns: 60 + 40.
    assert selected(read_model, {**fresh, "categories": ["fresh", "dairy"], "min_spend": "100.00"}) == ["fresh", "two"]
    assert selected(read_model, {**fresh, "categories": ["fresh", "dairy"], "min_spend": "100.01"}) == ["fresh"]
    assert selected(read_model, {"not": fresh}) == ["grain", "old", "returned"]
