"""Response bodies of the points API."""

from datetime import datetime

from pydantic import BaseModel


class LedgerEntryPublic(BaseModel):
    entry_type: str
    points: int
    balance_after: int
    reason: str
    source_ref: str
    occurred_at: datetime
    booked_at: datetime


class AccountPublic(BaseModel):
    member_id: str
    channel: str
    balance: int
    opened_at: datetime
    entries: list[LedgerEntryPublic]
