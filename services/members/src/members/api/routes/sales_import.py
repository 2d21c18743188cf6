"""Bulk import of a chain's past sales, a batch per request (`crm import-sales`)."""

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from members.api.import_schemas import ImportedRow, SalesImportIn, SalesImportOut
from members.domain.sales_import import RowStatus
from members.service_layer.sales_import import import_sales
from shared.authorize import Allowed
from shared.deps import CommandsDep
from shared.policy import Grant

router = APIRouter(prefix="/v1/sales", tags=["sales import"])


@router.post("/import")
async def import_sales_batch(
    body: SalesImportIn, commands: CommandsDep, _: Annotated[Grant, Allowed("members.sale.import")],
) -> SalesImportOut:
    """Records the batch in one transaction and answers each sale's outcome. Sending a batch again
    changes nothing: its sales are answered `present`. A dry run answers the same and records
    nothing, so a chain checks its whole history (reasons, unknown cards, the time zone) before an
    import that cannot be undone."""
    zone = ZoneInfo(body.local_time_zone) if body.local_time_zone else None
    if body.dry_run:
        async with commands(read_only=True) as uow:
            results = await import_sales(uow, body.sales, body.points, zone, dry_run=True)
    else:
        results = await commands.run(lambda uow: import_sales(uow, body.sales, body.points, zone), retry_on_conflict=True)
    counts = {status: sum(1 for r in results if r.status is status) for status in RowStatus}
    return SalesImportOut(
        imported=counts[RowStatus.IMPORTED], present=counts[RowStatus.PRESENT], rejected=counts[RowStatus.REJECTED],
        results=[ImportedRow(status=r.status, reason=r.reason) for r in results],
    )
