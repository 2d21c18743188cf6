"""The product categories typed in the console's forms: a category's code, or a name the console
shows for it in any of its languages, read as the code; anything else kept as typed."""

import pytest

from gateway.domain.segment_form import Categories, build, values

pytestmark = pytest.mark.unit

CHINESE = {"fresh": "生鲜", "tobacco": "烟草"}
ENGLISH = {"fresh": "Fresh food", "tobacco": "Tobacco"}
KNOWN = Categories(("fresh", "tobacco"), (lambda code: CHINESE[code], lambda code: ENGLISH[code]))


@pytest.mark.parametrize(("typed", "code"), [
    ("fresh", "fresh"), ("生鲜", "fresh"), ("Fresh food", "fresh"), ("fresh FOOD", "fresh"), ("烟草", "tobacco"),
])
def test_a_known_category_is_read_as_its_code_whichever_way_it_is_typed(typed: str, code: str) -> None:
    assert KNOWN.code(typed) == code


@pytest.mark.parametrize("typed", ["彩票", "FRESH", "bakery"])
def test_what_names_no_known_category_is_kept_as_typed(typed: str) -> None:
    assert KNOWN.code(typed) == typed


def test_the_segment_form_sends_the_codes_of_the_categories_typed() -> None:
    rule = build(values({"categories": ["生鲜, 彩票，fresh"], "category_days": ["30"]}), KNOWN).rule
    assert rule == {"and": [{"field": "categories_bought", "categories": ["fresh", "彩票"], "days": 30}]}
