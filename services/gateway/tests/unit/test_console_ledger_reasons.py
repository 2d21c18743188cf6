"""The points ledger on a customer's page says why points moved in the person's language."""

import pytest

from gateway.api.console.i18n import translations
from gateway.api.console.ledger_reasons import ledger_reason, named
from gateway.domain.ledger_wording import Names

ZH = translations("zh-CN").gettext
EN = translations("en").gettext


@pytest.mark.parametrize(("reason", "shown"), [
    ("purchase S001/U5-T3", "消费 S001/U5-T3"),
    ("purchase S001/T9 (below the minimum sale amount)", "消费 S001/T9（未达到积分的最低消费金额）"),
    ("purchase S001/T9 (imported without points) (capped at 5000 points a sale)",
     "消费 S001/T9（导入的历史销售，不积分）（每笔最多积 5000 分）"),
    ("return S001/R1 of sale S001/T9", "退货 S001/R1（原小票 S001/T9）"),
    ("return S001/R1 of sale S001/T9 (the goods earned 50; 20 of the sale's points had already expired)",
     "退货 S001/R1（原小票 S001/T9）（退回商品曾积 50 分；该笔销售已有 20 分过期）"),
    ("gift g-kettle at S002", "在 S002 兑换赠品 g-kettle"),
    ("cancelled gift g-kettle: 顾客改主意", "取消赠品 g-kettle：顾客改主意"),
    ("points valid until 2026-12-31 expired", "有效期至 2026-12-31 的积分已过期"),
    ("complaint compensation", "投诉补偿"),
])
def test_the_reasons_points_writes_are_worded_in_chinese(reason: str, shown: str) -> None:
    assert ledger_reason(reason, ZH) == shown


@pytest.mark.parametrize("reason", ["店庆加赠", "goodwill (manager approved)", "purchase", "（已注销）"])
def test_a_reason_staff_typed_or_not_known_is_shown_as_written(reason: str) -> None:
    assert ledger_reason(reason, ZH) == reason


def test_english_reads_the_reason_as_points_wrote_it() -> None:
    assert ledger_reason("purchase S001/T9 (capped at 5000 points a sale)", EN) == "purchase S001/T9 (capped at 5000 points a sale)"


NAMES = Names({"S001": "城东大卖场", "S003": "城西店"}, {"cushion": ("靠枕", "Cushion")})


@pytest.mark.parametrize(("reason", "shown"), [
    ("gift cushion at S001", "在 城东大卖场 兑换赠品 靠枕"),
    ("cancelled gift cushion: 顾客改主意", "取消赠品 靠枕：顾客改主意"),
    ("purchase S003/S003-D20261207-002867", "消费 城西店/S003-D20261207-002867"),
    ("return S001/R1 of sale S003/T9", "退货 城东大卖场/R1（原小票 城西店/T9）"),
])
def test_the_gifts_and_stores_a_reason_names_are_shown_by_their_names(reason: str, shown: str) -> None:
    assert ledger_reason(reason, ZH, NAMES) == shown


def test_in_english_a_gift_is_named_by_its_english_name() -> None:
    assert ledger_reason("gift cushion at S001", EN, NAMES, english=True) == "gift Cushion at 城东大卖场"


def test_a_gift_or_store_without_a_name_is_shown_by_its_id() -> None:
    assert ledger_reason("gift kettle at S009", ZH, NAMES) == "在 S009 兑换赠品 kettle"


def test_the_stores_and_gifts_a_page_of_reasons_names_are_found_together() -> None:
    reasons = ["purchase S003/T1 (capped at 5000 points a sale)", "return S001/R1 of sale S002/T9", "gift cushion at S004",
               "cancelled gift kettle: 顾客改主意", "店庆加赠", "complaint compensation"]
    assert named(reasons) == ({"S001", "S002", "S003", "S004"}, {"cushion", "kettle"})
