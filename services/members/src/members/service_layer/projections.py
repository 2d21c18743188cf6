"""Read models and rules that follow every change of a member's spend.

`sales` calls these after a sale or return has been counted against a member, inside the same
transaction, so the information base, tiers and milestones are never out of step with the spend.
"""


from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow, ReturnLineRow, ReturnRow
from members.config import settings_of
from members.service_layer import infobase, tiers
from shared.unit_of_work import UnitOfWork


async def purchase_attributed(
    uow: UnitOfWork, member: MemberRow, purchase: PurchaseRow, lines: list[PurchaseLineRow], *, imported: bool = False
) -> None:
    """`imported`: a sale of the chain's past, loaded by an import (see `tiers`)."""
    await infobase.record_sale(uow.session, member, purchase, settings_of(uow).zone)
    await tiers.spend_grew(uow, member, uow.now(), imported=imported)


async def return_attributed(
    uow: UnitOfWork, member: MemberRow, purchase: PurchaseRow, ret: ReturnRow, lines: list[ReturnLineRow]
) -> None:
    await infobase.record_return(uow.session, member, purchase, ret, settings_of(uow).zone)
