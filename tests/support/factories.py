"""Test data builders: valid by default, overridden field by field."""

import itertools
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_seq = itertools.count(1)


def member_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "name": "王小明",
        "phone": f"139{n:08d}",
        "community": "阳光花园",
        "address": f"阳光花园{n}幢1单元101室",
        "channel": "retail",
        "consents": {"sms": True},
    }
    body.update(overrides)
    return body


def line(sku: str = "6901234567890", qty: str = "2", unit_price: str = "39.90", **overrides: Any) -> dict[str, Any]:
    body = {
        "sku": sku, "name": "金龙鱼大米 5kg", "category": "grain", "qty": qty, "unit_price": unit_price,
        "amount": str((Decimal(qty) * Decimal(unit_price)).quantize(Decimal("0.01"))),
    }
    body.update(overrides)
    return body


def sale_body(store_id: str = "S001", *, member: dict | None = None, lines: list | None = None, **overrides: Any) -> dict[str, Any]:
    lines = lines if lines is not None else [line()]
    body: dict[str, Any] = {
        "store_id": store_id,
        "pos_txn_id": f"{store_id}-T01-{next(_seq):06d}",
        "occurred_at": datetime(2026, 11, 23, 10, 15, tzinfo=UTC).isoformat(),
        "lines": lines,
        "total": str(sum(Decimal(ln["amount"]) for ln in lines)),
        "payment": "wechat",
    }
    if member is not None:
        body["member"] = member
    body.update(overrides)
    return body


def refund_body(sale: dict[str, Any], *, lines: list | None = None, **overrides: Any) -> dict[str, Any]:
    lines = lines if lines is not None else sale["lines"]
    body = {
        "store_id": sale["store_id"],
        "refund_id": f"R-{next(_seq):06d}",
        "pos_txn_id": sale["pos_txn_id"],
        "occurred_at": datetime(2026, 11, 24, 9, 0, tzinfo=UTC).isoformat(),
        "lines": lines,
        "amount": str(sum(Decimal(ln["amount"]) for ln in lines)),
    }
    body.update(overrides)
    return body


def staff_body(**overrides: Any) -> dict[str, Any]:
    """A member of the members service's staff directory (an account manager unless told)."""
    n = next(_seq)
    body = {"id": f"am-{n:05d}", "name": f"经理{n}", "work_phone": f"0571-8{n:07d}", "store_id": "S001",
            "role": "account_manager"}
    body.update(overrides)
    return body


def spend_line(amount: str, sku: str = "sofa-3p") -> dict[str, Any]:
    """One sale line worth exactly `amount` yuan (e.g. to push a member past the VIP threshold)."""
    return line(sku=sku, qty="1", unit_price=amount, name="三人沙发", category="furniture")


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    """`headers` with an `Idempotency-Key` (a new one unless given): what a request that books
    something (a manual entry, a visit) must carry."""
    return {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
