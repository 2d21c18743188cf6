"""Event type -> handler map of the gateway: the sales an import of the chain's history recorded,
whose transaction ids it keeps with the tills' (`pos_purchases.record_imported`), and members'
erasures: the erased member's sales keep no card or phone digest (`pos_purchases.forget_customers`)
and their tokens are refused from then on."""

from typing import cast

from gateway.adapters.member_revocations import RevokedMembers
from gateway.config import Settings
from gateway.service_layer import member_sign_in, pos_purchases
from shared.clock import Clock
from shared.consumer import Delivery, Handler
from shared.events import contracts as c
from shared.events.registry import MEMBER_ERASED, MEMBER_SALES_ERASED, SALES_IMPORTED
from shared.unit_of_work import UnitOfWork


async def on_sales_imported(uow: UnitOfWork, delivery: Delivery) -> None:
    await pos_purchases.record_imported(uow, cast(c.SalesImportedV1, delivery.payload).sales)


async def on_member_sales_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    await pos_purchases.forget_customers(uow, cast(c.MemberSalesErasedV1, delivery.payload).sales)


def handlers(settings: Settings, clock: Clock, revoked: RevokedMembers | None = None) -> dict[str, Handler]:
    """`revoked`: the app's in-memory list the verifier consults (without it, only the table)."""
    found: dict[str, Handler] = {SALES_IMPORTED: on_sales_imported, MEMBER_SALES_ERASED: on_member_sales_erased}
    if not settings.identity_enabled:  # another issuer mints the tokens, and refuses them
        return found
    members = revoked if revoked is not None else RevokedMembers()

    async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
        erased = cast(c.MemberErasedV1, delivery.payload)
        await member_sign_in.on_member_erased(uow, erased.member_id, erased.erased_at, members)

    return {**found, MEMBER_ERASED: on_member_erased}
