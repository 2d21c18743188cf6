"""The stores a segment rule names, found wherever its conditions sit, for the gateway to check."""

from gateway.domain.rule_stores import MAX_NODES, rule_stores


def test_each_home_store_of_a_rule_is_found_with_its_place_at_any_depth() -> None:
    rule = {"and": [{"field": "home_store", "op": "in", "value": ["S001", "S002"]},
                    {"or": [{"field": "tier", "op": "in", "value": ["gold"]},
                            {"not": {"field": "home_store", "op": "not_in", "value": ["S009"]}}]}]}
    assert rule_stores(rule) == [("rule.and.0.value.0", "S001"), ("rule.and.0.value.1", "S002"),
                                 ("rule.and.1.or.1.not.value.0", "S009")]
    assert rule_stores({"field": "home_store", "op": "in", "value": ["S003"]}) == [("rule.value.0", "S003")]


def test_what_is_no_rule_or_no_store_id_names_no_store() -> None:
    # Left to campaigns, which refuses each with its own reason.
    assert rule_stores(None) == rule_stores("S001") == rule_stores({"and": "S001"}) == []
    assert rule_stores({"field": "home_store", "op": "in", "value": "S001"}) == []
    assert rule_stores({"field": "home_store", "op": "in", "value": [17, None, "", "S 01"]}) == []
    # A categories condition holds codes, not stores.
    assert rule_stores({"field": "categories", "op": "in", "value": ["S001"]}) == []


def test_a_rule_of_more_nodes_than_campaigns_takes_is_walked_no_further() -> None:
    wide = {"or": [{"field": "home_store", "op": "in", "value": [f"S{i:03d}"]} for i in range(MAX_NODES * 2)]}
    assert 0 < len(rule_stores(wide)) < MAX_NODES
