"""Event type -> handler map of the gateway: the sales an import of the chain's history recorded,
whose transaction ids it keeps with the tills' (`pos_purchases.record_imported`); the sales and
returns tills published straight to Kafka, kept as if they had come through the API
(`pos_purchases.record_published`, `pos.record_published_refund`; its own it skips unread,
`OWN_SKIPPED`); and members' erasures: the erased member's sales keep no card or phone digest
(`pos_purchases.forget_customers`) and their tokens are refused from then on."""

from typing import cast

from gateway.adapters.member_revocations import RevokedMembers
from gateway.config import Settings
from gateway.service_layer import member_sign_in, pos, pos_purchases
from shared.clock import Clock
from shared.consumer import BatchHandler, Delivery, Handler
from shared.events import contracts as c
from shared.events.registry import MEMBER_ERASED, MEMBER_SALES_ERASED, PURCHASE_MADE, PURCHASE_REFUNDED, SALES_IMPORTED
from shared.unit_of_work import UnitOfWork

# The gateway publishes these itself, for the sales and returns it accepts: those it has kept.
OWN_SKIPPED = frozenset({PURCHASE_MADE, PURCHASE_REFUNDED})


async def on_sales_imported(uow: UnitOfWork, delivery: Delivery) -> None:
    await pos_purchases.record_imported(uow, cast(c.SalesImportedV1, delivery.payload).sales)


async def on_purchases_made(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    await pos_purchases.record_published(uow, [(d.envelope.id, cast(c.PurchaseMadeV1, d.payload)) for d in deliveries])


async def on_purchase_made(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_purchases_made(uow, [delivery])


async def on_purchase_refunded(uow: UnitOfWork, delivery: Delivery) -> None:
    await pos.record_published_refund(uow, delivery.envelope.id, cast(c.PurchaseRefundedV1, delivery.payload))


BATCH_HANDLERS: dict[str, BatchHandler] = {PURCHASE_MADE: on_purchases_made}


async def on_member_sales_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    await pos_purchases.forget_customers(uow, cast(c.MemberSalesErasedV1, delivery.payload).sales)


def handlers(settings: Settings, clock: Clock, revoked: RevokedMembers | None = None) -> dict[str, Handler]:
    """`revoked`: the app's in-memory list the verifier consults (without it, only the table)."""
    found: dict[str, Handler] = {
        SALES_IMPORTED: on_sales_imported, MEMBER_SALES_ERASED: on_member_sales_erased,
        PURCHASE_MADE: on_purchase_made, PURCHASE_REFUNDED: on_purchase_refunded,
    }
    if not settings.identity_enabled:  # another issuer mints the tokens, and refuses them
        return found
    members = revoked if revoked is not None else RevokedMembers()

    async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
        erased = cast(c.MemberErasedV1, delivery.payload)
        await member_sign_in.on_member_erased(uow, erased.member_id, erased.erased_at, members)

    return {**found, MEMBER_ERASED: on_member_erased}
