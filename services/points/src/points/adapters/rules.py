"""Earning rule versions as stored rows: JSON bodies with amounts as strings (never floats)."""

from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.tables import EarningRuleRow
from points.domain.earning import EarningRule


def rule_body(rule: EarningRule) -> dict[str, Any]:
    return {
        "points_per_yuan": str(rule.points_per_yuan),
        "channel_rates": {k: str(v) for k, v in rule.channel_rates.items()},
        "store_rates": {k: str(v) for k, v in rule.store_rates.items()},
        "category_multipliers": {k: str(v) for k, v in rule.category_multipliers.items()},
        "min_sale_amount": str(rule.min_sale_amount),
    }


def rule_from_row(row: EarningRuleRow) -> EarningRule:
    body = row.body

    def decimals(key: str) -> dict[str, Decimal]:
        return {k: Decimal(v) for k, v in body.get(key, {}).items()}

    return EarningRule(
        version=row.version,
        effective_from=row.effective_from,
        points_per_yuan=Decimal(body.get("points_per_yuan", "1")),
        channel_rates=decimals("channel_rates"),
        store_rates=decimals("store_rates"),
        category_multipliers=decimals("category_multipliers"),
        min_sale_amount=Decimal(body.get("min_sale_amount", "0")),
    )


async def load_rules(session: AsyncSession) -> list[EarningRule]:
    rows = (await session.exec(select(EarningRuleRow).order_by(col(EarningRuleRow.version)))).all()
    return [rule_from_row(r) for r in rows]
