"""Building blocks every contract module uses."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from shared.identifiers import StoreId, TxnId

__all__ = ["EARLIEST_SALE", "Channel", "Contract", "Id", "SaleTime", "StoreId", "TxnId", "lines_add_up", "written_out"]

Channel = Literal["retail", "partner"]
# Opaque ids minted by the services (UUIDs); bounded so a bad producer cannot bloat rows.
Id = Field(min_length=1, max_length=64)


# No till sold anything before 1970: an earlier time is a misread or zeroed date, and it would
# become the customer's first purchase and stretch their buying rhythm.
EARLIEST_SALE = datetime(1970, 1, 1, tzinfo=UTC)

# Text of digits alone, maybe signed or with a fraction: what pydantic would read as seconds.
_DIGITS = re.compile(r"[+-]?\d+(\.\d*)?")


def written_out(value: Any) -> Any:
    """Before a sale time is read: pydantic would take a number, or text of digits alone, for
    seconds since 1970, and an old system's date 20190301 would become a sale of August 1970."""
    if isinstance(value, int | float | Decimal) or (isinstance(value, str) and _DIGITS.fullmatch(value.strip())):
        raise ValueError(f"{value!r} is a number, not a date and time such as 2026-12-04T10:15:00+08:00")
    return value


def _a_sale_time(value: datetime) -> datetime:
    if value < EARLIEST_SALE:
        raise ValueError(f"{value.isoformat()} is before 1970-01-01T00:00:00Z, not a time a till sold or took back anything")
    try:
        # Every consumer stores and compares times in UTC; one that cannot be expressed there
        # (year 9999 west of Greenwich) would fail each of them instead of the sender.
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} cannot be expressed in UTC") from None
    return value


# When a sale or return happened, with its UTC offset (one rule for the POS API, the events and
# every consumer of them).
SaleTime = Annotated[AwareDatetime, BeforeValidator(written_out), AfterValidator(_a_sale_time)]


class Contract(BaseModel):
    model_config = ConfigDict(extra="ignore")


def lines_add_up(total: Decimal, info: ValidationInfo) -> Decimal:
    """Field validator for a total declared after `lines`: reported on the total's own field."""
    lines = info.data.get("lines")
    if lines is None:  # the lines themselves were invalid and are reported on their own
        return total
    line_sum = sum((line.amount for line in lines), Decimal("0.00"))
    if line_sum != total:
        raise ValueError(f"{info.field_name} {total} does not equal the sum of line amounts {line_sum}")
    return total
