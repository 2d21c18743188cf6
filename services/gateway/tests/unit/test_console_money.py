"""Amounts on the console's pages read as yuan: ¥, the thousands grouped, two decimals."""

from zoneinfo import ZoneInfo

import pytest

from gateway.api.console.render import environment


@pytest.mark.parametrize(("sent", "shown"), [
    ("163332.1", "¥163,332.10"), ("54.40", "¥54.40"), ("0", "¥0.00"), ("-12.5", "-¥12.50"), (None, ""), ("", ""),
    ("n/a", "n/a"), ("NaN", "NaN"),  # no amount: shown as it came
])
def test_an_amount_is_shown_in_yuan_with_two_decimals(sent: object, shown: str) -> None:
    assert environment("zh-CN").from_string("{{ v|money }}").render(v=sent) == shown


def test_a_customer_page_shows_their_spend_and_purchases_in_yuan() -> None:
    line = {"kind": "sale", "occurred_at": "2026-12-06T00:12:00+00:00", "store_id": "S001", "pos_txn_id": "T1",
            "refund_id": None, "name": "金龙鱼大米", "category": "grain", "qty": "2", "unit_price": "1250", "amount": "2500"}
    page = environment("zh-CN").get_template("staff/infobase_purchases.html").render(
        lang="zh-CN", languages={}, menu=[], path="/console", back="/console", user=None, csrf="", zone=ZoneInfo("Asia/Shanghai"),
        body={"member_id": "m1", "member_name": "王小明", "card_no": "8800000012345", "items": [line], "filters": {}},
        filters={}, totals={"amount": "5000"},
    )
    assert "¥1,250.00" in page and "¥2,500.00" in page and "¥5,000.00" in page
    # The category as the till named it, in the person's words where the console knows the code.
    assert "<td>粮食</td>" in page and "<td>grain</td>" not in page


@pytest.mark.parametrize(("ranked", "value", "shown"), [("spend", "163332.1", "¥163,332.10"), ("households", "42", ">42<")])
def test_the_communities_chart_shows_spend_in_yuan_as_the_table_beside_it(ranked: str, value: str, shown: str) -> None:
    page = environment("zh-CN").get_template("staff/infobase_communities.html").render(
        lang="zh-CN", languages={}, menu=[], path="/console", back="/console", user=None, csrf="", zone=ZoneInfo("Asia/Shanghai"),
        bars=[{"label": "明月小区", "width": 100.0, "value": value}], ranked=ranked, body={"items": [], "filters": {}},
        filters={}, totals={},
    )
    chart = page[page.find("<svg"):page.find("</svg>")]
    assert shown in chart


@pytest.mark.parametrize(("sent", "shown"), [
    (12643, "12,643"), ("10000", "10,000"), (-1500, "-1,500"), (0, "0"), (None, ""), ("", ""), ("n/a", "n/a"),
])
def test_points_are_shown_with_their_thousands_grouped_as_money_is(sent: object, shown: str) -> None:
    assert environment("zh-CN").from_string("{{ v|points }}").render(v=sent) == shown
