"""Rows of the customer information base (客户信息库): its spend read model and community merges."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel, col

from members.adapters.tables.core import MemberRow
from shared.columns import MoneyColumn, UtcDateTime


class MemberDaySpendRow(SQLModel, table=True):
    """What one member spent in one store on one business day, net of what was later returned.

    Kept up to date by `service_layer.infobase` from every attributed sale and return, so the
    community ranking aggregates this small table instead of the purchase lines. The community and
    household are those of the member at the time of the sale (a later move does not rewrite history).
    """

    __tablename__ = "infobase_member_day"
    __table_args__ = (
        Index("ix_infobase_member_day_community_day", "community_id", "business_day"),
        Index("ix_infobase_member_day_store_day", "store_id", "business_day"),
        # Covering, so a date range is read from the index alone (PostgreSQL index-only scan).
        Index("ix_infobase_member_day_day", "business_day",
              postgresql_include=["community_id", "household_id", "spend", "purchases"]),
        Index("ix_infobase_member_day_household", "household_id"),
    )

    member_id: str = Field(primary_key=True, max_length=36)
    store_id: str = Field(primary_key=True, max_length=32)
    business_day: date = Field(primary_key=True)
    community_id: str = Field(max_length=36)
    household_id: str = Field(max_length=36)
    spend: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    purchases: int = 0
    last_purchase_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class HouseholdStoreSpendRow(SQLModel, table=True):
    """What one household spent in one store over all time, and in all stores (`store_id` "*").

    The all-time ranking (no dates) counts households from this table, one row per household and
    store, instead of grouping the day rows; kept by the same projection as `MemberDaySpendRow`.
    """

    __tablename__ = "infobase_household_store"
    # Covering, so the all-time ranking reads one store's (or "*") rows in community order from
    # the index alone and aggregates them without hashing.
    __table_args__ = (Index("ix_infobase_household_store_store_community", "store_id", "community_id",
                            postgresql_include=["spend", "purchases"]),)

    household_id: str = Field(primary_key=True, max_length=36)
    store_id: str = Field(primary_key=True, max_length=32)
    community_id: str = Field(max_length=36)
    spend: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    purchases: int = 0


class HouseholdMonthSpendRow(SQLModel, table=True):
    """What one household spent in one store (and in all stores, `store_id` "*") in one month of
    business days: the day rows of `MemberDaySpendRow` summed per month.

    A range of dates is answered from these rows for its whole months and from the day rows for
    the days before and after them (`infobase_queries`). `prev_day`, the household's last business
    day with a row before this month (in the same store, or any store for "*"), lets level 1 count
    buying households with a plain count, without grouping a year of rows by household: a row
    counts a household in a range starting on day `first` if `prev_day` is before `first`, i.e.
    the household did not buy in the range before this month.

    Kept in the same statements as the day rows (`service_layer.infobase.add_spend`), under the
    community and household the day rows themselves keep, so the months always equal the sum of
    their days; community merges rebuild the rows of the communities they touch.
    """

    __tablename__ = "infobase_household_month"
    __table_args__ = (
        # Covering, so level 1 reads a range of months of one store (or "*") from the index alone.
        Index("ix_infobase_household_month_scan", "store_id", "month",
              postgresql_include=["community_id", "prev_day", "spend", "purchases"]),
        # A household's months, to chain `prev_day` after a change.
        Index("ix_infobase_household_month_household", "household_id"),
    )

    store_id: str = Field(primary_key=True, max_length=32)
    month: date = Field(primary_key=True)  # the first day of the month
    community_id: str = Field(primary_key=True, max_length=36)
    household_id: str = Field(primary_key=True, max_length=36)
    spend: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    purchases: int = 0
    last_day: date  # the last business day of the month with a day row
    prev_day: date | None = None  # `last_day` of the household's previous month row, None if none


ALL_STORES = "*"


class CommunityMergeRow(SQLModel, table=True):
    """A community merged into another; the merged one's id keeps resolving to the survivor."""

    __tablename__ = "community_merge"

    from_community_id: str = Field(primary_key=True, max_length=36)
    into_community_id: str = Field(max_length=36, index=True)
    from_name: str = Field(max_length=100)
    merged_by: str = Field(max_length=64)
    merged_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


# Members per community for level 1, counted from the index alone; lives with the read models
# because only the information base needs it (migration 0003 creates it).
Index("ix_member_live_community", col(MemberRow.community_id),
      postgresql_where=col(MemberRow.erased_at).is_(None), sqlite_where=col(MemberRow.erased_at).is_(None))

TABLES = frozenset({"infobase_member_day", "infobase_household_store", "infobase_household_month", "community_merge"})
