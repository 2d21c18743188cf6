"""The points ledger on a customer's page says why points moved in the person's language."""

import pytest

from gateway.api.console.i18n import translations
from gateway.api.console.ledger_reasons import ledger_reason

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
