"""Rows of the points database."""

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel

from points.adapters.tables.gifts import GiftChangeRow, GiftPriceRow, GiftRow, GiftStockRow, RedemptionRow
from points.adapters.tables.ledger import (
    AccountRow,
    EarningRuleRow,
    ExpiryWarningRow,
    LedgerRow,
    LiabilitySnapshotRow,
    PendingReturnRow,
    SaleEarningRow,
)
from points.adapters.tables.manual import StaffBookingLockRow
from points.adapters.tables.services import (
    BulkBonusItemRow,
    BulkBonusJobRow,
    EntitlementGrantRow,
    EntitlementRow,
    EntitlementUseRow,
)
from shared.member_directory import TABLE as MEMBER_DIRECTORY
from shared.member_directory import MemberDirectoryRow
from shared.store_directory import TABLE as STORE_DIRECTORY
from shared.store_directory import StoreDirectoryRow  # noqa: F401  (registers the table)

TABLES = frozenset(
    {
        "points_account", "points_ledger", "sale_earning", "pending_return", "earning_rule", "expiry_warning",
        "gift", "gift_price", "gift_stock", "gift_redemption", "gift_change",
        "entitlement", "entitlement_grant", "entitlement_use", "bulk_bonus_job", "bulk_bonus_item",
        "staff_booking_lock", "liability_snapshot", MEMBER_DIRECTORY, STORE_DIRECTORY,
    }
)



def table_of(row: type[SQLModel]) -> Table:
    """The Core table behind a row class, for multi-row statements (SQLModel's `__table__` is
    invisible to type checkers)."""
    table = inspect(row).local_table
    assert isinstance(table, Table)
    return table


__all__ = [
    "TABLES", "AccountRow", "BulkBonusItemRow", "BulkBonusJobRow", "EarningRuleRow", "EntitlementGrantRow",
    "EntitlementRow", "EntitlementUseRow", "ExpiryWarningRow", "GiftChangeRow", "GiftPriceRow", "GiftRow", "GiftStockRow",
    "LedgerRow", "LiabilitySnapshotRow", "MemberDirectoryRow", "PendingReturnRow", "RedemptionRow", "SaleEarningRow", "StaffBookingLockRow",
    "table_of",
]
