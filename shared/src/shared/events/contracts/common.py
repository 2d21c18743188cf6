"""Building blocks every contract module uses."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from shared.identifiers import StoreId, TxnId

__all__ = ["Channel", "Contract", "Id", "StoreId", "TxnId", "lines_add_up"]

Channel = Literal["retail", "partner"]
# Opaque ids minted by the services (UUIDs); bounded so a bad producer cannot bloat rows.
Id = Field(min_length=1, max_length=64)


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
