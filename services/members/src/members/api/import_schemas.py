"""Bodies of the import of past sales (`crm import-sales`)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from members.domain.sales_import import MAX_SALES_PER_BATCH, PointsMode, RowStatus
from shared.strict import StrictBool
from shared.zones import TimeZoneName


class SalesImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: PointsMode = Field(description="`none`: the sales earn nothing; `rule-at-time`: the earning rule in force at each sale's time")
    # Each sale is validated on its own (members.domain.sales_import.ImportedSale), so that one bad
    # sale is refused with its reason while the others of the batch are recorded.
    sales: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_SALES_PER_BATCH,
        description="store_id, pos_txn_id, occurred_at (with its UTC offset), card_no or phone or neither, lines and/or total, discount (taken off the total), payment",
    )
    local_time_zone: TimeZoneName | None = Field(
        default=None, description="The zone of times given without a UTC offset (e.g. Asia/Shanghai); without it they are refused",
    )
    dry_run: StrictBool = Field(
        default=False, description="Check the sales as an import would and record nothing: `imported` counts what it would record",
    )


class ImportedRow(BaseModel):
    status: RowStatus
    reason: str | None = Field(default=None, description="Why a rejected sale was refused: `field: reason`")


class SalesImportOut(BaseModel):
    imported: int
    present: int = Field(description="Sales whose POS transaction was recorded already (an earlier import, or live)")
    rejected: int
    results: list[ImportedRow] = Field(description="One per sale of the request, in its order")
