"""Event handlers of the points service."""

import logging

from points.adapters.repository import AccountRepository
from points.domain.model import AlreadyBooked, points_for_sale
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    member: c.MemberRegisteredV1 = delivery.payload  # type: ignore[assignment]
    repo = AccountRepository(uow.session)
    account = await repo.get_or_open(member.member_id, channel=member.channel)
    account.channel = member.channel
    await repo.save(account)


async def on_purchase_attributed(uow: UnitOfWork, delivery: Delivery) -> None:
    sale: c.PurchaseAttributedV1 = delivery.payload  # type: ignore[assignment]
    source_ref = f"sale:{sale.store_id}/{sale.pos_txn_id}"
    repo = AccountRepository(uow.session)
    account = await repo.get_or_open(sale.member_id, source_refs=[source_ref])
    try:
        account.earn(
            points_for_sale(sale.total),
            reason=f"purchase {sale.store_id}/{sale.pos_txn_id}",
            source_ref=source_ref,
            source_event_id=sale.sale_event_id,
            at=sale.occurred_at,
        )
    except AlreadyBooked:
        log.warning("points for %s already booked; event %s ignored", source_ref, delivery.envelope.id)
        return
    await repo.save(account)
