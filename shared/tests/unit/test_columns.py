"""Exact money and aware times on SQLite as on PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.columns import MoneyColumn, Qty, UtcDateTime


def test_money_is_stored_in_fen_and_read_back_exactly() -> None:
    col = MoneyColumn()
    assert col.process_bind_param(Decimal("79.80"), None) == 7980
    assert col.process_result_value(7980, None) == Decimal("79.80")
    assert str(col.process_result_value(5, None)) == "0.05"


def test_money_refuses_sub_fen_amounts_instead_of_rounding() -> None:
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        MoneyColumn().process_bind_param(Decimal("0.001"), None)


def test_quantity_keeps_three_decimals() -> None:
    assert Qty().process_bind_param(Decimal("1.235"), None) == 1235
    assert Qty().process_result_value(1235, None) == Decimal("1.235")


def test_times_are_stored_in_utc_and_returned_aware() -> None:
    col = UtcDateTime()
    beijing = datetime(2026, 11, 23, 10, 15, tzinfo=timezone(timedelta(hours=8)))
    stored = col.process_bind_param(beijing, None)
    assert stored == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    assert col.process_result_value(stored.replace(tzinfo=None), None) == beijing


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(datetime(2026, 11, 23, 10, 15), None)
