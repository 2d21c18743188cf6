"""What serialises one staff member's manual bookings, so that their daily cap holds under concurrency."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from shared.columns import UtcDateTime


class StaffBookingLockRow(SQLModel, table=True):
    """One row per staff member who books capped manual entries; locked (FOR UPDATE) for the whole
    transaction that counts their day's entries and books the next, so two parallel requests cannot
    both pass the cap on the same count. The count itself comes from the ledger."""

    __tablename__ = "staff_booking_lock"

    staff_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
