"""Rows of the members database, one module per area; `TABLES` lists what migrations own."""

from members.adapters.tables import analytics, core, infobase, privacy, staff
from members.adapters.tables.core import (
    CommunityAliasRow,
    CommunityRow,
    ConsentRow,
    HouseholdRow,
    MemberRow,
    PurchaseLineRow,
    PurchaseRow,
    RegistrationRequestRow,
    ReturnLineRow,
    ReturnRow,
)

TABLES = core.TABLES | infobase.TABLES | staff.TABLES | analytics.TABLES | privacy.TABLES

__all__ = [
    "TABLES", "CommunityAliasRow", "CommunityRow", "ConsentRow", "HouseholdRow", "MemberRow",
    "PurchaseLineRow", "PurchaseRow", "RegistrationRequestRow", "ReturnLineRow", "ReturnRow",
]
