"""The segment form into campaigns' rule and back, and campaigns' refusal of a part of the rule
located at the form's field it came from."""

import pytest

from gateway.domain.segment_form import build, values, values_of

pytestmark = pytest.mark.unit

FORM = {"name": ["Lapsed key"], "tier": ["vip"], "value_class": ["key", "secondary"], "churn_risk": ["high"],
        "home_store": ["S001, S002，S003"], "spend_min": [" 5000.00 "], "spend_max": [""], "idle_from": ["30"], "idle_to": ["90"],
        "categories": ["fresh,dairy"], "category_days": ["60"], "category_min_spend": ["100.00"], "birth_month": ["3", "4"],
        "consent": ["sms"]}


def test_a_filled_form_is_an_and_of_its_conditions_and_opens_again_as_filled() -> None:
    shown = values(FORM)
    rule = build(shown).rule
    assert rule == {"and": [
        {"field": "tier", "op": "in", "value": ["vip"]},
        {"field": "value_class", "op": "in", "value": ["key", "secondary"]},
        {"field": "churn_risk", "op": "in", "value": ["high"]},
        {"field": "home_store", "op": "in", "value": ["S001", "S002", "S003"]},
        {"field": "birth_month", "op": "in", "value": [3, 4]},
        {"field": "lifetime_spend", "op": "gte", "value": "5000.00"},
        {"field": "days_since_last_purchase", "op": "between", "value": [30, 90]},
        {"field": "categories_bought", "categories": ["fresh", "dairy"], "days": 60, "min_spend": "100.00"},
        {"field": "marketing_consent", "channel": "sms"},
    ]}
    assert values_of(rule) == shown


def test_one_bound_of_days_is_a_comparison_and_typed_text_goes_as_typed() -> None:
    rule = build(values({"idle_to": ["7"], "spend_max": ["abc"]})).rule
    assert rule["and"] == [{"field": "lifetime_spend", "op": "lte", "value": "abc"},
                           {"field": "days_since_last_purchase", "op": "lte", "value": 7}]
    assert values_of(build(values({"idle_from": ["x1"]})).rule) == {"idle_from": "x1"}


def test_an_empty_form_is_an_empty_and_for_campaigns_to_refuse() -> None:
    assert build(values({"name": ["x"]})).rule == {"and": []}


@pytest.mark.parametrize("rule", [
    {"or": [{"field": "tier", "op": "in", "value": ["vip"]}]},
    {"and": [{"not": {"field": "tier", "op": "in", "value": ["vip"]}}]},
    {"and": [{"field": "tier", "op": "not_in", "value": ["vip"]}]},
    {"and": [{"field": "lifetime_spend", "op": "gt", "value": "10.00"}]},
    {"and": [{"field": "lifetime_spend", "op": "gte", "value": "10.00"}, {"field": "lifetime_spend", "op": "gte", "value": "20.00"}]},
    {"and": [{"field": "community", "op": "in", "value": ["C1"]}]},
    {"and": [{"field": "recency", "op": "eq", "value": 5}]},
    {"field": "tier", "op": "in", "value": ["vip"]},
])
def test_a_rule_the_form_has_no_place_for_is_not_shown_in_it(rule: dict) -> None:
    assert values_of(rule) is None


def test_a_saved_rule_with_both_consents_and_no_minimum_spend_opens_in_the_form() -> None:
    rule = {"and": [{"field": "marketing_consent", "channel": "sms"}, {"field": "marketing_consent", "channel": "email"},
                    {"field": "categories_bought", "categories": ["fresh"], "days": 30},
                    {"field": "days_since_last_purchase", "op": "gte", "value": 14}]}
    assert values_of(rule) == {"consent": ["sms", "email"], "categories": ["fresh"], "category_days": "30", "idle_from": "14"}


def test_campaigns_refusals_of_parts_of_the_rule_are_located_at_the_form_s_fields() -> None:
    built = build(values({"tier": ["vip"], "spend_min": ["abc"], "idle_from": ["9"], "idle_to": ["x"],
                          "categories": ["fresh"], "category_days": ["0"], "consent": ["sms"]}))
    # As campaigns names them: the place in the rule as sent.
    said = [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "rule", "and", 1, "value"], "msg": "Input should be a valid decimal", "type": "decimal_parsing"},
        {"loc": ["body", "rule", "and", 2, "value", 1], "msg": "Input should be a valid integer", "type": "int_type"},
        {"loc": ["body", "rule", "and", 3, "days"], "msg": "x", "type": "greater_than_equal"},
        {"loc": ["body", "rule", "and", 3, "categories", 0], "msg": "y", "type": "string_too_long"},  # the same box again
    ]
    assert [e["loc"] for e in built.refusal(said)] == [["body", "segment_name"], ["body", "spend_min"], ["body", "idle_to"],
                                                      ["body", "category_days"], ["body", "categories"]]
    assert built.located(["body", "rule", "and", 0, "value", 0]) == "tier"
    assert built.located(["body", "rule", "and", 2, "value"]) == "idle_from"  # low above high: the pair, named by its first field
    assert built.located(["body", "rule", "and", 2, "value", 0]) == "idle_from"
    assert built.located(["body", "rule", "and", 4, "channel"]) == "consent"
    assert built.located("rule.and.0.value.0".split(".")) == "tier"  # as `rule_stores` names a store
    assert build({}).located(["body", "rule", "and"]) == "rule"
    assert built.located(["body", "rule"]) == "rule"
    assert built.refusal("a sentence") == "a sentence"


def test_both_bounds_of_spend_are_one_range_campaigns_can_refuse_if_low_is_above_high_and_it_opens_again() -> None:
    built = build(values({"spend_min": ["500"], "spend_max": ["100"]}))
    assert built.rule["and"] == [{"field": "lifetime_spend", "op": "between", "value": ["500", "100"]}]
    assert values_of(built.rule) == {"spend_min": "500", "spend_max": "100"}
    refused = ["body", "rule", "and", 0, "value"]
    assert built.located(refused) == "spend_min"  # low above high: the pair, named by its first field
    assert built.located([*refused, 1]) == "spend_max"


def test_a_number_of_more_digits_than_any_field_takes_goes_as_typed() -> None:
    # Python refuses to read an integer of over 4,300 digits: that was a server error.
    many = "9" * 5000
    rule = build(values({"idle_from": [many], "birth_month": [many], "categories": ["fresh"], "category_days": [many]})).rule
    assert rule["and"] == [{"field": "birth_month", "op": "in", "value": [many]},
                           {"field": "days_since_last_purchase", "op": "gte", "value": many},
                           {"field": "categories_bought", "categories": ["fresh"], "days": many}]
